"""The periodic token refresh (the worker calls connect.refresh_due) against the sandboxes."""

from __future__ import annotations

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
