"""The publishing engine's own tables: one row per attempt to publish, and the accounts a network
asked Beffroi to leave alone for a while (rate limits)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime


class AttemptOutcome(StrEnum):
    # Committed before the network call: a row still `started` after a crash means the outcome
    # is unknown until it is reconciled.
    started = "started"
    published = "published"
    # The call may have been carried out (timeout, 5xx after sending): reconcile before resending.
    unknown = "unknown"
    # Reconciliation read the account back: found (published) or not found (may be sent again).
    found = "found"
    absent = "absent"
    retry = "retry"  # a transient error before anything was done: sent again later
    rate_limited = "rate_limited"
    failed = "failed"
    delivered = "delivered"  # manual channel: the prepared text went to the assigned person


class PublicationAttempt(SQLModel, table=True):
    """One try to put a publication on its network. The idempotency key is the same for every
    attempt of a publication, so that a network that keeps keys (Mastodon, Bluesky) answers a
    repeated attempt with the first publication instead of a second one."""

    __table_args__ = (sa.UniqueConstraint("publication_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    publication_id: int = Field(foreign_key="publication.id", ondelete="CASCADE", index=True)
    number: int
    idempotency_key: str = Field(max_length=64)
    worker: str = Field(default="", max_length=200)
    outcome: AttemptOutcome = Field(default=AttemptOutcome.started, sa_type=sa.String(16))
    remote_id: str | None = Field(default=None, max_length=500)
    # Times reading the account back failed (the outcome stays unknown meanwhile).
    checks: int = 0
    error_code: str | None = Field(default=None, max_length=64)
    error: str | None = Field(default=None, max_length=2000)
    started_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountPause(SQLModel, table=True):
    """The network limited this account until `until_at`: no request is sent to it before."""

    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    until_at: datetime = Field(sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=1000)
