"""The reach of an authority's publications over a period, grouped as asked, with follower
counts over time, each objective's KPI against its target, and the pillar mix against the
targets; and the monthly report for the mayor built on it. docs/portee.md says exactly how each
figure is computed; keep them in step.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


@dataclass
class _Row:
    """One published publication of the period and its latest snapshot (None before the first)."""

    publication_id: int
    post_id: int
    account_id: int
    network: Network
    pillar_id: int | None
    campaign_id: int | None
    published_at: datetime
    impressions: int | None
    likes: int | None
    reposts: int | None
    replies: int | None
    clicks: int | None

    engagements: int = 0

    def __post_init__(self) -> None:
        self.engagements = (
            (self.likes or 0) + (self.reposts or 0) + (self.replies or 0) + (self.clicks or 0)
        )


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


def _rows(session: Session, authority_id: int, start: datetime, end: datetime) -> list[_Row]:
    stmt = (
        for_authority(
            sa.select(
                col(Publication.id),
                col(Publication.post_id),
                col(Publication.account_id),
                col(Account.network),
                col(Post.pillar_id),
                col(Post.campaign_id),
                col(Publication.published_at),
                col(LatestSnapshot.impressions),
                col(LatestSnapshot.likes),
                col(LatestSnapshot.reposts),
                col(LatestSnapshot.replies),
                col(LatestSnapshot.clicks),
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
        .order_by(col(Publication.published_at))
    )
    return [
        _Row(
            publication_id=cast(int, r[0]),
            post_id=r[1],
            account_id=r[2],
            network=_NETWORKS[r[3]],
            pillar_id=r[4],
            campaign_id=r[5],
            published_at=cast(datetime, r[6]),
            impressions=r[7],
            likes=r[8],
            reposts=r[9],
            replies=r[10],
            clicks=r[11],
        )
        for r in session.connection().execute(stmt).all()
    ]


def figures(rows: Iterable[_Row]) -> Figures:
    # Summed in locals and built once: a year is thousands of rows, and setting attributes of a
    # pydantic model one by one costs ten times more.
    publications = likes = reposts = replies = engagements = with_impressions = 0
    engaged_with_impressions = 0
    impressions: int | None = None
    clicks: int | None = None
    for row in rows:
        engaged = row.engagements
        publications += 1
        likes += row.likes or 0
        reposts += row.reposts or 0
        replies += row.replies or 0
        engagements += engaged
        if row.clicks is not None:
            clicks = (clicks or 0) + row.clicks
        if row.impressions is not None:
            impressions = (impressions or 0) + row.impressions
            with_impressions += 1
            engaged_with_impressions += engaged
    rate = round(100 * engaged_with_impressions / impressions, 2) if impressions else None
    return Figures(
        publications=publications,
        impressions=impressions,
        publications_with_impressions=with_impressions,
        likes=likes,
        reposts=reposts,
        replies=replies,
        clicks=clicks,
        engagements=engagements,
        engagement_rate=rate,
    )


def _links(
    session: Session,
    authority_id: int,
    period: tuple[datetime, datetime],
    model: type[PostObjective] | type[PostAudience],
) -> dict[int, list[int]]:
    """Post id → objective (or audience) ids, for the posts published in `period`."""
    target = (
        col(PostObjective.objective_id) if model is PostObjective else col(PostAudience.audience_id)
    )
    post_id = col(model.post_id)
    start, end = period
    published = for_authority(sa.select(col(Publication.post_id)), authority_id).where(
        col(Publication.status) == PublicationStatus.published,
        col(Publication.published_at) >= start,
        col(Publication.published_at) < end,
    )
    found: dict[int, list[int]] = defaultdict(list)
    links = sa.select(post_id, target).where(post_id.in_(published))
    for pid, tid in session.connection().execute(links).all():
        found[pid].append(tid)
    return found


def _names(session: Session, model: Any, authority_id: int) -> dict[int, str]:
    stmt = for_authority(sa.select(model.id, model.name), authority_id)
    return {row[0]: row[1] for row in session.connection().execute(stmt).all()}


def _groups(
    session: Session,
    authority_id: int,
    period: tuple[datetime, datetime],
    rows: Sequence[_Row],
    by: GroupBy,
) -> list[Group]:
    keyed: dict[str, list[_Row]] = defaultdict(list)
    labels: dict[str, str] = {}
    networks: dict[str, Network | None] = {}
    none_label = {
        GroupBy.pillar: N_("Sans thématique"),
        GroupBy.objective: N_("Sans objectif"),
        GroupBy.audience: N_("Sans cible"),
        GroupBy.campaign: N_("Hors campagne"),
    }
    if by == GroupBy.network:
        for row in rows:
            keyed[row.network.value].append(row)
            labels[row.network.value] = row.network.label
            networks[row.network.value] = row.network
    elif by == GroupBy.account:
        accounts = {
            a.id: a for a in session.exec(for_authority(select(Account), authority_id)).all()
        }
        for row in rows:
            key = str(row.account_id)
            keyed[key].append(row)
            account = accounts[row.account_id]
            labels[key] = account.name
            networks[key] = Network(account.network)
    else:
        model: type = {
            GroupBy.pillar: Pillar,
            GroupBy.objective: Objective,
            GroupBy.audience: Audience,
            GroupBy.campaign: Campaign,
        }[by]
        names = _names(session, model, authority_id)
        links: dict[int, list[int]] = {}
        if by == GroupBy.objective:
            links = _links(session, authority_id, period, PostObjective)
        elif by == GroupBy.audience:
            links = _links(session, authority_id, period, PostAudience)
        for row in rows:
            if by == GroupBy.pillar:
                ids: list[int | None] = [row.pillar_id]
            elif by == GroupBy.campaign:
                ids = [row.campaign_id]
            else:
                # A post serving two objectives counts in each.
                ids = list(links.get(row.post_id, [])) or [None]
            for id_ in ids:
                key = str(id_) if id_ is not None else "none"
                keyed[key].append(row)
                labels[key] = names.get(id_, "") if id_ is not None else none_label[by]
                networks[key] = None
    groups = [
        Group(key=key, label=labels[key], network=networks[key], figures=figures(group))
        for key, group in keyed.items()
    ]
    groups.sort(key=lambda g: (g.key == "none", -g.figures.publications, g.label))
    return groups


def _followers(
    session: Session, authority_id: int, from_date: date, to_date: date
) -> list[AccountFollowers]:
    accounts = session.exec(
        for_authority(select(Account), authority_id)
        .where(col(Account.network) != Network.manual)
        .order_by(col(Account.name))
    ).all()
    stmt = (
        sa.select(
            col(AccountSnapshot.account_id),
            col(AccountSnapshot.day),
            col(AccountSnapshot.followers),
        )
        .where(
            col(AccountSnapshot.authority_id) == authority_id,
            col(AccountSnapshot.day) >= from_date,
            col(AccountSnapshot.day) <= to_date,
        )
        .order_by(col(AccountSnapshot.day))
    )
    points: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for account_id, day, count in session.connection().execute(stmt).all():
        points[account_id].append((day, count))
    weekly = (to_date - from_date).days > WEEKLY_AFTER_DAYS
    found = []
    for account in accounts:
        assert account.id is not None
        series = points.get(account.id, [])
        first = series[0][1] if series else None
        last = series[-1][1] if series else None
        found.append(
            AccountFollowers(
                account_id=account.id,
                name=account.name,
                network=Network(account.network),
                first=first,
                last=last,
                change=last - first if first is not None and last is not None else None,
                points=[
                    FollowerPoint(day=day, followers=count)
                    for day, count in (_weekly(series) if weekly else series)
                ],
            )
        )
    return found


def _weekly(series: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The first count, then the last count of each week (ISO weeks): enough for a chart of a
    long period, a seventh of the points."""
    if not series:
        return []
    kept = {}
    for day, count in series:
        kept[day.isocalendar()[:2]] = (day, count)
    found = list(kept.values())
    return found if found[0] == series[0] else [series[0], *found]


