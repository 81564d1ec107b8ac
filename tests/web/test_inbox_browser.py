"""The approval inbox in a real Chromium on a 390x844 phone: the elected official signs in, reads
the post as it will appear with its warning, and approves in one tap."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from core import clock
from core.authorities.models import Role
from core.posts.models import PostStatus
from tests.conftest import assert_accessible, reload
from tests.factories import (
    PASSWORD,
    make_account,
    make_authority,
    make_member,
    make_pillar,
    make_post,
)

pytestmark = pytest.mark.browser


def test_the_elected_official_approves_from_the_inbox_on_a_phone(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    mayor = make_member(
        session, authority, Role.approver, name="Hélène Durand", email="maire@vdb.example.org"
    )
    editor = make_member(session, authority, Role.editor, name="Camille Martin")
    pillar = make_pillar(session, authority, name="Vie locale", color="#2a9d8f")
    mastodon = make_account(
        session, authority, name="Val-de-Brume", handle="@valdebrume@mastodon.example"
    )
    facebook = make_account(session, authority, network="facebook", name="Mairie de Val-de-Brume")
    when = clock.now() + timedelta(days=3)
    post = make_post(
        session,
        authority,
        targets=[mastodon, facebook],
        author=editor,
        pillar_id=pillar.id,
        status=PostStatus.in_review,
        scheduled_at=when,
        text="Fête de la musique samedi : scènes ouvertes place du marché dès 18 h. "
        "#fetedelamusique",
    )
    other = make_post(
        session,
        authority,
        targets=[mastodon],
        author=editor,
        status=PostStatus.in_review,
        scheduled_at=when + timedelta(days=1),
        text="Le marché de producteurs revient dimanche matin sur la place de la mairie.",
    )

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server}/a/val-de-brume/approvals")
    page.get_by_label("Adresse électronique").fill(mayor.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/approvals")
    assert page.locator("h1").inner_text() == "À valider"
    first = page.locator(f"#publication-{post.id}")
    assert (
        "scènes ouvertes place du marché" in first.locator(".post-preview-text").first.inner_text()
    )
    assert first.locator(".post-preview").count() == 2  # Mastodon and Facebook
    assert "#fetedelamusique" in first.locator(".findings-warning").inner_text()
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "a-valider-390.png"), full_page=True)

    first.get_by_role("button", name="Approuver").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/approvals?done=approved")
    assert page.get_by_role("status").inner_text() == (
        "Publication validée : elle partira à l'heure prévue."
    )
    assert page.locator(f"#publication-{post.id}").count() == 0
    assert page.locator(f"#publication-{other.id}").count() == 1
    assert_accessible(page)

    # The keyboard alone: write the comment, Tab to "Demander des modifications", Enter.
    second = page.locator(f"#publication-{other.id}")
    second.get_by_label("Votre commentaire").focus()
    page.keyboard.type("Indiquez aussi l'horaire de fin du marché.")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Demander des modifications"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/a/val-de-brume/approvals?done=changes_requested")
    assert "Demande de modifications envoyée" in page.get_by_role("status").inner_text()
    context.close()
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.approved_by_id == mayor.id
    reload(session, other)
    assert other.status == PostStatus.draft
