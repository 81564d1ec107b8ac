"""Signing in and out in a real Chromium, on a desktop and on a phone-sized screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from core.authorities.models import Role
from tests.conftest import assert_accessible
from tests.factories import PASSWORD, make_authority, make_member

pytestmark = pytest.mark.browser


def test_sign_in_browse_and_sign_out(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")
    make_member(
        session,
        authority,
        Role.admin,
        name="Sophie Lemaire",
        email="admin@val-de-brume.example.org",
    )
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    # A failed sign-in answers 401, which the console reports; scripts and CSP must not fail.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server}/")
    assert page.url.endswith("/login?next=%2F")
    assert page.locator("h1").inner_text() == "Connexion"
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "connexion-1440.png"), full_page=True)

    page.get_by_label("Adresse électronique").fill("admin@val-de-brume.example.org")
    page.get_by_label("Mot de passe").fill("mauvais mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    assert page.get_by_role("alert").inner_text() == (
        "Adresse électronique ou mot de passe incorrect."
    )
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text() == "Bonjour Sophie Lemaire"
    assert_accessible(page)

    page.get_by_role("link", name="Commune de Val-de-Brume").click()
    assert page.get_by_role("heading", name="Membres").is_visible()
    assert page.get_by_role("cell", name="admin@val-de-brume.example.org").is_visible()
    assert_accessible(page)
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "membres-1440.png"), full_page=True)

    page.get_by_role("button", name="Se déconnecter").click()
    assert page.get_by_role("status").inner_text() == "Vous êtes déconnecté·e."
    page.goto(f"{live_server}/account")
    assert "/login" in page.url
    assert errors == []  # no CSP violation or script error
    context.close()


def test_sign_in_on_a_phone(
    browser: Any, live_server: str, session: Session, screenshots_dir: Path, database_url: str
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume")
    make_member(
        session,
        authority,
        Role.approver,
        name="Hélène Durand",
        email="maire@val-de-brume.example.org",
    )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="fr-FR"
    )
    page = context.new_page()
    page.goto(f"{live_server}/login")
    if database_url.startswith("sqlite"):
        page.screenshot(path=str(screenshots_dir / "connexion-390.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Adresse électronique").fill("maire@val-de-brume.example.org")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").tap()
    page.wait_for_url(f"{live_server}/")
    assert page.get_by_text("Élu·e").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    context.close()
