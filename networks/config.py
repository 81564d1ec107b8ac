"""What an adapter needs to talk to one account: its credentials and where the network answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AdapterConfig:
    credentials: dict[str, Any]
    remote_id: str = ""
    handle: str = ""
    sandbox: bool = False
    # The network's API base (for Mastodon and Bluesky: the account's instance).
    api_url: str = ""
    # Where publications are shown to people (post URLs are built on it).
    web_url: str = ""
    # Other bases of the network (OAuth hosts, upload hosts), by name.
    urls: dict[str, str] = field(default_factory=dict)
    client_id: str | None = None
    client_secret: str | None = None
    # LinkedIn-Version (YYYYMM) or the Graph API version (vNN.N).
    version: str = ""
    timeout: float = 30.0
