from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime
from core.i18n import N_


class Network(StrEnum):
    x = "x"
    linkedin = "linkedin"
    facebook = "facebook"
    instagram = "instagram"
    mastodon = "mastodon"
    bluesky = "bluesky"
    # A channel Beffroi does not publish to itself (PanneauPocket, IntraMuros, the website…):
    # when due, the assigned person gets the prepared text and marks it published.
    manual = "manual"

    @property
    def label(self) -> str:
        return NETWORK_LABELS[self]


NETWORK_LABELS = {
    Network.x: "X",
    Network.linkedin: "LinkedIn",
    Network.facebook: "Facebook",
    Network.instagram: "Instagram",
    Network.mastodon: "Mastodon",
    Network.bluesky: "Bluesky",
    Network.manual: N_("Canal manuel"),
}


class AccountKind(StrEnum):
    institutional = "institutional"
    # An elected official's own account: the authority's staff must not run it for campaigning.
    elected = "elected"


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    network: Network = Field(sa_type=sa.String(16))
    name: str = Field(max_length=200)
    handle: str = Field(default="", max_length=200)
    kind: AccountKind = Field(default=AccountKind.institutional, sa_type=sa.String(16))
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