def _objectives(
    session: Session,
    authority_id: int,
    period: tuple[datetime, datetime],
    rows: Sequence[_Row],
    followers: Sequence[AccountFollowers],
    days: int,
) -> list[ObjectiveProgress]:
    objectives = session.exec(
        for_authority(select(Objective), authority_id)
        .where(col(Objective.active))
        .order_by(col(Objective.name))
    ).all()
    links = _links(session, authority_id, period, PostObjective)
    campaign_objective = {
        c.id: c.objective_id
        for c in session.exec(for_authority(select(Campaign), authority_id)).all()
    }
    per_objective: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        ids = set(links.get(row.post_id, []))
        if row.campaign_id is not None and campaign_objective.get(row.campaign_id):
            ids.add(campaign_objective[row.campaign_id])  # type: ignore[arg-type]
        for id_ in ids:
            per_objective[id_].append(row)
    gained = [f.change for f in followers if f.change is not None]
    found = []
    for objective in objectives:
        assert objective.id is not None
        served = per_objective.get(objective.id, [])
        sums = figures(served)
        metric = KpiMetric(objective.kpi_metric)
        value: int | None = {
            KpiMetric.impressions: sums.impressions,
            KpiMetric.reach: sums.impressions,
            KpiMetric.engagements: sums.engagements,
            KpiMetric.clicks: sums.clicks,
            KpiMetric.shares: sums.reposts,
            KpiMetric.posts: len({r.post_id for r in served}),
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


def _published_mix(session: Session, authority_id: int, rows: Sequence[_Row]) -> list[PillarMix]:
    """Posts published in the period per pillar: a post counts once, whatever its networks."""
    per_post = {row.post_id: row.pillar_id for row in rows}
    return pillar_mix(session, authority_id, list(per_post.values()))


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
    rows: Sequence[_Row] | None = None,
) -> ReachReport:
    assert authority.id is not None
    period = _bounds(authority, from_date, to_date)
    if rows is None:
        rows = _rows(session, authority.id, *period)
    followers = _followers(session, authority.id, from_date, to_date)
    days = (to_date - from_date).days + 1
    return ReachReport(
        authority=authority.slug,
        timezone=authority.timezone,
        from_date=from_date,
        to_date=to_date,
        by=by,
        total=figures(rows),
        groups=_groups(session, authority.id, period, rows, by),
        followers=followers,
        objectives=_objectives(session, authority.id, period, rows, followers, days),
        pillar_mix=_published_mix(session, authority.id, rows),
        networks_without_impressions=sorted(
            {r.network for r in rows if r.network in WITHOUT_IMPRESSIONS}
        ),
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


def _top_posts(session: Session, rows: Sequence[_Row], limit: int = 5) -> list[TopPost]:
    per_post: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        per_post[row.post_id].append(row)
    ranked = sorted(
        ((post_id, figures(group), group) for post_id, group in per_post.items()),
        key=lambda item: (-item[1].engagements, -(item[1].impressions or 0), item[0]),
    )[:limit]
    # The texts and links of the few posts shown only: the period's rows do not carry them.
    ids = [post_id for post_id, _, _ in ranked]
    texts: dict[int | None, str] = dict(
        session.connection()
        .execute(sa.select(col(Post.id), col(Post.text)).where(col(Post.id).in_(ids)))
        .all()
    )
    wanted = {row.publication_id for _, _, group in ranked for row in group}
    urls: dict[int, list[str]] = defaultdict(list)
    links = (
        sa.select(col(Publication.post_id), col(Publication.remote_url))
        .where(col(Publication.id).in_(wanted), col(Publication.remote_url).is_not(None))
        .order_by(col(Publication.id))
    )
    for post_id, url in session.connection().execute(links).all():
        if url:
            urls[post_id].append(url)
    return [
        TopPost(
            post_id=post_id,
            text=texts.get(post_id, ""),
            published_at=min(r.published_at for r in group),
            networks=sorted({r.network for r in group}),
            impressions=sums.impressions,
            engagements=sums.engagements,
            urls=urls.get(post_id, []),
        )
        for post_id, sums, group in ranked
    ]


def monthly(session: Session, *, authority: Authority, first: date) -> MonthlyReport:
    assert authority.id is not None
    last = month_end(first)
    start, end = _bounds(authority, first, last)
    rows = _rows(session, authority.id, start, end)
    found = reach(session, authority=authority, from_date=first, to_date=last, rows=rows)
    previous = (first - timedelta(days=1)).replace(day=1)
    return MonthlyReport(
        month=first.strftime("%Y-%m"),
        reach=found,
        by_pillar=_groups(session, authority.id, (start, end), rows, GroupBy.pillar),
        top_posts=_top_posts(session, rows),
        this_month=_count(session, authority, first),
        a_year_before=_count(session, authority, first.replace(year=first.year - 1)),
        previous_month=_count(session, authority, previous),
    )
