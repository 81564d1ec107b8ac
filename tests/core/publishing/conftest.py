"""The engine against the sandboxes over real HTTP, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.config import Settings
from tests.conftest import SandboxServer, make_settings
from tests.factories import connect_sandbox_account


@pytest.fixture
def pub_settings(database_url: str, tmp_path: Any, sandbox_server: SandboxServer) -> Settings:
    return make_settings(
        database_url,
        data_dir=tmp_path / "data",
        sandbox_url=sandbox_server.url,
        sandbox=True,
        network_timeout_seconds=2.0,
        publish_backoff_base_seconds=0.05,
        publish_backoff_cap_seconds=0.2,
        publish_lease_seconds=30,
    )


@pytest.fixture
def sandbox_account(
    session: Session, pub_settings: Settings, sandbox_server: SandboxServer
) -> Callable[..., Account]:
    def make(authority: Authority, network: Network = Network.mastodon, **knobs: Any) -> Account:
        account = connect_sandbox_account(session, pub_settings, authority, network=network)
        sandbox_server.sandbox.ensure_account(
            network.value, account.remote_id, name=account.name, handle=account.handle
        )
        if knobs:
            sandbox_server.sandbox.set_knobs(network.value, account.remote_id, **knobs)
        return account

    return make


def received_texts(sandbox_server: SandboxServer, account: Account) -> list[str]:
    return [p.text for p in sandbox_server.sandbox.posts(str(account.network), account.remote_id)]
