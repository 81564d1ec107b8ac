"""Connecting accounts through the API: sandbox accounts, credentials, OAuth flows end to end
against the sandboxes (real HTTP on loopback), checks, roles, and secrets that never come back."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from beffroi.app import create_app
from core import clock, crypto
from core.accounts.models import Account, AccountHealth, Network, OAuthState
from core.authorities.models import Role
from core.config import Settings
from networks.sandbox import mastodon as mastodon_sandbox
from networks.sandbox import tokens
from tests.conftest import TEST_SECRET, SandboxServer, make_settings, reload
from tests.factories import bearer, make_authority, make_member

SECRET_KEYS = (
    "access_token",
    "refresh_token",
    "app_password",
    "client_secret",
    "'session'",
    "credentials",
)


@pytest.fixture
def settings(database_url: str, sandbox_server: SandboxServer) -> Settings:
    return make_settings(database_url, sandbox_url=sandbox_server.url, network_timeout_seconds=5)


def rows(session: Session, model: Any) -> Any:
    session.rollback()  # see what the application committed (SQLite keeps a read snapshot)
    return session.exec(select(model))


def _no_secret(body: Any, credentials: dict[str, Any]) -> None:
    text = str(body)
    for key in SECRET_KEYS:
        assert key not in text
    for key, value in credentials.items():
        if any(word in key for word in ("token", "password", "secret", "session")):
            assert str(value) not in text


def test_admin_connects_a_sandbox_account_of_every_network(
    client: TestClient, session: Session, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    authority = make_authority(session, slug="val-de-brume")
    admin = make_member(session, authority, Role.admin)
    editor = make_member(session, authority, Role.editor)
    headers = bearer(session, admin)
    url = "/api/v1/authorities/val-de-brume/accounts"

    created = {}
    for network in ("x", "linkedin", "facebook", "instagram", "mastodon", "bluesky"):
        response = client.post(
            url,
            json={
                "network": network,
                "name": f"Val-de-Brume {network}",
                "kind": "institutional",
                "sandbox": True,
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["sandbox"] is True
        assert body["connected"] is True
        assert body["health"] == "ok"
        assert body["remote_id"]
        assert body["handle"]
        assert "credentials" not in body
        assert "credentials_encrypted" not in body
        created[network] = body
    manual = client.post(
        url,
        json={"network": "manual", "name": "PanneauPocket", "assignee_id": editor.id},
        headers=headers,
    )
    assert manual.status_code == 201, manual.text
    assert manual.json()["assignee_id"] == editor.id

    stored = {str(a.network): a for a in rows(session, Account).all()}
    assert set(stored) == {*created, "manual"}
    for network, account in stored.items():
        if network == "manual":
            assert account.credentials_encrypted is None
            continue
        credentials = crypto.decrypt(settings, account.credentials_encrypted or "")
        _no_secret(created[network], credentials)
        for key, value in credentials.items():
            if any(word in key for word in ("token", "password", "secret", "session")):
                assert str(value) not in caplog.text
    assert stored["x"].token_expires_at is not None
    assert stored["mastodon"].instance_url == f"{settings.sandbox_base_url}/mastodon"
    # The instance's own limit, read from it, is what the rules count against.
    assert stored["mastodon"].max_characters == mastodon_sandbox.MAX_CHARACTERS
    assert stored["bluesky"].max_characters is None

    editor_headers = bearer(session, editor)
    listed = client.get(url, headers=editor_headers)
    assert listed.status_code == 200
    assert len(listed.json()) == 7
    _no_secret(listed.json(), {})
    refused = client.post(
        url, json={"network": "x", "name": "X", "sandbox": True}, headers=editor_headers
    )
    assert refused.status_code == 403
    assert "administrateurs" in refused.json()["detail"]

    account_url = f"{url}/{created['x']['id']}"
    checked = client.post(f"{account_url}/check", headers=editor_headers)
    assert checked.status_code == 200
    assert checked.json()["health"] == "ok"
    assert checked.json()["last_checked_at"] is not None
    patched = client.patch(
        account_url, json={"name": "Val-de-Brume sur X", "daily_quota": 17}, headers=headers
    )
    assert patched.json()["name"] == "Val-de-Brume sur X"
    assert patched.json()["daily_quota"] == 17
    assert client.delete(account_url, headers=editor_headers).status_code == 403
    assert client.delete(account_url, headers=headers).status_code == 204
    assert client.get(account_url, headers=headers).status_code == 404


def test_bluesky_credentials_are_checked_at_once(
    client: TestClient, session: Session, settings: Settings
) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    url = f"/api/v1/authorities/{authority.slug}/accounts"
    handle = "mairie.bac-a-sable.test"
    password = tokens.app_password(tokens.derive_secret(TEST_SECRET), handle)
    base = {
        "network": "bluesky",
        "name": "Mairie",
        "kind": "institutional",
        "instance_url": f"{settings.sandbox_base_url}/bluesky",
    }

    wrong = client.post(
        url,
        json={**base, "credentials": {"identifier": handle, "app_password": "aaaa-bbbb-cccc-dddd"}},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"] == "network_auth"
    assert "Invalid identifier or password" in wrong.json()["detail"]
    assert "reconnecter" in wrong.json()["detail"]
    incomplete = client.post(
        url, json={**base, "credentials": {"identifier": handle}}, headers=headers
    )
    assert incomplete.status_code == 422
    assert "app_password" in incomplete.json()["detail"]
    assert rows(session, Account).all() == []  # nothing half-written

    ok = client.post(
        url,
        json={**base, "credentials": {"identifier": f"@{handle}", "app_password": password}},
        headers=headers,
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["handle"] == handle
    assert ok.json()["remote_id"].startswith("did:plc:")
    assert password not in ok.text
    account = rows(session, Account).one()
    kept = crypto.decrypt(settings, account.credentials_encrypted or "")
    assert kept["app_password"] == password
    assert kept["session"]


def test_private_addresses_are_refused_outside_development(
    db: Any, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    strict = make_settings(
        database_url, sandbox_url=sandbox_server.url, allow_private_network=False
    )
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    url = f"/api/v1/authorities/{authority.slug}/accounts"
    with TestClient(
        create_app(strict, engine=db, run_mailer=False), base_url="http://testserver"
    ) as client:
        for instance, code in [
            ("https://127.0.0.1:8443", "forbidden_address"),
            ("https://10.0.0.7", "forbidden_address"),
            ("https://[::1]", "forbidden_address"),
            ("https://169.254.169.254", "forbidden_address"),
            ("http://piaille.fr", "invalid_address"),
        ]:
            response = client.post(
                url,
                json={
                    "network": "mastodon",
                    "name": "M",
                    "instance_url": instance,
                    "credentials": {"access_token": "abcdefghijklmnop"},
                },
                headers=headers,
            )
            assert response.status_code == 422, (instance, response.text)
            assert response.json()["error"] == code
        started = client.post(
            f"{url}/authorize",
            json={"network": "mastodon", "instance_url": "https://192.168.1.10"},
            headers=headers,
        )
        assert started.status_code == 422
        assert "réseau privé" in started.json()["detail"]
        # Sandbox accounts are Beffroi's own address: still allowed.
        sandbox = client.post(
            url, json={"network": "mastodon", "name": "M", "sandbox": True}, headers=headers
        )
        assert sandbox.status_code == 201, sandbox.text
    assert len(rows(session, Account).all()) == 1


# --- OAuth, end to end ------------------------------------------------------------------------


def _consent(authorization_url: str, **fields: str) -> str:
    """Do what the person does on the network's page: read the form, answer it; returns the
    URL the network sends the browser back to."""
    page = httpx.get(authorization_url)
    assert page.status_code == 200, page.text
    assert "autoriser Beffroi" in page.text
    form = {
        m[0]: unescape(m[1])
        for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action
    answer = httpx.post(
        f"{urlsplit(authorization_url).scheme}://{urlsplit(authorization_url).netloc}{action.group(1)}",
        data={
            **form,
            "name": "Ville de Val-de-Brume",
            "handle": "valdebrume",
            "decision": "allow",
            **fields,
        },
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def _back_to_beffroi(client: TestClient, location: str) -> Any:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver"
    return client.get(f"{parts.path}?{parts.query}")


@pytest.mark.parametrize("network", ["x", "linkedin", "facebook", "instagram", "mastodon"])
def test_oauth_connects_an_account_end_to_end(
    client: TestClient, session: Session, settings: Settings, network: str
) -> None:
    authority = make_authority(session, name="Commune de Val-de-Brume")
    admin = make_member(session, authority, Role.admin)
    headers = bearer(session, admin)
    url = f"/api/v1/authorities/{authority.slug}/accounts/authorize"

    started = client.post(
        url, json={"network": network, "kind": "institutional", "sandbox": True}, headers=headers
    )
    assert started.status_code == 200, started.text
    authorization_url = started.json()["authorization_url"]
    assert authorization_url.startswith(f"{settings.sandbox_base_url}/{network}/")
    query = parse_qs(urlsplit(authorization_url).query)
    assert query["redirect_uri"] == ["http://testserver/oauth/callback"]
    state = query["state"][0]
    if network == "x":
        assert query["code_challenge_method"] == ["S256"]

    location = _consent(authorization_url)
    page = _back_to_beffroi(client, location)
    assert page.status_code == 200, page.text
    assert "Compte connecté" in page.text
    assert "Ville de Val-de-Brume" in page.text
    account = rows(session, Account).one()
    assert account.network == Network(network)
    assert account.sandbox
    assert account.health == AccountHealth.ok
    assert account.remote_id
    assert account.authority_id == authority.id
    if network == "mastodon":
        assert account.max_characters == mastodon_sandbox.MAX_CHARACTERS
    _no_secret(page.text, crypto.decrypt(settings, account.credentials_encrypted or ""))
    if network in {"x", "linkedin", "instagram"}:
        assert account.token_expires_at is not None
        assert account.token_expires_at > clock.now()
    assert (
        client.post(
            f"/api/v1/authorities/{authority.slug}/accounts/{account.id}/check", headers=headers
        ).json()["health"]
        == "ok"
    )

    # The same answer again (a reload, or an attacker replaying it) is refused.
    replay = _back_to_beffroi(client, location)
    assert replay.status_code == 410
    assert "recommencez" in replay.text
    if network == "x":
        # Connecting the same account again renews it instead of adding a second one.
        before = account.credentials_encrypted
        again = client.post(url, json={"network": network, "sandbox": True}, headers=headers)
        authorization_url = again.json()["authorization_url"]
        assert state != parse_qs(urlsplit(authorization_url).query)["state"][0]
        _back_to_beffroi(client, _consent(authorization_url))
        renewed = rows(session, Account).one()
        assert renewed.id == account.id
        assert renewed.credentials_encrypted != before


def test_oauth_refuses_states_it_did_not_issue(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    started = client.post(
        f"/api/v1/authorities/{authority.slug}/accounts/authorize",
        json={"network": "x", "sandbox": True},
        headers=headers,
    ).json()
    state = parse_qs(urlsplit(started["authorization_url"]).query)["state"][0]
    for forged in ["", state[:-2] + "xx", "bm9uY2U.forged.signature"]:
        response = client.get(f"/oauth/callback?code=abc&state={forged}")
        assert response.status_code == 400
        assert "state" in response.text
    assert rows(session, Account).all() == []
    row = rows(session, OAuthState).one()
    assert row.used_at is None  # a forged answer does not spend the real state


def test_oauth_with_several_pages_asks_which_one(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    started = client.post(
        f"/api/v1/authorities/{authority.slug}/accounts/authorize",
        json={"network": "facebook", "kind": "elected", "name": "Page du maire", "sandbox": True},
        headers=headers,
    ).json()
    page = _back_to_beffroi(
        client, _consent(started["authorization_url"], name2="Office de tourisme")
    )
    assert "Quelle page connecter" in page.text
    choices = re.findall(r'name="remote_id"\s+value="(\d+)"', page.text)
    assert len(choices) == 2
    assert "Office de tourisme" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    state = re.search(r'name="state" value="([^"]+)"', page.text)
    assert csrf
    assert state
    chosen = client.post(
        "/oauth/choose",
        data={
            "csrf_token": csrf.group(1),
            "state": unescape(state.group(1)),
            "remote_id": choices[1],
        },
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    done = client.get(chosen.headers["location"])
    assert "Compte connecté" in done.text
    account = rows(session, Account).one()
    assert account.remote_id == choices[1]
    assert account.name == "Page du maire"
    assert account.kind == "elected"
    row = rows(session, OAuthState).one()
    assert row.secrets_encrypted is None  # the other page's token is not kept
    again = client.post(
        "/oauth/choose",
        data={
            "csrf_token": csrf.group(1),
            "state": unescape(state.group(1)),
            "remote_id": choices[0],
        },
        follow_redirects=False,
    )
    assert again.status_code == 410


def test_a_refused_authorization_connects_nothing(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    started = client.post(
        f"/api/v1/authorities/{authority.slug}/accounts/authorize",
        json={"network": "linkedin", "sandbox": True},
        headers=headers,
    ).json()
    location = _consent(started["authorization_url"], decision="deny")
    page = _back_to_beffroi(client, location)
    assert page.status_code == 200
    assert "Connexion annulée" in page.text
    assert rows(session, Account).all() == []


def test_oauth_needs_the_networks_app_settings(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    url = f"/api/v1/authorities/{authority.slug}/accounts/authorize"
    response = client.post(url, json={"network": "linkedin"}, headers=headers)
    assert response.status_code == 422
    assert "BEFFROI_LINKEDIN_CLIENT_ID" in response.json()["detail"]
    bluesky = client.post(url, json={"network": "bluesky", "sandbox": True}, headers=headers)
    assert bluesky.status_code == 422
    assert "mot de passe d'application" in bluesky.json()["detail"]


# --- health ---------------------------------------------------------------------------------------


def test_check_renews_expiring_tokens_and_reports_revoked_ones(
    client: TestClient, session: Session, settings: Settings, sandbox_server: SandboxServer
) -> None:
    authority = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    url = f"/api/v1/authorities/{authority.slug}/accounts"
    x = client.post(
        url, json={"network": "x", "name": "X", "sandbox": True}, headers=headers
    ).json()
    account = session.get(Account, x["id"])
    assert account is not None
    before = crypto.decrypt(settings, account.credentials_encrypted or "")
    account.token_expires_at = clock.now() + timedelta(minutes=10)
    session.add(account)
    session.commit()

    renewed = client.post(f"{url}/{x['id']}/check", headers=headers).json()
    assert renewed["health"] == "ok"
    reload(session, account)
    after = crypto.decrypt(settings, account.credentials_encrypted or "")
    assert after["access_token"] != before["access_token"]
    assert account.token_expires_at is not None
    assert account.token_expires_at > clock.now() + timedelta(hours=1)

    sandbox_server.sandbox.set_knobs("x", x["remote_id"], fail_next=[503])
    unanswered = client.post(f"{url}/{x['id']}/check", headers=headers).json()
    assert unanswered["health"] == "unknown"
    assert "ne répond pas" in unanswered["health_message"]

    sandbox_server.sandbox.revoke("x", x["remote_id"])
    revoked = client.post(f"{url}/{x['id']}/check", headers=headers).json()
    assert revoked["health"] == "unhealthy"
    assert "reconnecter" in revoked["health_message"]


def test_manual_channels_need_a_member_of_the_authority(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session)
    other = make_authority(session)
    headers = bearer(session, make_member(session, authority, Role.admin))
    stranger = make_member(session, other, Role.editor)
    url = f"/api/v1/authorities/{authority.slug}/accounts"
    refused = client.post(
        url,
        json={"network": "manual", "name": "Site web", "assignee_id": stranger.id},
        headers=headers,
    )
    assert refused.status_code == 422
    assert "membre de la collectivité" in refused.json()["detail"]
    mixed = client.post(
        url, json={"network": "manual", "name": "Site", "sandbox": True}, headers=headers
    )
    assert mixed.status_code == 422
    nothing = client.post(url, json={"network": "x", "name": "X"}, headers=headers)
    assert nothing.status_code == 422
    assert "authorize" in nothing.json()["detail"]
