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
) -> dict[int, int]:
    """Posts planned per account between two instants (drafts included: they are in the plan)."""
    if not account_ids:
        return {}
    stmt = (
        for_authority(select(Publication.account_id, sa.func.count()), authority_id)
        .join(Post, col(Post.id) == col(Publication.post_id))
        .where(
            col(Publication.account_id).in_(account_ids),
            col(Publication.status) != PublicationStatus.cancelled,
            col(Post.status).not_in(NOT_PLANNED),
            col(Post.scheduled_at) >= start,
            col(Post.scheduled_at) < end,
        )
        .group_by(col(Publication.account_id))
    )
    if excluding_post_id is not None:
        stmt = stmt.where(col(Post.id) != excluding_post_id)
    return {account_id: int(n) for account_id, n in session.exec(stmt).all()}
