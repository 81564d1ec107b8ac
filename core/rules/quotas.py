"""Posting quotas per account and local day.

The defaults are each network's documented daily limit for one account (shared/reference/
networks.md, section 6): X's free tier allows 17 posts per 24 h, Instagram 100 API-published posts
per rolling 24 h (counted here per local day). LinkedIn, Facebook, Mastodon and Bluesky publish no
posting quota below their request limits; the defaults keep a town hall far from them.
`Account.daily_quota` overrides the default (an X paid tier, a stricter house rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import Account, Network
from core.posts.models import Post, PostStatus, Publication, PublicationStatus
from core.tenancy import for_authority

DEFAULT_DAILY_QUOTAS: dict[Network, int] = {
    Network.x: 17,
    Network.instagram: 100,
    Network.linkedin: 50,
    Network.facebook: 50,
    Network.mastodon: 100,
    Network.bluesky: 100,
}

# Posts that will not go out do not use the quota.
NOT_PLANNED = (PostStatus.cancelled, PostStatus.rejected, PostStatus.failed)
# Publications that went out or will: their `due_at` is their post's time.
GOING_OUT = (PublicationStatus.scheduled, PublicationStatus.publishing, PublicationStatus.published)


def quota_of(account: Account) -> int | None:
    """The account's posts allowed per day; None for manual channels (no limit)."""
    if account.daily_quota is not None:
        return account.daily_quota
    return DEFAULT_DAILY_QUOTAS.get(Network(account.network))


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start, end.astimezone(ZoneInfo("UTC"))


def planned_between(
    session: Session,
    *,
    authority_id: int,
    account_ids: Sequence[int],
    start: datetime,
    end: datetime,
    excluding_post_id: int | None = None,
    without_drafts: bool = False,
) -> dict[int, int]:
    """Posts planned per account between two instants: drafts included (they are in the plan)
    unless `without_drafts`, which counts only the posts on their way out."""
    if not account_ids:
        return {}
    left_out = (*NOT_PLANNED, PostStatus.draft) if without_drafts else NOT_PLANNED
    # From the posts of the period (index on authority and time) to their publications: the
    # other way round reads every publication of the authority.
    stmt = (
        for_authority(
            select(Post.authority_id, Publication.account_id, sa.func.count()), authority_id
        )
        .join(Publication, col(Publication.post_id) == col(Post.id))
        .where(
            col(Post.scheduled_at) >= start,
            col(Post.scheduled_at) < end,
            col(Post.status).not_in(left_out),
            col(Publication.account_id).in_(account_ids),
            col(Publication.status) != PublicationStatus.cancelled,
        )
        .group_by(col(Post.authority_id), col(Publication.account_id))
    )
    if excluding_post_id is not None:
        stmt = stmt.where(col(Post.id) != excluding_post_id)
    return {account_id: int(n) for _, account_id, n in session.exec(stmt).all()}


def planned_instants(
    session: Session,
    *,
    authority_id: int,
    account_ids: Sequence[int],
    start: datetime,
    end: datetime,
    excluding_post_id: int | None = None,
) -> list[tuple[int, datetime]]:
    """(account, time) of every planned publication between two instants."""
    if not account_ids:
        return []
    params = {
        "authority_id": authority_id,
        "account_ids": list(account_ids),
        "start": start,
        "end": end,
        # Post ids start at 1: 0 excludes none.
        "excluding": excluding_post_id or 0,
    }
    rows = session.execute(_PLANNED_INSTANTS, params).all()
    return [(account_id, at) for at, account_id in rows if at is not None]


def gone_out_between(
    session: Session,
    *,
    authority_id: int,
    account_ids: Sequence[int],
    start: datetime,
    end: datetime,
) -> dict[int, int]:
    """Publications per account that went out (or are scheduled) between two instants: the
    account's actual history, read from the (account, due time, status) index."""
    if not account_ids:
        return {}
    params = {
        "authority_id": authority_id,
        "account_ids": list(account_ids),
        "start": start,
        "end": end,
    }
    return {account_id: int(n) for account_id, n in session.execute(_GONE_OUT, params).all()}


# Built once with bind parameters (the calendar runs them at every call).
_AUTHORITY: sa.BindParameter[int] = sa.bindparam("authority_id", type_=sa.Integer)
_ACCOUNT_IDS: sa.BindParameter[list[int]] = sa.bindparam("account_ids", expanding=True)
_PLANNED_INSTANTS = (
    for_authority(sa.select(col(Post.scheduled_at), col(Publication.account_id)), _AUTHORITY)
    .join(Publication, col(Publication.post_id) == col(Post.id))
    .where(
        col(Post.scheduled_at) >= sa.bindparam("start"),
        col(Post.scheduled_at) < sa.bindparam("end"),
        col(Post.status).not_in(NOT_PLANNED),
        col(Publication.account_id).in_(_ACCOUNT_IDS),
        col(Publication.status) != PublicationStatus.cancelled,
        col(Post.id) != sa.bindparam("excluding"),
    )
)
_GONE_OUT = (
    for_authority(sa.select(col(Publication.account_id), sa.func.count()), _AUTHORITY)
    .where(
        col(Publication.account_id).in_(_ACCOUNT_IDS),
        col(Publication.due_at) >= sa.bindparam("start"),
        col(Publication.due_at) < sa.bindparam("end"),
        col(Publication.status).in_(GOING_OUT),
    )
    .group_by(col(Publication.account_id))
)
