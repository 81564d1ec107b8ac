"""The monthly report in a real Chromium, as printed on A4, and the reach page: accessible,
keyboard usable, and screenshotted into docs/screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from core.authorities.models import Role
from tests.conftest import assert_accessible
from tests.core.reach import world
from tests.factories import make_member
from tests.web.helpers import sign_in_browser

pytestmark = pytest.mark.browser

# A4 at 96 dots per inch: 210 × 297 mm.
A4 = {"width": 794, "height": 1123}


def signed_in_page(browser: Any, live_server: str, email: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport=A4, locale="fr-FR")
    page = context.new_page()
    sign_in_browser(page, live_server, email)
    return context, page


def test_monthly_report_prints_on_a4(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    town = world.build(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    mayor = make_member(session, town.authority, Role.approver, email="maire@val-de-brume.fr")
    context, page = signed_in_page(browser, live_server, mayor.email)

    page.goto(f"{live_server}/a/val-de-brume/report?month=2026-11")
    assert page.locator("h1").inner_text() == ("Bilan de la communication numérique, novembre 2026")
    assert_accessible(page)
    page.emulate_media(media="print")
    # Printed: no site header, no navigation, no tools; the report alone.
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".authority-nav").is_visible()
    assert not page.get_by_text("Exporter les chiffres (CSV)").is_visible()
    assert page.get_by_role("heading", name="Les faits marquants").is_visible()
    assert page.get_by_role("img", name="Interactions par réseau").is_visible()
    # Nothing wider than the A4 page.
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= A4["width"]
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "bilan-mensuel-a4.png"), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
    context.close()


def test_reach_page_is_accessible_and_keyboard_usable(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    town = world.build(session, name="Commune de Val-de-Brume", slug="val-de-brume").authority
    editor = make_member(session, town, Role.editor, email="com@val-de-brume.fr")
    context, page = signed_in_page(browser, live_server, editor.email)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/a/val-de-brume/reach?from=2026-11-01&to=2026-11-30")
    assert_accessible(page)
    # The period form by keyboard alone.
    page.get_by_label("Regrouper par").focus()
    page.keyboard.press("End")  # the last grouping: account
    page.get_by_role("button", name="Afficher").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**by=account**")
    assert page.get_by_role("img", name="Interactions par compte").is_visible()
    assert "non fourni" in page.locator("table.table-figures").inner_text()
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "portee.png"), full_page=True)
    context.close()
