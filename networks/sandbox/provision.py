"""Give a new sandbox account its credentials, without calling the sandbox (as a developer portal
hands out test credentials). The sandbox recognises them by their signature."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core import clock
from core.accounts.models import Network
from core.config import Settings
from networks.sandbox import tokens
from networks.sandbox.state import issue_token

# Token lifetimes as the networks give them (reference/networks.md).
ACCESS_TTL: dict[Network, timedelta | None] = {
    Network.x: timedelta(hours=2),
    Network.linkedin: timedelta(days=60),
    Network.facebook: None,
    Network.instagram: timedelta(days=60),
    Network.mastodon: None,
}
REFRESH_TTL: dict[Network, timedelta] = {
    Network.x: timedelta(days=180),
    Network.linkedin: timedelta(days=365),
}
BLUESKY_SUFFIX = ".bac-a-sable.test"
SCOPES = {
    Network.x: "tweet.read tweet.write users.read media.write offline.access",
    Network.linkedin: "w_organization_social r_organization_social rw_organization_admin",
}


@dataclass(frozen=True)
class SandboxGrant:
    credentials: dict[str, Any]
    remote_id: str
    handle: str
    instance_url: str | None
    expires_at: datetime | None


def slug(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", plain)[:20] or "compte"


def provision(
    settings: Settings, network: Network, *, name: str, handle: str | None = None
) -> SandboxGrant:
    """Credentials for a sandbox account named `name`. Without `handle`, a new one is made up
    (a new account each time); with it, the same sandbox account as before (the demo)."""
    secret = tokens.derive_secret(settings.secret)
    handle = handle or f"{slug(name)}{secrets.token_hex(2)}"
    base = f"{settings.sandbox_base_url}/{network.value}"
    if network == Network.bluesky:
        handle = handle if "." in handle else f"{handle}{BLUESKY_SUFFIX}"
        return SandboxGrant(
            credentials={
                "identifier": handle,
                "app_password": tokens.app_password(secret, handle),
            },
            remote_id=tokens.did_for(secret, handle),
            handle=handle,
            instance_url=base,
            expires_at=None,
        )
    now = clock.now()
    remote_id = tokens.remote_id_for(secret, network.value, handle)
    ttl = ACCESS_TTL[network]
    subject, extra = remote_id, dict[str, Any]()
    if network == Network.linkedin:
        # LinkedIn tokens belong to a member, who administers organisations.
        subject = f"urn:li:person:{tokens.numeric_id(secret, 'member', handle, digits=10)}"
        extra = {"orgs": [[remote_id, name, handle]]}
    credentials: dict[str, Any] = {
        "access_token": issue_token(
            secret, network.value, subject, name=name, handle=handle, now=now, ttl=ttl, **extra
        )
    }
    if network in REFRESH_TTL:
        credentials["refresh_token"] = issue_token(
            secret,
            network.value,
            subject,
            name=name,
            handle=handle,
            typ="refresh",
            now=now,
            ttl=REFRESH_TTL[network],
            scope=SCOPES[network],
            **extra,
        )
    if network == Network.facebook:
        credentials["page_id"] = remote_id
    if network == Network.instagram:
        credentials["user_id"] = remote_id
    if network == Network.linkedin:
        credentials["organization"] = remote_id
    return SandboxGrant(
        credentials=credentials,
        remote_id=remote_id,
        handle=handle,
        instance_url=base if network == Network.mastodon else None,
        expires_at=now + ttl if ttl else None,
    )
