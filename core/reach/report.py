"""The reach of an authority's publications over a period, grouped as asked, with follower
counts over time, each objective's KPI against its target, and the pillar mix against the
targets; and the monthly report for the mayor built on it. docs/portee.md says exactly how each
figure is computed; keep them in step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.calendar.service import PillarMix, month_end, pillar_mix
from core.editorial.models import (
    Audience,
    Campaign,
    KpiMetric,
    KpiPeriod,
    Objective,
    Pillar,
)
from core.errors import InvalidInput
from core.i18n import N_
from core.posts.models import Post, PostAudience, PostObjective, Publication, PublicationStatus
from core.reach.models import AccountSnapshot, LatestSnapshot, MetricSnapshot
from core.rules.quotas import day_bounds
from core.tenancy import for_authority

# The longest period one report covers: three years and a day for a leap year.
MAX_DAYS = 3 * 366
_NETWORKS = {network.value: network for network in Network}
# Networks that never give impressions or views of a post to their API.
WITHOUT_IMPRESSIONS = frozenset({Network.mastodon, Network.bluesky})
# Networks that never give link clicks.
WITHOUT_CLICKS = frozenset({Network.mastodon, Network.bluesky, Network.instagram})
NOT_PROVIDED = N_("non fourni")
# Beyond this many days, the follower counts are given one a week (the last of each week).
WEEKLY_AFTER_DAYS = 92
PERIOD_DAYS = {
    KpiPeriod.week: 7.0,
    KpiPeriod.month: 365.25 / 12,
    KpiPeriod.quarter: 365.25 / 4,
    KpiPeriod.year: 365.25,
}


class GroupBy(StrEnum):
    network = "network"
    pillar = "pillar"
    objective = "objective"
    audience = "audience"
    campaign = "campaign"
    account = "account"


GROUP_BY_LABELS = {
    GroupBy.network: N_("Réseau"),
    GroupBy.pillar: N_("Thématique"),
    GroupBy.objective: N_("Objectif"),
    GroupBy.audience: N_("Cible"),
    GroupBy.campaign: N_("Campagne"),
    GroupBy.account: N_("Compte"),
}


class BadPeriod(InvalidInput):
    code = "invalid_period"
    detail = N_(
        "Période non valable : donnez « from » et « to » au format AAAA-MM-JJ, « from » avant "
        "« to », sur trois ans au plus."
    )


class Figures(BaseModel):
    """Sums over the publications of a group. `impressions` and `clicks` are None ("non
    fourni") when no publication of the group had the figure from its network."""

    publications: int = 0
    impressions: int | None = None
    # How many publications gave impressions (the engagement rate is computed on them only).
    publications_with_impressions: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    clicks: int | None = None
    engagements: int = 0
    # Engagements of the publications with impressions / their impressions, in percent.
    engagement_rate: float | None = None


class Group(BaseModel):
    key: str
    label: str
    network: Network | None = None
    figures: Figures


class FollowerPoint(BaseModel):
    day: date
    followers: int


class AccountFollowers(BaseModel):
    account_id: int
    name: str
    network: Network
    first: int | None
    last: int | None
    change: int | None
    points: list[FollowerPoint]


class ObjectiveProgress(BaseModel):
    objective_id: int
    name: str
    kpi_metric: KpiMetric
    kpi_period: KpiPeriod
    kpi_target: int
    # The target prorated to the period's length (target × days / days of the KPI period).
    target_for_period: float
    value: int | None
    progress: float | None  # percent of target_for_period


class ReachReport(BaseModel):
    authority: str
    timezone: str
    from_date: date
    to_date: date
    by: GroupBy
    total: Figures
    groups: list[Group]
    followers: list[AccountFollowers]
    objectives: list[ObjectiveProgress]
    pillar_mix: list[PillarMix]
    # Networks of the period that give no impressions, to say so instead of showing zeros.
    networks_without_impressions: list[Network]


def parse_period(
    authority: Authority, from_date: date | None, to_date: date | None
) -> tuple[date, date]:
    """The period asked, local dates, `to` included; by default the last 30 days."""
    today = clock.now().astimezone(ZoneInfo(authority.timezone)).date()
    to_date = to_date or today
    from_date = from_date or to_date - timedelta(days=29)
    if from_date > to_date or (to_date - from_date).days >= MAX_DAYS:
        raise BadPeriod()
    return from_date, to_date


# The figures are summed by the database, grouped as asked: a year is thousands of publications,
# and building one Python object per publication made the report slow, and slower still now and
# then (the garbage collector's full passes over them).


def _published(authority_id: int, start: datetime, end: datetime) -> sa.Subquery:
    """The published publications of the period, each with its latest snapshot (no figures
    before the first)."""
    return (
        for_authority(
            sa.select(
                col(Publication.id).label("publication_id"),
                col(Publication.post_id).label("post_id"),
                col(Publication.account_id).label("account_id"),
                col(Publication.published_at).label("published_at"),
                col(Account.network).label("network"),
                col(Post.pillar_id).label("pillar_id"),
                col(Post.campaign_id).label("campaign_id"),
                col(LatestSnapshot.impressions).label("impressions"),
                col(LatestSnapshot.likes).label("likes"),
                col(LatestSnapshot.reposts).label("reposts"),
                col(LatestSnapshot.replies).label("replies"),
                col(LatestSnapshot.clicks).label("clicks"),
            ),
            authority_id,
        )
        .join(Post, col(Post.id) == col(Publication.post_id))
        .join(Account, col(Account.id) == col(Publication.account_id))
        .outerjoin(LatestSnapshot, col(LatestSnapshot.publication_id) == col(Publication.id))
        .where(
            col(Publication.status) == PublicationStatus.published,
            col(Publication.published_at) >= start,
            col(Publication.published_at) < end,
        )
        .subquery("published")
    )


def _sums(published: sa.Subquery) -> list[sa.ColumnElement[Any]]:
    """The columns `figures` reads, summed over a group of `published` (docs/portee.md § 2)."""
    c = published.c
    zero = sa.literal(0)
    # Interactions = likes + reposts + replies + clicks, a missing figure adding nothing.
    engaged = (
        sa.func.coalesce(c.likes, zero)
        + sa.func.coalesce(c.reposts, zero)
        + sa.func.coalesce(c.replies, zero)
        + sa.func.coalesce(c.clicks, zero)
    )
    return [
        sa.func.count(),
        # SUM of nothing but NULLs is NULL: "non fourni", not zero.
        sa.func.sum(c.impressions),
        sa.func.count(c.impressions),
        sa.func.sum(c.likes),
        sa.func.sum(c.reposts),
        sa.func.sum(c.replies),
        sa.func.sum(c.clicks),
        sa.func.sum(engaged),
        # The engagement rate's numerator: interactions of the publications with impressions.
        sa.func.sum(sa.case((c.impressions.is_not(None), engaged))),
    ]


def figures(sums: Sequence[Any] | None) -> Figures:
    """The figures of a group from the columns of `_sums` (None for an empty group)."""
    if sums is None:
        return Figures()
    publications, impressions, with_impressions, likes, reposts, replies, clicks = sums[:7]
    engagements, engaged_with_impressions = sums[7:9]
    impressions = None if impressions is None else int(impressions)
    rate = round(100 * int(engaged_with_impressions or 0) / impressions, 2) if impressions else None
    return Figures(
        publications=int(publications),
        impressions=impressions,
        publications_with_impressions=int(with_impressions),
        likes=int(likes or 0),
        reposts=int(reposts or 0),
        replies=int(replies or 0),
        clicks=None if clicks is None else int(clicks),
        engagements=int(engagements or 0),
        engagement_rate=rate,
    )


def _grouped(
    session: Session, published: sa.Subquery, key: Any, *joins: tuple[Any, Any]
) -> dict[Any, Figures]:
    stmt = sa.select(key, *_sums(published)).select_from(published)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    rows = session.connection().execute(stmt.group_by(key)).all()
    return {row[0]: figures(row[1:]) for row in rows}


def _total(session: Session, published: sa.Subquery) -> tuple[Figures, list[Network]]:
    """The figures of the whole period, and which of its networks give no impressions."""
    without = sorted(WITHOUT_IMPRESSIONS)
    network = published.c.network
    # Counted in the same pass: one read of the period instead of two.
    stmt = sa.select(
        *_sums(published),
        *(sa.func.count(sa.case((network == n.value, 1))) for n in without),
    ).select_from(published)
    row = session.connection().execute(stmt).one()
    sums = row[: -len(without)]
    return figures(sums), [n for n, count in zip(without, row[len(sums) :], strict=True) if count]


def _names(session: Session, model: Any, authority_id: int) -> dict[int, str]:
    stmt = for_authority(sa.select(model.id, model.name), authority_id)
    return {row[0]: row[1] for row in session.connection().execute(stmt).all()}


def _groups(
    session: Session, authority_id: int, published: sa.Subquery, by: GroupBy
) -> list[Group]:
    c = published.c
    groups: list[Group] = []
    if by == GroupBy.network:
        for value, sums in _grouped(session, published, c.network).items():
            network = _NETWORKS[value]
            groups.append(
                Group(key=network.value, label=network.label, network=network, figures=sums)
            )
    elif by == GroupBy.account:
        accounts = {
            a.id: a for a in session.exec(for_authority(select(Account), authority_id)).all()
        }
        for account_id, sums in _grouped(session, published, c.account_id).items():
            account = accounts[account_id]
            groups.append(
                Group(
                    key=str(account_id),
                    label=account.name,
                    network=Network(account.network),
                    figures=sums,
                )
            )
    else:
        none_label = {
            GroupBy.pillar: N_("Sans thématique"),
            GroupBy.objective: N_("Sans objectif"),
            GroupBy.audience: N_("Sans cible"),
            GroupBy.campaign: N_("Hors campagne"),
        }[by]
        model: type = {
            GroupBy.pillar: Pillar,
            GroupBy.objective: Objective,
            GroupBy.audience: Audience,
            GroupBy.campaign: Campaign,
        }[by]
        if by == GroupBy.pillar:
            found = _grouped(session, published, c.pillar_id)
        elif by == GroupBy.campaign:
            found = _grouped(session, published, c.campaign_id)
        elif by == GroupBy.objective:
            # A post serving two objectives counts in each (one joined row each), a post
            # serving none in "none" (the outer join's NULL).
            found = _grouped(
                session,
                published,
                col(PostObjective.objective_id),
                (PostObjective, col(PostObjective.post_id) == c.post_id),
            )
        else:
            found = _grouped(
                session,
                published,
                col(PostAudience.audience_id),
                (PostAudience, col(PostAudience.post_id) == c.post_id),
            )
        names = _names(session, model, authority_id)
        for id_, sums in found.items():
            groups.append(
                Group(
                    key=str(id_) if id_ is not None else "none",
                    label=names.get(id_, "") if id_ is not None else none_label,
                    figures=sums,
                )
            )
    groups.sort(key=lambda g: (g.key == "none", -g.figures.publications, g.label, g.key))
    return groups


def _day_number(session: Session, day: Any) -> sa.ColumnElement[int]:
    """Days since Monday 1 January of year 1: divided by 7, the same number for the days of one
    ISO week."""
    if session.connection().dialect.name == "postgresql":
        return cast(sa.ColumnElement[int], day - date(1, 1, 1))
    return sa.cast(sa.func.julianday(day) - sa.func.julianday("0001-01-01"), sa.Integer)


def _followers(
    session: Session, authority_id: int, from_date: date, to_date: date
) -> list[AccountFollowers]:
    accounts = session.exec(
        for_authority(select(Account), authority_id)
        .where(col(Account.network) != Network.manual)
        .order_by(col(Account.name))
    ).all()
    account_id, day = col(AccountSnapshot.account_id), col(AccountSnapshot.day)
    # The first count of each account and the last of each (account, ISO week): the points of a
    # long period, and always its first and last counts.
    ranked = (
        sa.select(
            account_id,
            day,
            col(AccountSnapshot.followers),
            sa.func.row_number().over(partition_by=account_id, order_by=day).label("nth"),
            sa.func.row_number()
            .over(partition_by=(account_id, _day_number(session, day) // 7), order_by=day.desc())
            .label("nth_from_week_end"),
            sa.func.row_number()
            .over(partition_by=account_id, order_by=day.desc())
            .label("nth_from_end"),
        )
        .where(
            col(AccountSnapshot.authority_id) == authority_id,
            day >= from_date,
            day <= to_date,
        )
        .subquery("ranked")
    )
    r = ranked.c
    weekly = (to_date - from_date).days > WEEKLY_AFTER_DAYS
    stmt = sa.select(r.account_id, r.day, r.followers, r.nth, r.nth_from_end).order_by(r.day)
    if weekly:
        stmt = stmt.where(sa.or_(r.nth == 1, r.nth_from_week_end == 1))
    points: dict[int, list[FollowerPoint]] = defaultdict(list)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for id_, on, count, nth, nth_from_end in session.connection().execute(stmt).all():
        points[id_].append(FollowerPoint(day=on, followers=count))
        if nth == 1:
            first[id_] = count
        if nth_from_end == 1:
            last[id_] = count
    found = []
    for account in accounts:
        assert account.id is not None
        start, end = first.get(account.id), last.get(account.id)
        found.append(
            AccountFollowers(
                account_id=account.id,
                name=account.name,
                network=Network(account.network),
                first=start,
                last=end,
                change=end - start if start is not None and end is not None else None,
                points=points.get(account.id, []),
            )
        )
    return found


def _objectives(
    session: Session,
    authority_id: int,
    published: sa.Subquery,
    followers: Sequence[AccountFollowers],
    days: int,
) -> list[ObjectiveProgress]:
    objectives = session.exec(
        for_authority(select(Objective), authority_id)
        .where(col(Objective.active))
        .order_by(col(Objective.name))
    ).all()
    # The posts serving each objective: linked to it, or in a campaign linked to it; UNION keeps
    # a post linked both ways once.
    through_campaign = (
        for_authority(sa.select(col(Post.id), col(Campaign.objective_id)), authority_id)
        .join(Campaign, col(Campaign.id) == col(Post.campaign_id))
        .where(col(Campaign.objective_id).is_not(None))
    )
    served = sa.union(
        sa.select(col(PostObjective.post_id), col(PostObjective.objective_id)), through_campaign
    ).subquery("served")
    c = published.c
    stmt = (
        sa.select(served.c.objective_id, sa.func.count(sa.distinct(c.post_id)), *_sums(published))
        .select_from(published)
        .join(served, served.c.post_id == c.post_id)
        .group_by(served.c.objective_id)
    )
    per_objective = {
        row[0]: (int(row[1]), figures(row[2:])) for row in session.connection().execute(stmt)
    }
    gained = [f.change for f in followers if f.change is not None]
    found = []
    for objective in objectives:
        assert objective.id is not None
        posts, sums = per_objective.get(objective.id, (0, Figures()))
        metric = KpiMetric(objective.kpi_metric)
        value: int | None = {
            KpiMetric.impressions: sums.impressions,
            KpiMetric.reach: sums.impressions,
            KpiMetric.engagements: sums.engagements,
            KpiMetric.clicks: sums.clicks,
            KpiMetric.shares: sums.reposts,
            KpiMetric.posts: posts,
            KpiMetric.followers: sum(gained) if gained else None,
        }[metric]
        target = objective.kpi_target * days / PERIOD_DAYS[KpiPeriod(objective.kpi_period)]
        found.append(
            ObjectiveProgress(
                objective_id=objective.id,
                name=objective.name,
                kpi_metric=metric,
                kpi_period=KpiPeriod(objective.kpi_period),
                kpi_target=objective.kpi_target,
                target_for_period=round(target, 1),
                value=value,
                progress=round(100 * value / target, 1) if value is not None else None,
            )
        )
    return found


def _published_mix(session: Session, authority_id: int, published: sa.Subquery) -> list[PillarMix]:
    """Posts published in the period per pillar: a post counts once, whatever its networks."""
    c = published.c
    stmt = sa.select(c.pillar_id, sa.func.count(sa.distinct(c.post_id))).group_by(c.pillar_id)
    pillar_ids: list[int | None] = []
    for pillar_id, posts in session.connection().execute(stmt).all():
        pillar_ids += [pillar_id] * int(posts)
    return pillar_mix(session, authority_id, pillar_ids)


def _bounds(authority: Authority, from_date: date, to_date: date) -> tuple[datetime, datetime]:
    start, _ = day_bounds(from_date, authority.timezone)
    _, end = day_bounds(to_date, authority.timezone)
    return start, end


def reach(
    session: Session,
    *,
    authority: Authority,
    from_date: date,
    to_date: date,
    by: GroupBy = GroupBy.network,
) -> ReachReport:
    assert authority.id is not None
    published = _published(authority.id, *_bounds(authority, from_date, to_date))
    followers = _followers(session, authority.id, from_date, to_date)
    days = (to_date - from_date).days + 1
    total, networks_without_impressions = _total(session, published)
    return ReachReport(
        authority=authority.slug,
        timezone=authority.timezone,
        from_date=from_date,
        to_date=to_date,
        by=by,
        total=total,
        groups=_groups(session, authority.id, published, by),
        followers=followers,
        objectives=_objectives(session, authority.id, published, followers, days),
        pillar_mix=_published_mix(session, authority.id, published),
        networks_without_impressions=networks_without_impressions,
    )


# --- per post -----------------------------------------------------------------------------------


class SnapshotRead(BaseModel):
    step: int
    collected_at: datetime
    impressions: int | None
    likes: int | None
    reposts: int | None
    replies: int | None
    clicks: int | None


class PublicationMetrics(BaseModel):
    publication_id: int
    account_id: int
    account: str
    network: Network
    status: PublicationStatus
    published_at: datetime | None
    remote_url: str | None
    # False for Mastodon and Bluesky: their impressions are "non fourni", not zero.
    provides_impressions: bool
    snapshots: list[SnapshotRead]


def post_metrics(session: Session, *, post: Post) -> list[PublicationMetrics]:
    """Each publication of the post with its snapshots, oldest first."""
    assert post.id is not None
    publications = session.exec(
        for_authority(select(Publication), post.authority_id)
        .where(col(Publication.post_id) == post.id)
        .order_by(col(Publication.id))
    ).all()
    accounts = {
        a.id: a
        for a in session.exec(
            for_authority(select(Account), post.authority_id).where(
                col(Account.id).in_([p.account_id for p in publications])
            )
        ).all()
    }
    snapshots: dict[int, list[SnapshotRead]] = defaultdict(list)
    stmt = (
        for_authority(select(MetricSnapshot), post.authority_id)
        .where(col(MetricSnapshot.publication_id).in_([p.id for p in publications]))
        .order_by(col(MetricSnapshot.step))
    )
    for snapshot in session.exec(stmt).all():
        snapshots[snapshot.publication_id].append(
            SnapshotRead.model_validate(snapshot, from_attributes=True)
        )
    found = []
    for publication in publications:
        assert publication.id is not None
        account = accounts[publication.account_id]
        network = Network(account.network)
        found.append(
            PublicationMetrics(
                publication_id=publication.id,
                account_id=publication.account_id,
                account=account.name,
                network=network,
                status=PublicationStatus(publication.status),
                published_at=publication.published_at,
                remote_url=publication.remote_url,
                provides_impressions=network not in WITHOUT_IMPRESSIONS,
                snapshots=snapshots.get(publication.id, []),
            )
        )
    return found


# --- the monthly report ---------------------------------------------------------------------------


class TopPost(BaseModel):
    post_id: int
    text: str
    published_at: datetime
    networks: list[Network]
    impressions: int | None
    engagements: int
    urls: list[str]


class MonthCount(BaseModel):
    month: str
    publications: int
    posts: int


class MonthlyReport(BaseModel):
    month: str
    reach: ReachReport
    by_pillar: list[Group]
    top_posts: list[TopPost]
    this_month: MonthCount
    a_year_before: MonthCount
    previous_month: MonthCount


def parse_month(value: str | None, authority: Authority) -> date:
    if value is None:
        today = clock.now().astimezone(ZoneInfo(authority.timezone)).date()
        return today.replace(day=1)
    try:
        year, month = value.split("-")
        first = date(int(year), int(month), 1)
        if not 2000 <= first.year <= 2100:
            raise ValueError(value)
        return first
    except ValueError:
        raise BadPeriod(
            N_("Mois non valable : donnez-le au format AAAA-MM, par exemple 2026-11.")
        ) from None


def _count(session: Session, authority: Authority, first: date) -> MonthCount:
    assert authority.id is not None
    start, end = _bounds(authority, first, month_end(first))
    stmt = (
        for_authority(
            sa.select(
                col(Publication.authority_id),
                sa.func.count(),
                sa.func.count(sa.distinct(col(Publication.post_id))),
            ),
            authority.id,
        )
        .where(
            col(Publication.status) == PublicationStatus.published,
            col(Publication.published_at) >= start,
            col(Publication.published_at) < end,
        )
        .group_by(col(Publication.authority_id))
    )
    row = session.execute(stmt).first()
    return MonthCount(
        month=first.strftime("%Y-%m"),
        publications=int(row[1]) if row else 0,
        posts=int(row[2]) if row else 0,
    )


def _top_posts(session: Session, published: sa.Subquery, limit: int = 5) -> list[TopPost]:
    c = published.c
    sums = _sums(published)
    engagements, impressions = sums[7], sums[1]
    ranked = {
        row[0]: figures(row[1:])
        for row in session.connection().execute(
            sa.select(c.post_id, *sums)
            .group_by(c.post_id)
            .order_by(engagements.desc(), sa.func.coalesce(impressions, 0).desc(), c.post_id)
            .limit(limit)
        )
    }
    # The texts, dates, networks and links of the few posts shown only.
    texts: dict[int | None, str] = dict(
        session.connection()
        .execute(sa.select(col(Post.id), col(Post.text)).where(col(Post.id).in_(list(ranked))))
        .all()
    )
    published_at: dict[int, datetime] = {}
    networks: dict[int, set[Network]] = defaultdict(set)
    urls: dict[int, list[str]] = defaultdict(list)
    details = (
        sa.select(c.post_id, c.published_at, c.network, col(Publication.remote_url))
        .join(Publication, col(Publication.id) == c.publication_id)
        .where(c.post_id.in_(list(ranked)))
        .order_by(c.publication_id)
    )
    for post_id, at, network, url in session.connection().execute(details).all():
        published_at[post_id] = min(at, published_at.get(post_id, at))
        networks[post_id].add(_NETWORKS[network])
        if url:
            urls[post_id].append(url)
    return [
        TopPost(
            post_id=post_id,
            text=texts.get(post_id, ""),
            published_at=published_at[post_id],
            networks=sorted(networks[post_id]),
            impressions=figures_.impressions,
            engagements=figures_.engagements,
            urls=urls.get(post_id, []),
        )
        for post_id, figures_ in ranked.items()
    ]


def monthly(session: Session, *, authority: Authority, first: date) -> MonthlyReport:
    assert authority.id is not None
    last = month_end(first)
    published = _published(authority.id, *_bounds(authority, first, last))
    found = reach(session, authority=authority, from_date=first, to_date=last)
    previous = (first - timedelta(days=1)).replace(day=1)
    return MonthlyReport(
        month=first.strftime("%Y-%m"),
        reach=found,
        by_pillar=_groups(session, authority.id, published, GroupBy.pillar),
        top_posts=_top_posts(session, published),
        this_month=_count(session, authority, first),
        a_year_before=_count(session, authority, first.replace(year=first.year - 1)),
        previous_month=_count(session, authority, previous),
    )
