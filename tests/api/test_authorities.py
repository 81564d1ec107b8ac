from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from beffroi.app import create_app
from core.authorities.models import Authority, Role
from core.mail.models import OutboundEmail
from core.users.models import User
from tests.conftest import Mailbox, make_settings
from tests.factories import bearer, make_authority, make_member, make_user


def test_operator_creates_an_authority(client: TestClient, session: Session) -> None:
    operator = make_user(session, is_superuser=True)
    response = client.post(
        "/api/v1/authorities",
        json={"name": "Saint-Denis", "slug": "saint-denis", "timezone": "Indian/Reunion"},
        headers=bearer(session, operator),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "saint-denis"
    assert body["timezone"] == "Indian/Reunion"
    assert body["kind"] == "commune"
    assert (
        client.get("/api/v1/authorities", headers=bearer(session, operator)).json()[0]["slug"]
        == "saint-denis"
    )


def test_only_operators_create_authorities(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    admin = make_member(session, authority, Role.admin)
    response = client.post(
        "/api/v1/authorities",
        json={"name": "Autre", "slug": "autre", "timezone": "Europe/Paris"},
        headers=bearer(session, admin),
    )
    assert response.status_code == 403
    assert "opérateur de la plateforme" in response.json()["detail"]
    assert session.exec(select(Authority).where(Authority.slug == "autre")).first() is None


def test_bad_authority_input_gets_precise_french_errors(
    client: TestClient, session: Session
) -> None:
    headers = bearer(session, make_user(session, is_superuser=True))
    make_authority(session, slug="prise")

    cases = [
        ({"name": "A", "slug": "prise", "timezone": "Europe/Paris"}, 409, "déjà pris"),
        (
            {"name": "A", "slug": "Avec Espaces", "timezone": "Europe/Paris"},
            422,
            "identifiant court",
        ),
        ({"name": "A", "slug": "ok-slug", "timezone": "Europe/Lutece"}, 422, "fuseau horaire"),
        (
            {"name": "   ", "slug": "ok-slug", "timezone": "Europe/Paris"},
            422,
            "ne peut pas être vide",
        ),
        ({"slug": "ok-slug", "timezone": "Europe/Paris"}, 422, "« name » est obligatoire"),
        ({"name": "A", "slug": "ok-slug", "kind": "royaume"}, 422, "l'une de ces valeurs"),
    ]
    for payload, status, words in cases:
        response = client.post("/api/v1/authorities", json=payload, headers=headers)
        assert response.status_code == status, (payload, response.text)
        assert words in response.json()["detail"], (payload, response.json())
    invalid_json = client.post(
        "/api/v1/authorities",
        content=b"{pas du json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert invalid_json.status_code == 422
    assert "JSON" in invalid_json.json()["detail"]
    assert session.exec(select(Authority)).all()[0].slug == "prise"  # nothing half-written


def test_admin_updates_settings_but_editor_cannot(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    admin = make_member(session, authority, Role.admin)
    editor = make_member(session, authority, Role.editor)
    url = f"/api/v1/authorities/{authority.slug}"

    denied = client.patch(url, json={"name": "Nouveau nom"}, headers=bearer(session, editor))
    assert denied.status_code == 403
    assert "administrateurs" in denied.json()["detail"]

    response = client.patch(
        url,
        json={
            "name": "Ville de Brive-la-Gaillarde",
            "brand_primary": "#AA3300",
            "timezone": "America/Cayenne",
        },
        headers=bearer(session, admin),
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Ville de Brive-la-Gaillarde"
    assert response.json()["brand_primary"] == "#aa3300"
    assert response.json()["timezone"] == "America/Cayenne"
    bad_colour = client.patch(url, json={"brand_primary": "rouge"}, headers=bearer(session, admin))
    assert bad_colour.status_code == 422
    assert "hexadécimal" in bad_colour.json()["detail"]


def test_admin_invites_a_new_person_by_email(client: TestClient, session: Session) -> None:
    authority = make_authority(session, name="Ville de Tulle")
    admin = make_member(session, authority, Role.admin, name="Claire Admin")
    response = client.post(
        f"/api/v1/authorities/{authority.slug}/members",
        json={
            "email": "Nouvel.Agent@Tulle.example.org",
            "name": "Nouvel Agent",
            "roles": ["contributor", "approver"],
        },
        headers=bearer(session, admin),
    )
    assert response.status_code == 201, response.text
    member = response.json()
    assert member["email"] == "nouvel.agent@tulle.example.org"
    assert member["roles"] == ["approver", "contributor"]
    assert member["invited"] is True

    outbox = session.exec(select(OutboundEmail)).all()
    assert [(e.to_address, e.template) for e in outbox] == [
        ("nouvel.agent@tulle.example.org", "invitation")
    ]
    assert outbox[0].context["link"].startswith("http://testserver/invitation/")
    assert outbox[0].context["inviter"] == "Claire Admin"


def test_adding_an_existing_person_and_duplicates(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    admin_headers = bearer(session, make_member(session, authority, Role.admin))
    elsewhere = make_user(session, email="deja@mairie.example.org")
    url = f"/api/v1/authorities/{authority.slug}/members"

    added = client.post(
        url, json={"email": elsewhere.email, "role": "editor"}, headers=admin_headers
    )
    assert added.status_code == 201
    assert added.json()["invited"] is False
    again = client.post(
        url, json={"email": elsewhere.email, "role": "editor"}, headers=admin_headers
    )
    assert again.status_code == 409
    assert "déjà membre" in again.json()["detail"]

    no_role = client.post(url, json={"email": "x@mairie.example.org"}, headers=admin_headers)
    assert no_role.status_code == 422
    assert "au moins un rôle" in no_role.json()["detail"]
    bad_role = client.post(
        url, json={"email": "x@mairie.example.org", "role": "maire"}, headers=admin_headers
    )
    assert bad_role.status_code == 422
    bad_email = client.post(
        url, json={"email": "pas-une-adresse", "role": "editor"}, headers=admin_headers
    )
    assert bad_email.status_code == 422
    assert "adresse électronique valide" in bad_email.json()["detail"]
    short = client.post(
        url,
        json={"email": "y@mairie.example.org", "role": "editor", "password": "court"},
        headers=admin_headers,
    )
    assert short.status_code == 422
    assert "10 caractères" in short.json()["detail"]
    assert session.exec(select(User).where(User.email == "y@mairie.example.org")).first() is None


def test_roles_change_and_the_last_admin_stays(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    admin = make_member(session, authority, Role.admin)
    headers = bearer(session, admin)
    url = f"/api/v1/authorities/{authority.slug}/members"
    members = {m["user_id"]: m for m in client.get(url, headers=headers).json()}
    own = members[admin.id]["id"]

    demote = client.patch(f"{url}/{own}", json={"roles": ["editor"]}, headers=headers)
    assert demote.status_code == 409
    assert "au moins un administrateur" in demote.json()["detail"]
    assert client.delete(f"{url}/{own}", headers=headers).status_code == 409

    other = client.post(
        url,
        json={
            "email": "second@mairie.example.org",
            "role": "admin",
            "password": "une phrase de passe",
        },
        headers=headers,
    ).json()
    assert client.patch(
        f"{url}/{own}", json={"roles": ["editor", "approver"]}, headers=headers
    ).json()["roles"] == ["editor", "approver"]
    # No longer an admin: may not manage members any more.
    assert client.delete(f"{url}/{other['id']}", headers=headers).status_code == 403
    assert client.patch(f"{url}/{own}", json={"roles": []}, headers=headers).status_code in (
        403,
        422,
    )


def test_contributor_reads_but_does_not_manage(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    make_member(session, authority, Role.admin)
    agent = make_member(session, authority, Role.contributor)
    headers = bearer(session, agent)
    listed = client.get(f"/api/v1/authorities/{authority.slug}/members", headers=headers)
    assert listed.status_code == 200
    assert len(listed.json()) == 2
    refused = client.post(
        f"/api/v1/authorities/{authority.slug}/members",
        json={"email": "z@mairie.example.org", "role": "admin"},
        headers=headers,
    )
    assert refused.status_code == 403


def test_the_invitation_leaves_right_after_the_request(
    db: Engine, session: Session, database_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    app = create_app(settings, engine=db, run_mailer=True)
    app.state.mailer.poll_seconds = 3600  # only the kick after the commit can deliver in time
    with TestClient(app) as client:
        response = client.post(
            f"/api/v1/authorities/{authority.slug}/members",
            json={"email": "vite@mairie.example.org", "role": "editor"},
            headers=headers,
        )
        assert response.status_code == 201
        [message] = mailbox.wait_for(1, timeout=10)
    assert message["To"] == "vite@mairie.example.org"
