"""The periodic token refresh (the worker calls connect.refresh_due) against the sandboxes."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import clock, crypto
from core.accounts import connect
from core.accounts.models import Account, AccountHealth, Network
from core.config import Settings
from networks.sandbox.provision import provision
from tests.conftest import SandboxServer, make_settings, reload
from tests.factories import make_account, make_authority


def sandbox_account(
    session: Session, settings: Settings, network: Network, expires_in: timedelta
) -> Account:
    grant = provision(settings, network, name=f"Compte {network}")
    return make_account(
        session,
        make_authority(session),
        network=network,
        sandbox=True,
        remote_id=grant.remote_id,
        handle=grant.handle,
        credentials_encrypted=crypto.encrypt(settings, grant.credentials),
        token_expires_at=clock.now() + expires_in,
    )


def test_tokens_about_to_expire_are_renewed_and_failures_recorded(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    soon = sandbox_account(session, settings, Network.x, timedelta(minutes=30))
    later = sandbox_account(session, settings, Network.linkedin, timedelta(days=30))
    revoked = sandbox_account(session, settings, Network.instagram, timedelta(hours=2))
    sandbox_server.sandbox.ensure_account("instagram", revoked.remote_id, name="", handle="")
    sandbox_server.sandbox.revoke("instagram", revoked.remote_id)
    before = crypto.decrypt(settings, soon.credentials_encrypted or "")

    assert connect.refresh_due(db, settings) == 1

    reload(session, soon)
    assert crypto.decrypt(settings, soon.credentials_encrypted or "") != before
    assert soon.token_expires_at is not None
    assert soon.token_expires_at > clock.now() + timedelta(hours=1)
    reload(session, later)
    assert later.health == AccountHealth.unknown  # not due: untouched
    reload(session, revoked)
    assert revoked.health == AccountHealth.unhealthy
    assert revoked.health_message
    assert "reconnecter" in revoked.health_message


HOUR = timedelta(hours=1)


def test_a_token_is_renewed_by_one_worker_at_a_time(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    # X spends a refresh token when it is used: a second worker renewing the same account with
    # the same refresh token would be refused, and the account marked disconnected.
    # (The worker's job renews what expires within the hour; the sandbox's X tokens last two.)
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    account = sandbox_account(session, settings, Network.x, timedelta(minutes=30))
    assert account.id is not None
    before = crypto.decrypt(settings, account.credentials_encrypted or "")

    # Another worker holds the renewal: this one leaves the account alone.
    with Session(db) as other:
        assert connect.claim_refresh(other, account.id, due_before=clock.now() + HOUR)
        other.commit()
    assert connect.refresh_due(db, settings, within=HOUR) == 0
    reload(session, account)
    assert crypto.decrypt(settings, account.credentials_encrypted or "") == before

    # That worker died: its lease lapses and the renewal goes through, once.
    with clock.frozen(clock.now() + connect.REFRESH_LEASE + timedelta(seconds=1)):
        assert connect.refresh_due(db, settings, within=HOUR) == 1
        assert connect.refresh_due(db, settings, within=HOUR) == 0  # renewed: no longer due
    reload(session, account)
    assert account.health != AccountHealth.unhealthy
    assert account.refreshing_until is None
    assert crypto.decrypt(settings, account.credentials_encrypted or "") != before


def test_two_workers_renewing_at_the_same_moment_renew_once(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    accounts = [
        sandbox_account(session, settings, Network.x, timedelta(minutes=30)) for _ in range(4)
    ]
    start = threading.Barrier(2)
    renewed: list[int] = []

    def worker() -> None:
        start.wait()
        renewed.append(connect.refresh_due(db, settings, within=HOUR))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(renewed) == len(accounts)
    for account in accounts:
        reload(session, account)
        assert account.health != AccountHealth.unhealthy, account.health_message
        assert account.token_expires_at is not None
        assert account.token_expires_at > clock.now() + timedelta(hours=1)
