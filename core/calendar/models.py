"""Posting slots (weekly times per account) and private calendar feed tokens."""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime
from core.posts.models import Post, Publication

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class PostingSlot(SQLModel, table=True):
    """A weekly time at which an account usually posts (e.g. Tuesday 12:15), in the authority's
    local time: "add to queue" fills the next free one."""

    __table_args__ = (sa.UniqueConstraint("account_id", "weekday", "local_time"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    weekday: int = Field(ge=0, le=6)  # 0 = Monday
    local_time: time
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class SlotCreate(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 = lundi … 6 = dimanche")
    local_time: time = Field(description="Heure locale de la collectivité, par exemple 12:15")


class SlotRead(BaseModel):
    id: int
    account_id: int
    weekday: int
    weekday_label: str
    local_time: str

    @classmethod
    def of(cls, slot: PostingSlot) -> SlotRead:
        assert slot.id is not None
        return cls(
            id=slot.id,
            account_id=slot.account_id,
            weekday=slot.weekday,
            weekday_label=WEEKDAYS[slot.weekday],
            local_time=slot.local_time.strftime("%H:%M"),
        )


class CalendarFeedToken(SQLModel, table=True):
    """A private iCal feed of one member: the token is in the URL a calendar app subscribes to,
    so only its sha256 is stored; revoking it stops the feed at once."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# Indexes the calendar needs on the posts' tables (bench/calendar_json.py, docs/benchmarks.md),
# declared here so that they live with the queries that use them:
# - the month's counts read (authority, time, status) from the index alone;
# - each account's last publication before a month, and its weekly average before a
#   pre-electoral period, read (account, due time, status, authority) from the index alone.
sa.Index(
    "ix_post_authority_scheduled_status",
    Post.__table__.c.authority_id,  # type: ignore[attr-defined]
    Post.__table__.c.scheduled_at,  # type: ignore[attr-defined]
    Post.__table__.c.status,  # type: ignore[attr-defined]
)
sa.Index(
    "ix_publication_account_due_status",
    Publication.__table__.c.account_id,  # type: ignore[attr-defined]
    Publication.__table__.c.due_at,  # type: ignore[attr-defined]
    Publication.__table__.c.status,  # type: ignore[attr-defined]
    Publication.__table__.c.authority_id,  # type: ignore[attr-defined]
)
