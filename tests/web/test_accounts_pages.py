"""The accounts page: connecting a sandbox account, a Bluesky account by app password, an OAuth
account (Mastodon on the sandbox, real HTTP on loopback), a manual channel; checking, posting
slots, deleting with a confirmation; French errors with the input kept; roles and isolation."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.accounts.models import Account, AccountHealth, Network
from core.authorities.models import Authority, Role
from core.calendar.models import PostingSlot
from core.config import Settings
from core.posts.models import PostStatus
from core.users.models import User
from networks.sandbox import tokens
from tests.api.test_accounts import _back_to_beffroi, _consent
from tests.conftest import TEST_SECRET, SandboxServer, make_settings
from tests.factories import make_account, make_authority, make_member, make_post, make_user
from tests.web.helpers import csrf_of, sign_in, text_of


@pytest.fixture
def settings(database_url: str, sandbox_server: SandboxServer) -> Settings:
    return make_settings(database_url, sandbox_url=sandbox_server.url, network_timeout_seconds=5)


@pytest.fixture
def town(session: Session) -> tuple[Authority, User]:
    authority = make_authority(session, name="Commune de Conques", slug="conques")
    admin = make_member(session, authority, Role.admin, name="Anne Admin")
    return authority, admin


def rows(session: Session, model: Any) -> list[Any]:
    session.rollback()  # a new read snapshot: see what the pages wrote
    session.expire_all()
    return list(session.exec(select(model)).all())


def send(client: TestClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    csrf = csrf_of(client, "/a/conques/accounts")
    return client.post(path, data={**data, "csrf_token": csrf}, **kwargs)


def test_the_admin_connects_a_sandbox_account_checks_it_and_reads_its_feed_link(
    client: TestClient, session: Session, settings: Settings, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    page = send(
        client,
        "/a/conques/accounts/sandbox",
        {"network": "mastodon", "name": "Conques sur Mastodon", "kind": "institutional"},
    )
    assert page.status_code == 200
    [account] = rows(session, Account)
    assert (account.network, account.sandbox, account.health) == ("mastodon", True, "ok")
    text = text_of(page.text)
    assert "Conques sur Mastodon" in text
    assert "En bon état" in text
    assert "Compte de la collectivité" in text
    feed = f"{settings.sandbox_base_url}/mastodon/feed/{account.remote_id}"
    assert f'href="{feed}"' in page.text

    checked = send(client, f"/a/conques/accounts/{account.id}/check", {})
    assert checked.status_code == 200
    [account] = rows(session, Account)
    assert account.last_checked_at is not None
    assert "jamais" not in text_of(checked.text).split("Dernière vérification")[1][:30]


def test_a_bluesky_account_by_app_password_and_the_wrong_password_refused(
    client: TestClient, session: Session, settings: Settings, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    handle = "mairie-conques.bac-a-sable.test"
    base = {
        "name": "Mairie de Conques",
        "handle": handle,
        "kind": "institutional",
        "instance_url": f"{settings.sandbox_base_url}/bluesky",
    }
    wrong = send(
        client, "/a/conques/accounts/bluesky", {**base, "app_password": "aaaa-bbbb-cccc-dddd"}
    )
    assert wrong.status_code == 422
    assert "reconnecter" in text_of(wrong.text)
    assert f'value="{handle}"' in wrong.text  # input kept …
    assert "aaaa-bbbb-cccc-dddd" not in wrong.text  # … but never the password
    assert rows(session, Account) == []

    password = tokens.app_password(tokens.derive_secret(TEST_SECRET), handle)
    done = send(client, "/a/conques/accounts/bluesky", {**base, "app_password": password})
    assert done.status_code == 200
    assert password not in done.text
    [account] = rows(session, Account)
    assert (account.network, account.handle, account.health) == ("bluesky", handle, "ok")


def test_mastodon_through_oauth_on_the_sandbox_comes_back_to_the_accounts_page(
    client: TestClient, session: Session, settings: Settings, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    started = send(
        client,
        "/a/conques/accounts/authorize",
        {"network": "mastodon", "kind": "institutional", "sandbox": "true"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    authorization_url = started.headers["location"]
    assert authorization_url.startswith(f"{settings.sandbox_base_url}/mastodon/")
    assert parse_qs(urlsplit(authorization_url).query)["redirect_uri"] == [
        "http://testserver/oauth/callback"
    ]
    page = _back_to_beffroi(client, _consent(authorization_url))
    assert "Compte connecté" in page.text
    assert 'href="/a/conques/accounts"' in page.text
    [account] = rows(session, Account)
    assert account.network == Network.mastodon

    # A real Mastodon account needs its server: said in French, nothing started.
    missing = send(client, "/a/conques/accounts/authorize", {"network": "mastodon"})
    assert missing.status_code == 422
    assert "Indiquez l'adresse du serveur Mastodon du compte" in text_of(missing.text)


def test_a_manual_channel_with_its_assigned_person(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    make_user(session)  # user ids and membership ids differ: the page must use user ids
    agent = make_member(session, authority, Role.editor, name="Marc Accueil")
    sign_in(client, admin.email)
    empty = send(client, "/a/conques/accounts/manual", {"name": "  ", "assignee_id": ""})
    assert empty.status_code == 422
    assert rows(session, Account) == []
    page = send(
        client,
        "/a/conques/accounts/manual",
        {"name": "PanneauPocket", "assignee_id": str(agent.id)},
    )
    [account] = rows(session, Account)
    assert (account.network, account.assignee_id) == ("manual", agent.id)
    text = text_of(page.text)
    assert "PanneauPocket" in text
    assert "Personne chargée de publier Marc Accueil" in text


def test_posting_slots_are_added_and_removed(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    account = make_account(session, authority, name="Conques sur Mastodon")
    sign_in(client, admin.email)
    page = send(
        client, f"/a/conques/accounts/{account.id}/slots", {"weekday": "1", "local_time": "12:15"}
    )
    assert "mardi 12:15" in text_of(page.text)
    [slot] = rows(session, PostingSlot)
    assert (slot.weekday, slot.local_time.isoformat()) == (1, "12:15:00")
    bad = send(
        client, f"/a/conques/accounts/{account.id}/slots", {"weekday": "9", "local_time": "25:00"}
    )
    assert bad.status_code == 422
    assert 'value="25:00"' in bad.text
    assert len(rows(session, PostingSlot)) == 1
    send(client, f"/a/conques/accounts/{account.id}/slots/{slot.id}/delete", {})
    assert rows(session, PostingSlot) == []


def test_delete_asks_first_and_refuses_while_posts_are_scheduled(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    from datetime import UTC, datetime, timedelta

    authority, admin = town
    busy = make_account(session, authority, name="Occupé")
    idle = make_account(session, authority, name="Libre")
    make_post(
        session,
        authority,
        targets=[busy],
        status=PostStatus.approved,
        scheduled_at=datetime.now(UTC) + timedelta(days=2),
    )
    sign_in(client, admin.email)
    confirm = client.get(f"/a/conques/accounts/{idle.id}/delete")
    assert "Supprimer le compte « Libre » (Mastodon) ?" in text_of(confirm.text)
    refused = send(client, f"/a/conques/accounts/{busy.id}/delete", {})
    assert refused.status_code == 409
    assert "1 publication(s) programmée(s)" in text_of(refused.text)
    send(client, f"/a/conques/accounts/{idle.id}/delete", {})
    assert [a.name for a in rows(session, Account)] == ["Occupé"]


def test_roles_and_other_authorities(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, _ = town
    account = make_account(session, authority, name="Conques", health=AccountHealth.ok)
    editor = make_member(session, authority, Role.editor)
    sign_in(client, editor.email)
    page = client.get("/a/conques/accounts")
    assert page.status_code == 200
    assert "Connecter un compte" not in text_of(page.text)
    refused = send(client, "/a/conques/accounts/sandbox", {"network": "x", "name": "X"})
    assert refused.status_code == 403
    assert "réservée aux administrateurs" in text_of(refused.text)
    assert send(client, f"/a/conques/accounts/{account.id}/delete", {}).status_code == 403
    # Editors plan: they may add slots.
    send(client, f"/a/conques/accounts/{account.id}/slots", {"weekday": "0", "local_time": "09:00"})
    assert len(rows(session, PostingSlot)) == 1

    other = make_authority(session, slug="rodez")
    stranger = make_member(session, other, Role.admin)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, stranger.email)
    assert client.get("/a/conques/accounts").status_code == 404
    csrf = csrf_of(client, "/a/rodez/accounts")
    gone = client.post(f"/a/rodez/accounts/{account.id}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 404
    assert len(rows(session, Account)) == 1


def test_the_admin_renames_an_account_sets_its_quota_and_reassigns_a_channel(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    make_user(session)
    agent = make_member(session, authority, Role.editor, name="Marc Accueil")
    channel = make_account(session, authority, network="manual", name="Site web")
    x = make_account(session, authority, network="x", name="Conques sur X")
    sign_in(client, admin.email)
    page = send(
        client,
        f"/a/conques/accounts/{channel.id}",
        {"name": "Site de la mairie", "kind": "institutional", "assignee_id": str(agent.id)},
    )
    assert page.status_code == 200
    assert "Personne chargée de publier Marc Accueil" in text_of(page.text)
    send(
        client,
        f"/a/conques/accounts/{x.id}",
        {"name": "Conques sur X", "kind": "elected", "daily_quota": "17"},
    )
    by_id = {a.id: a for a in rows(session, Account)}
    assert (by_id[channel.id].name, by_id[channel.id].assignee_id) == (
        "Site de la mairie",
        agent.id,
    )
    assert (by_id[x.id].kind, by_id[x.id].daily_quota) == ("elected", 17)

    bad = send(
        client,
        f"/a/conques/accounts/{x.id}",
        {"name": "Nouveau nom", "kind": "institutional", "daily_quota": "0"},
    )
    assert bad.status_code == 422
    assert "« Publications par jour au plus »" in text_of(bad.text)
    assert 'value="Nouveau nom"' in bad.text
    assert {a.id: a for a in rows(session, Account)}[x.id].name == "Conques sur X"
