"""The approval link in a real Chromium on a phone-sized screen: readable, accessible, and one
tap approves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from core.authorities.models import Role
from core.config import Settings
from core.posts import approvals
from core.posts.models import Post, PostStatus
from tests.conftest import assert_accessible, reload
from tests.factories import make_account, make_authority, make_member, make_post

pytestmark = pytest.mark.browser


def test_one_tap_approval_on_a_phone(
    browser: Any,
    live_server: str,
    session: Session,
    settings: Settings,
    screenshots_dir: Path,
    database_url: str,
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    mayor = make_member(session, authority, Role.approver, name="Hélène Durand")
    account = make_account(session, authority, name="Val-de-Brume")
    post = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.in_review,
        text="Travaux rue des Tilleuls du 3 au 7 : déviation par la place du marché. "
        "#ruedestilleuls",
    )
    token = approvals.issue(session, settings, post=post, user=mayor)
    session.commit()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server}/approval/{token}")
    assert page.locator("h1").inner_text() == "Publication à valider"
    assert "déviation par la place du marché" in page.locator(".post-preview-text").inner_text()
    # The rules' warnings, as in the inbox.
    assert "#ruedestilleuls" in page.locator(".findings-warning").inner_text()
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "validation-390.png"), full_page=True)
    reload(session, post)
    assert post.status == PostStatus.in_review  # opening the page decided nothing

    page.get_by_role("button", name="Approuver").click()
    page.wait_for_url(f"{live_server}/approval/done?decision=approved")
    assert page.get_by_role("status").inner_text().startswith("Merci : la publication est validée")
    assert_accessible(page)
    context.close()
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.approved_by_id == mayor.id
    assert isinstance(post, Post)
