from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.authorities.models import Role
from core.users.models import AccessToken, TokenKind
from tests.conftest import reload
from tests.factories import PASSWORD, make_authority, make_member, make_user
from tests.web.helpers import csrf_of, sign_in, text_of


def test_login_page_is_french_and_protected(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Connexion" in page.text
    assert "Adresse électronique" in page.text
    assert 'name="csrf_token"' in page.text
    cookie = page.headers["set-cookie"]
    assert "beffroi_csrf=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


def test_anonymous_pages_redirect_to_sign_in(client: TestClient) -> None:
    response = client.get("/account?onglet=jetons", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Fonglet%3Djetons"


def test_sign_in_opens_a_session_and_sign_out_ends_it(client: TestClient, session: Session) -> None:
    authority = make_authority(session, name="Ville de Figeac")
    user = make_member(session, authority, Role.approver, name="Hélène Durand")

    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(client),
            "next": "/account",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("beffroi_session=")
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert "Secure" not in session_cookie  # the public URL is http in tests

    home = client.get("/")
    assert home.status_code == 200
    assert "Bonjour Hélène Durand" in home.text
    assert "Ville de Figeac" in home.text
    assert "Élu·e" in home.text

    stolen = client.cookies.get("beffroi_session")
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303
    # The old cookie, replayed, no longer opens anything: the session ended on the server.
    client.cookies.set("beffroi_session", stolen)
    assert client.get("/", follow_redirects=False).status_code == 303
    stored = session.exec(select(AccessToken).where(AccessToken.kind == TokenKind.session)).one()
    assert stored.revoked_at is not None


def test_forms_without_the_csrf_token_are_refused(client: TestClient, session: Session) -> None:
    user = make_user(session)
    client.get("/login")
    forged = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert "Rechargez la page" in text_of(forged.text)

    sign_in(client, user.email)
    token = csrf_of(client, "/")
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")
    wrong = client.post("/logout", data={"csrf_token": tampered}, follow_redirects=False)
    assert wrong.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_csrf_token_from_before_sign_in_does_not_work_after(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    before = csrf_of(client)
    sign_in(client, user.email)
    response = client.post("/logout", data={"csrf_token": before}, follow_redirects=False)
    assert response.status_code == 403


def test_cookie_session_on_the_api_needs_the_csrf_header(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session)
    admin = make_member(session, authority, Role.admin)
    sign_in(client, admin.email)
    assert client.get("/api/v1/me").json()["email"] == admin.email
    url = f"/api/v1/authorities/{authority.slug}"
    refused = client.patch(url, json={"name": "Piratée"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf_failed"
    accepted = client.patch(
        url, json={"name": "Renommée"}, headers={"X-CSRF-Token": csrf_of(client, "/")}
    )
    assert accepted.status_code == 200


def test_failed_sign_in_says_why_and_keeps_the_address(
    client: TestClient, session: Session
) -> None:
    user = make_user(session)
    response = client.post(
        "/login",
        data={"email": user.email, "password": "mauvais", "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in text_of(response.text)
    assert f'value="{user.email}"' in response.text


def test_next_cannot_send_people_elsewhere(client: TestClient, session: Session) -> None:
    user = make_user(session)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(client),
            "next": "//attaquant.example.com/piege",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_english_is_available(client: TestClient, session: Session) -> None:
    english = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in english.text
    assert "Sign in" in english.text
    assert "Email address" in english.text

    user = make_user(session)
    sign_in(client, user.email)
    client.post(
        "/language", data={"locale": "en", "next": "/account", "csrf_token": csrf_of(client, "/")}
    )
    page = client.get("/account", headers={"Accept-Language": "fr"})
    assert "My account" in page.text
    assert "API access tokens" in page.text
    reload(session, user)
    assert user.locale == "en"


def test_api_tokens_from_the_account_page(client: TestClient, session: Session) -> None:
    user = make_user(session)
    sign_in(client, user.email)
    created = client.post(
        "/account/tokens", data={"name": "import", "csrf_token": csrf_of(client, "/account")}
    )
    assert created.status_code == 200
    raw = re.search(r'id="new-token">(bfr_[^<]+)<', created.text)
    assert raw is not None
    headers = {"Authorization": f"Bearer {raw.group(1)}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    token_id = client.get("/api/v1/me/tokens", headers=headers).json()[0]["id"]
    client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(client, "/account")}
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "révoqué" in client.get("/account").text
