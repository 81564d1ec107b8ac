"""The administration pages in a real Chromium: the admin edits a pillar's target share and the
calendar's balance follows; the accounts and settings pages are usable and accessible."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from core.authorities.models import Role
from core.posts.models import PostStatus
from tests.conftest import assert_accessible
from tests.factories import (
    PASSWORD,
    bearer,
    make_account,
    make_authority,
    make_editorial,
    make_member,
    make_pillar,
    make_post,
)

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: str, email: str, path: str) -> None:
    page.goto(f"{live_server}{path}")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}{path}")


def balance(live_server: str, headers: dict[str, str]) -> dict[str, int]:
    answer = httpx.get(
        f"{live_server}/api/v1/authorities/val-de-brume/calendar?month=2026-12", headers=headers
    )
    assert answer.status_code == 200, answer.text
    return {m["name"]: m["target_share"] for m in answer.json()["pillar_mix"]}


def test_the_admin_edits_a_pillar_share_and_the_calendar_balance_follows(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    admin = make_member(session, authority, Role.admin, Role.editor, name="Sophie Lemaire")
    make_member(session, authority, Role.approver, name="Hélène Durand")
    account = make_account(session, authority, name="Val-de-Brume")
    make_editorial(session, authority, targets=[account])
    works = make_pillar(session, authority, name="Travaux", color="#e76f51", target_share=40)
    make_pillar(session, authority, name="Culture", color="#6a4c93", target_share=30)
    make_post(
        session,
        authority,
        targets=[account],
        pillar_id=works.id,
        status=PostStatus.approved,
        scheduled_at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
    )
    headers = bearer(session, admin)
    assert balance(live_server, headers)["Travaux"] == 40

    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page = context.new_page()
    sign_in(page, live_server, admin.email, "/a/val-de-brume/editorial")
    assert page.locator("h1").inner_text() == "Ligne éditoriale"
    assert "Parts visées des thématiques actives : 80 % sur 100 %." in page.inner_text("#pillars")
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "ligne-editoriale-1440.png"), full_page=True)

    page.get_by_role("link", name="Modifier Travaux").click()
    share = page.get_by_label("Part visée du mois (%)")
    assert share.input_value() == "40"
    assert_accessible(page)
    share.fill("80")
    page.get_by_role("button", name="Enregistrer").click()
    # Over 100 %: the French sentence, the typed value kept, nothing saved.
    assert "Indiquez au plus 60 %" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Part visée du mois (%)").input_value() == "80"
    assert balance(live_server, headers)["Travaux"] == 40

    page.get_by_label("Part visée du mois (%)").fill("25")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/editorial#pillars")
    assert "Parts visées des thématiques actives : 65 % sur 100 %." in page.inner_text("#pillars")
    assert balance(live_server, headers)["Travaux"] == 25
    context.close()
