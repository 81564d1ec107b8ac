"""What the networks told about each publication and each account, kept over time.

Snapshots are appended, never overwritten: one row per publication and collection step (1 h,
6 h, 24 h, 3 d, 7 d, 30 d after publication), one row per account and day. The unique
constraints make a collection idempotent: two workers collecting the same step at the same time
write one row, the other insert is ignored.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime


class MetricSnapshot(SQLModel, table=True):
    """One publication's figures at one step after it went out. None where the network gives no
    such figure (Mastodon and Bluesky give no impressions)."""

    __table_args__ = (
        sa.UniqueConstraint("publication_id", "step"),
        # The reports read the latest snapshot of the publications of one authority.
        sa.Index("ix_metricsnapshot_authority_publication", "authority_id", "publication_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE")
    publication_id: int = Field(foreign_key="publication.id", ondelete="CASCADE")
    # Index in core.reach.collect.SCHEDULE of the step this snapshot stands for.
    step: int = Field(ge=0)
    collected_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    clicks: int | None = None


class LatestSnapshot(SQLModel, table=True):
    """A copy of each publication's latest snapshot (highest step), kept in step with
    `MetricSnapshot` by `core.reach.collect.record`: the reports read one row per publication
    instead of looking for the latest among all its snapshots. Derived data: the snapshots
    themselves are never changed."""

    publication_id: int = Field(foreign_key="publication.id", ondelete="CASCADE", primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    step: int = Field(ge=0)
    collected_at: datetime = Field(sa_type=UTCDateTime)
    impressions: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    clicks: int | None = None


class AccountSnapshot(SQLModel, table=True):
    """An account's follower count, once a day (UTC day)."""

    __table_args__ = (sa.UniqueConstraint("account_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    day: date
    followers: int = Field(ge=0)
    collected_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
