from __future__ import annotations

import html

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.authorities.models import Role
from tests.factories import bearer, make_authority, make_member, make_user


def test_unknown_path_and_wrong_method_answer_in_french(client: TestClient) -> None:
    missing = client.get("/api/v1/nulle-part")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "Cette adresse n'existe pas."}

    wrong = client.put("/api/v1/me")
    assert wrong.status_code == 405
    assert wrong.json()["detail"] == "Cette méthode n'est pas permise à cette adresse."


def test_validation_errors_name_the_field_in_french(client: TestClient, session: Session) -> None:
    headers = bearer(session, make_user(session, is_superuser=True))
    response = client.post("/api/v1/authorities", json={"name": 12, "slug": None}, headers=headers)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    fields = {e["field"]: e["detail"] for e in body["errors"]}
    assert fields["name"] == "Le champ « name » doit être un texte."
    assert fields["slug"] == "Le champ « slug » doit être un texte."
    assert body["detail"] == body["errors"][0]["detail"]

    empty = client.post("/api/v1/authorities", headers=headers)
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Le corps de la requête est vide : envoyez un objet JSON."

    bad_path = client.delete("/api/v1/me/tokens/abc", headers=headers)
    assert bad_path.status_code == 422
    assert bad_path.json()["detail"] == "Le champ « token_id » doit être un nombre entier."


def test_pages_show_errors_as_french_pages(client: TestClient) -> None:
    response = client.get("/cette-page-n-existe-pas", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Page introuvable" in response.text
    assert "Cette adresse n'existe pas." in html.unescape(response.text)


def test_every_answer_carries_security_headers(client: TestClient) -> None:
    for path in ("/login", "/api/v1/me", "/healthz"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_ids_beyond_32_bits_name_nothing(client: TestClient, session: Session) -> None:
    """PostgreSQL ids are 32-bit: a larger number in any path is a clear 422, never a 500."""
    town = make_authority(session)
    user = make_member(session, town, Role.admin)
    headers = bearer(session, user)
    huge = 2**31
    for path in (
        f"/api/v1/authorities/{town.slug}/accounts/{huge}",
        f"/api/v1/authorities/{town.slug}/media/{huge}",
        f"/api/v1/authorities/{town.slug}/members/{huge}",
        f"/api/v1/authorities/{town.slug}/pillars/{huge}",
        f"/api/v1/posts/{huge}",
    ):
        response = client.get(path, headers=headers)
        assert response.status_code == 422, path
        assert response.json()["error"] == "invalid", path
    revoke = client.delete(f"/api/v1/me/tokens/{huge}", headers=headers)
    assert revoke.status_code == 422
    # The largest 32-bit id is simply unknown.
    assert client.get(f"/api/v1/posts/{huge - 1}", headers=headers).status_code == 404
