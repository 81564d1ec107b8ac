from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from core.authorities.models import Role
from tests.factories import PASSWORD, bearer, make_authority, make_member, make_user


def test_token_then_me_lists_authorities_and_roles(client: TestClient, session: Session) -> None:
    brive = make_authority(session, name="Ville de Brive", slug="brive")
    tulle = make_authority(session, name="Ville de Tulle", slug="tulle")
    user = make_member(session, brive, Role.admin, Role.approver, email="maire@brive.example.org")
    make_member(session, tulle, Role.editor)  # someone else, elsewhere

    response = client.post(
        "/api/v1/auth/token", data={"username": "Maire@Brive.example.org ", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["access_token"].startswith("bfr_")

    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    body = me.json()
    assert body["email"] == user.email
    assert body["memberships"] == [
        {
            "authority_id": brive.id,
            "slug": "brive",
            "name": "Ville de Brive",
            "roles": ["admin", "approver"],
        }
    ]


def test_wrong_password_is_a_french_401(client: TestClient, session: Session) -> None:
    make_user(session, email="agent@mairie.example.org")
    response = client.post(
        "/api/v1/auth/token", data={"username": "agent@mairie.example.org", "password": "faux"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_credentials",
        "detail": "Adresse électronique ou mot de passe incorrect.",
    }
    unknown = client.post(
        "/api/v1/auth/token", data={"username": "personne@nulle.part", "password": "faux"}
    )
    assert unknown.json() == response.json()  # no hint about who has an account


def test_me_without_or_with_bad_token(client: TestClient) -> None:
    missing = client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "connectez-vous" in missing.json()["detail"]

    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer bfr_nimportequoi"})
    assert bad.status_code == 401
    assert "inconnu, expiré ou révoqué" in bad.json()["detail"]

    basic = client.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert basic.status_code == 401
    assert "Bearer" in basic.json()["detail"]


def test_tokens_are_listed_and_revocable(client: TestClient, session: Session) -> None:
    user = make_user(session)
    first = bearer(session, user)
    issued = client.post(
        "/api/v1/auth/token", data={"username": user.email, "password": PASSWORD, "name": "tableur"}
    ).json()
    second = {"Authorization": f"Bearer {issued['access_token']}"}

    listed = client.get("/api/v1/me/tokens", headers=first).json()
    assert [t["name"] for t in listed] == ["tableur", ""]
    assert all("access_token" not in t and "token_hash" not in t for t in listed)

    assert client.delete(f"/api/v1/me/tokens/{issued['id']}", headers=first).status_code == 204
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert client.get("/api/v1/me", headers=first).status_code == 200
    revoked = [t for t in client.get("/api/v1/me/tokens", headers=first).json() if t["revoked_at"]]
    assert [t["id"] for t in revoked] == [issued["id"]]


def test_cannot_revoke_someone_elses_token(client: TestClient, session: Session) -> None:
    alice, bob = make_user(session), make_user(session)
    alice_headers = bearer(session, alice)
    bob_token = client.post(
        "/api/v1/auth/token", data={"username": bob.email, "password": PASSWORD}
    ).json()
    response = client.delete(f"/api/v1/me/tokens/{bob_token['id']}", headers=alice_headers)
    assert response.status_code == 404
    bob_headers = {"Authorization": f"Bearer {bob_token['access_token']}"}
    assert client.get("/api/v1/me", headers=bob_headers).status_code == 200


def test_expired_token_is_refused(client: TestClient, session: Session) -> None:
    user = make_user(session)
    headers = bearer(session, user)
    with clock.frozen(clock.now() + timedelta(days=2)):
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_throttling_slows_then_locks(client: TestClient, session: Session) -> None:
    make_user(session, email="cible@mairie.example.org")
    start = clock.now()
    with clock.frozen(start) as move_to:

        def attempt(password: str = "mauvais") -> int:
            return client.post(
                "/api/v1/auth/token",
                data={"username": "cible@mairie.example.org", "password": password},
            ).status_code

        assert [attempt() for _ in range(5)] == [401] * 5
        # The sixth try comes too soon: refused without even checking the password.
        slowed = client.post(
            "/api/v1/auth/token",
            data={"username": "cible@mairie.example.org", "password": PASSWORD},
        )
        assert slowed.status_code == 429
        assert slowed.headers["retry-after"] == "2"
        assert "patientez 2 s" in slowed.json()["detail"]

        seconds = 0
        for _ in range(5):  # waits long enough each time, still fails, until the lockout
            seconds += 130
            move_to(start + timedelta(seconds=seconds))
            assert attempt() == 401
        seconds += 130
        move_to(start + timedelta(seconds=seconds))
        locked = client.post(
            "/api/v1/auth/token",
            data={"username": "cible@mairie.example.org", "password": PASSWORD},
        )
        assert locked.status_code == 429
        assert "bloquée pendant 13 min" in locked.json()["detail"]

        move_to(start + timedelta(seconds=seconds + 15 * 60))
        assert attempt(PASSWORD) == 200
        assert attempt() == 401  # a success clears the count: back to plain failures


def test_throttling_by_address_protects_every_account(client: TestClient, session: Session) -> None:
    victim = make_user(session)
    with clock.frozen(clock.now()):
        for n in range(5):
            client.post(
                "/api/v1/auth/token",
                data={"username": f"essai{n}@mairie.example.org", "password": "mauvais"},
            )
        response = client.post(
            "/api/v1/auth/token", data={"username": victim.email, "password": PASSWORD}
        )
    assert response.status_code == 429
