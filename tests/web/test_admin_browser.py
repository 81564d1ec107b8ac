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
from core.config import Settings
from core.posts.models import PostStatus
from tests.conftest import SandboxServer, assert_accessible, make_settings
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_editorial,
    make_media,
    make_member,
    make_pillar,
    make_post,
)
from tests.web.helpers import sign_in_browser

pytestmark = pytest.mark.browser


def fits_a_phone(page: Any, screenshot: Path | None) -> None:
    """The page at 390 px wide: nothing wider than the screen, still accessible."""
    page.set_viewport_size({"width": 390, "height": 844})
    # What sticks out, to say which element is too wide when it fails.
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 8)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    assert_accessible(page)
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


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
    sign_in_browser(page, live_server, admin.email, "/a/val-de-brume/editorial")
    assert page.locator("h1").inner_text() == "Ligne éditoriale"
    assert "Parts visées des thématiques actives : 80 % sur 100 %." in page.inner_text("#pillars")
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "ligne-editoriale-1440.png"), full_page=True)
    fits_a_phone(page, None)

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

    # Deleting asks first; the confirmation page is accessible too.
    page.get_by_role("link", name="Supprimer Culture").click()
    assert page.locator("h1").inner_text() == "Supprimer « Culture » ?"
    assert_accessible(page)
    page.get_by_role("button", name="Supprimer définitivement").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/editorial#pillars")
    assert "Culture" not in page.inner_text("#pillars")
    assert "Culture" not in balance(live_server, headers)
    context.close()


@pytest.fixture
def settings(database_url: str, sandbox_server: SandboxServer, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        sandbox_url=sandbox_server.url,
        network_timeout_seconds=5,
        data_dir=tmp_path / "data",
    )


def test_the_admin_connects_a_sandbox_account_and_adds_a_slot(
    browser: Any,
    live_server: str,
    session: Session,
    settings: Settings,
    screenshots_dir: Path,
    database_url: str,
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    admin = make_member(session, authority, Role.admin, name="Sophie Lemaire")
    make_member(session, authority, Role.editor, name="Camille Martin")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page = context.new_page()
    sign_in_browser(page, live_server, admin.email, "/a/val-de-brume/accounts")
    assert page.locator("h1").inner_text() == "Comptes connectés"

    # Keyboard and mouse alike: open the section, fill the form.
    page.get_by_text("Un compte du bac à sable (pour s'entraîner)").click()
    page.get_by_label("Réseau").first.select_option("mastodon")
    page.locator("#sandbox-name").fill("Val-de-Brume sur Mastodon")
    page.get_by_role("button", name="Créer le compte du bac à sable").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/accounts#comptes")
    card = page.locator(".account-card").first
    assert "Val-de-Brume sur Mastodon" in card.inner_text()
    assert "En bon état" in card.inner_text()
    page.get_by_text("Un canal manuel (PanneauPocket, IntraMuros, site web…)").click()
    page.locator("#manual-name").fill("PanneauPocket")
    page.get_by_label("Personne chargée de publier").select_option(label="Camille Martin")
    page.get_by_role("button", name="Ajouter le canal").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/accounts#comptes")

    mastodon = page.locator(".account-card", has_text="Val-de-Brume sur Mastodon")
    mastodon.get_by_label("Jour", exact=True).select_option("1")
    mastodon.get_by_label("Heure", exact=True).fill("12:15")
    mastodon.get_by_role("button", name="Ajouter le créneau").click()
    page.wait_for_load_state()
    mastodon = page.locator(".account-card", has_text="Val-de-Brume sur Mastodon")
    assert "mardi 12:15" in mastodon.locator(".slot-list").inner_text()
    feed = mastodon.get_by_role("link", name="Fil du bac à sable Val-de-Brume sur Mastodon")
    assert feed.get_attribute("href").startswith(f"{settings.sandbox_base_url}/mastodon/feed/")
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "comptes-1440.png"), full_page=True)
    fits_a_phone(
        page, screenshots_dir / "comptes-390.png" if database_url.startswith("sqlite") else None
    )
    page.get_by_role("link", name="Supprimer PanneauPocket").click()
    assert page.locator("h1").inner_text() == (
        "Supprimer le compte « PanneauPocket » (Canal manuel) ?"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Supprimer définitivement").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/accounts#comptes")
    assert page.locator(".account-card").count() == 1
    context.close()


def test_the_admin_sets_colours_zone_and_logo(
    browser: Any,
    live_server: str,
    session: Session,
    settings: Settings,
    screenshots_dir: Path,
    database_url: str,
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    admin = make_member(session, authority, Role.admin, name="Sophie Lemaire")
    make_media(session, settings, authority, alt_text="Blason de Val-de-Brume")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page = context.new_page()
    sign_in_browser(page, live_server, admin.email, "/a/val-de-brume/settings")
    assert page.locator("h1").inner_text() == "Paramètres"
    page.get_by_label("Zone de vacances scolaires").select_option("B")
    page.get_by_label("Blason de Val-de-Brume").check()
    page.get_by_role("button", name="Enregistrer les paramètres").click()
    page.wait_for_url(f"{live_server}/a/val-de-brume/settings?done=saved#collectivite")
    assert page.get_by_role("status").inner_text() == "Paramètres enregistrés."
    assert page.get_by_label("Zone de vacances scolaires").input_value() == "B"
    assert page.get_by_role("img", name="Blason de Val-de-Brume").count() == 1
    page.get_by_role("button", name="Créer mon lien d'agenda").click()
    assert "/calendar.ics?token=" in page.locator("#feed-url").inner_text()
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "parametres-1440.png"), full_page=True)
    fits_a_phone(page, None)
    context.close()
    session.rollback()
    session.refresh(authority)
    assert authority.settings["school_zone"] == "B"
    assert authority.logo_media_id is not None
