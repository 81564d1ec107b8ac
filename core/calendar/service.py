"""The monthly calendar of an authority, in its timezone: each day with its posts, and for the
month the pillar mix against each pillar's target share, the audiences and objectives covered,
empty days, abandoned accounts, days over quota, pre-electoral periods and silence windows, public
and school holidays, free posting slots and, in a pre-electoral period, the regularity figures."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from core import clock, electoral
from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.calendar import holidays, slots
from core.calendar.models import WEEKDAYS
from core.config import Settings
from core.editorial.models import ELECTION_KIND_LABELS, Audience, ElectionKind, Objective, Pillar
from core.errors import InvalidInput
from core.i18n import N_
from core.posts.models import (
    Post,
    PostAudience,
    PostObjective,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.rules import electoral as electoral_rules
from core.rules import quotas
from core.tenancy import for_authority

M = TypeVar("M", Audience, Objective, Pillar)
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EXCERPT = 120
_POST_STATUSES = {status.value: status for status in PostStatus}


class BadMonth(InvalidInput):
    code = "invalid_month"
    detail = N_("Indiquez le mois sous la forme AAAA-MM, par exemple 2026-12.")


def parse_month(value: str) -> date:
    match = MONTH.match(value.strip())
    if not match or not 1900 < int(match.group(1)) < 3000:
        raise BadMonth(extra={"field": "month"})
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


# --- answer ------------------------------------------------------------------------------------


class TargetRead(BaseModel):
    account_id: int
    network: Network
    status: PublicationStatus


@dataclass(slots=True)
class CalendarPost:
    """A post as a day of the calendar shows it: a plain dataclass, much cheaper to build than a
    model for the hundreds of posts of a busy month, and serialised the same way."""

    id: int
    status: PostStatus
    time: str  # local HH:MM
    scheduled_at: datetime
    pillar_id: int | None
    campaign_id: int | None
    text: str  # an excerpt
    targets: list[TargetRead]


@dataclass(slots=True)
class FreeSlot:
    account_id: int
    time: str  # local HH:MM
    at: datetime


class DayQuota(BaseModel):
    account_id: int
    count: int
    limit: int


class Day(BaseModel):
    date: date
    weekday: str
    posts: list[CalendarPost]
    public_holiday: str | None
    school_holiday: str | None
    pre_electoral: bool
    silence: bool
    over_quota: list[DayQuota]
    free_slots: list[FreeSlot]


class PillarMix(BaseModel):
    pillar_id: int | None
    name: str
    color: str | None
    target_share: int
    posts: int
    share: float  # percent of the month's posts


class Coverage(BaseModel):
    id: int
    name: str
    posts: int


class Gap(BaseModel):
    account_id: int
    name: str
    network: Network
    last_post_at: datetime | None
    since: date
    until: date
    days: int


class OverQuota(BaseModel):
    date: date
    account_id: int
    count: int
    limit: int


class WindowRead(BaseModel):
    election_id: int
    election: str
    starts_at: datetime
    ends_at: datetime
    round_day: date | None = None


class WeekFigure(BaseModel):
    week_start: date
    planned: int
    over: bool


class AccountRegularity(BaseModel):
    account_id: int
    name: str
    weekly_average_before: float
    weeks: list[WeekFigure]


class MonthComparison(BaseModel):
    month: str
    posts: int
    posts_a_year_before: int


class Regularity(BaseModel):
    period_starts_at: datetime
    threshold_percent: int
    accounts: list[AccountRegularity]
    months: list[MonthComparison]


class CalendarMonth(BaseModel):
    month: str
    timezone: str
    school_zone: str | None
    days: list[Day]
    pillar_mix: list[PillarMix]
    audiences: list[Coverage]
    objectives: list[Coverage]
    empty_days: list[date]
    abandoned_accounts: list[Gap]
    over_quota: list[OverQuota]
    pre_electoral_periods: list[WindowRead]
    silence_windows: list[WindowRead]
    public_holidays: dict[date, str]
    school_holidays: dict[date, str]
    free_slots: int
    regularity: Regularity | None


# --- building ----------------------------------------------------------------------------------


def school_zone(authority: Authority) -> str | None:
    zone = (authority.settings or {}).get("school_zone")
    return zone if zone in holidays.SCHOOL_ZONES else None


def set_school_zone(session: Session, *, authority: Authority, zone: str | None) -> None:
    """The school-holiday zone (A, B or C) the calendar shows; None shows none."""
    if zone is not None and zone not in holidays.SCHOOL_ZONES:
        raise InvalidInput(
            N_("La zone de vacances scolaires est A, B ou C (ou aucune)."),
            extra={"field": "school_zone"},
        )
    authority.settings = {**(authority.settings or {}), "school_zone": zone}
    session.add(authority)


def month(
    session: Session,
    settings: Settings,
    *,
    authority: Authority,
    first: date,
    only_author_id: int | None = None,
) -> CalendarMonth:
    """The month starting on `first`. With `only_author_id` (a contributor), the days list only
    that person's posts; the month's figures still describe the whole plan."""
    assert authority.id is not None
    tz = authority.timezone
    zone = ZoneInfo(tz)
    last = month_end(first)
    start, _ = quotas.day_bounds(first, tz)
    _, end = quotas.day_bounds(last, tz)
    posts = (
        session.connection()
        .execute(_POSTS, {"authority_id": authority.id, "start": start, "end": end})
        .all()
    )
    accounts = list(session.exec(_ACCOUNTS, params={"authority_id": authority.id}).all())
    targets, going_out = _targets(
        session, authority.id, start, end, {a.id: Network(a.network) for a in accounts}
    )

    # One pass over the month's posts, which come ordered by time.
    planned_pillars: list[int | None] = []
    by_day: dict[date, list[CalendarPost]] = defaultdict(list)
    per_account_day: Counter[tuple[date, int]] = Counter()
    busy_days: set[date] = set()
    # Each account's planned times, in order.
    times: dict[int, list[datetime]] = defaultdict(list)
    no_targets: list[TargetRead] = []
    no_accounts: list[int] = []
    for post_id, status, at, pillar_id, text, author_id, campaign_id in posts:
        local = at.astimezone(zone)
        day = local.date()
        if status not in quotas.NOT_PLANNED:
            planned_pillars.append(pillar_id)
            busy_days.add(day)
            for account_id in going_out.get(post_id, no_accounts):
                per_account_day[(day, account_id)] += 1
                times[account_id].append(at)
        if only_author_id is not None and author_id != only_author_id:
            continue
        by_day[day].append(
            CalendarPost(
                post_id,
                _POST_STATUSES[status],
                f"{local.hour:02d}:{local.minute:02d}",
                at,
                pillar_id,
                campaign_id,
                _excerpt(text),
                targets.get(post_id, no_targets),
            )
        )

    over = _over_quota(per_account_day, accounts)
    elections = electoral.elections_of(session, authority.id)
    periods = [
        w for w in electoral.pre_electoral_periods(elections, tz) if _overlaps(w, start, end)
    ]
    silences = [w for w in electoral.silence_windows(elections, tz) if _overlaps(w, start, end)]
    public = holidays.public(first, last, timezone=tz)
    zone_letter = school_zone(authority)
    school = holidays.school(first, last, zone=zone_letter)
    free = _free_slots(session, authority.id, accounts, first, last, tz, times)

    days = []
    day = first
    while day <= last:
        day_start, day_end = quotas.day_bounds(day, tz)
        days.append(
            Day(
                date=day,
                weekday=WEEKDAYS[day.weekday()],
                posts=by_day.get(day, []),
                public_holiday=public.get(day),
                school_holiday=school.get(day),
                pre_electoral=any(_overlaps(w, day_start, day_end) for w in periods),
                silence=any(_overlaps(w, day_start, day_end) for w in silences),
                over_quota=[
                    DayQuota(account_id=o.account_id, count=o.count, limit=o.limit)
                    for o in over
                    if o.date == day
                ],
                free_slots=free.get(day, []),
            )
        )
        day += timedelta(days=1)

    return CalendarMonth(
        month=first.strftime("%Y-%m"),
        timezone=tz,
        school_zone=zone_letter,
        days=days,
        pillar_mix=pillar_mix(session, authority.id, planned_pillars),
        audiences=_coverage(
            session, _all(session, Audience, authority.id), _AUDIENCES_COVERED, start, end
        ),
        objectives=_coverage(
            session, _all(session, Objective, authority.id), _OBJECTIVES_COVERED, start, end
        ),
        empty_days=[d.date for d in days if d.date not in busy_days],
        abandoned_accounts=_gaps(
            session, settings, authority.id, accounts, times, first, last, tz, start
        ),
        over_quota=over,
        pre_electoral_periods=[_window(w) for w in periods],
        silence_windows=[_window(w) for w in silences],
        public_holidays=public,
        school_holidays=school,
        free_slots=sum(len(v) for v in free.values()),
        regularity=_regularity(
            session, settings, authority, accounts, periods, first, last, per_account_day
        )
        if periods
        else None,
    )


def _all(session: Session, model: type[M], authority_id: int) -> list[M]:
    return list(session.exec(_all_statement(model), params={"authority_id": authority_id}).all())


@cache
def _all_statement(model: type[M]) -> SelectOfScalar[M]:
    return for_authority(select(model), AUTHORITY).order_by(model.name)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rstrip() + "…"


def _overlaps(window: electoral.Window, start: datetime, end: datetime) -> bool:
    return window.starts_at < end and start < window.ends_at


def _window(w: electoral.Window) -> WindowRead:
    assert w.election.id is not None
    return WindowRead(
        election_id=w.election.id,
        election=str(ELECTION_KIND_LABELS[ElectionKind(w.election.kind)]),
        starts_at=w.starts_at,
        ends_at=w.ends_at,
        round_day=w.round_day,
    )


# --- statements ---------------------------------------------------------------------------------
# The month's statements are built once, with bind parameters: building them at each call
# (SQLAlchemy's operators, coercions and cache keys, for about fifteen statements) cost more
# than running them.

AUTHORITY: sa.BindParameter[int] = sa.bindparam("authority_id", type_=sa.Integer)


def _in_range(at: Any) -> tuple[Any, Any]:
    return at >= sa.bindparam("start"), at < sa.bindparam("end")


# (id, status, scheduled_at, pillar_id, text, author_id, campaign_id): columns never null here.
_POSTS = cast(
    "sa.Select[int, str, datetime, int | None, str, int | None, int | None]",
    for_authority(
        sa.select(
            col(Post.id),
            col(Post.status),
            col(Post.scheduled_at),
            col(Post.pillar_id),
            col(Post.text),
            col(Post.author_id),
            col(Post.campaign_id),
        ),
        AUTHORITY,
    )
    .where(*_in_range(col(Post.scheduled_at)), col(Post.status) != PostStatus.cancelled)
    .order_by(col(Post.scheduled_at), col(Post.id)),
)

_ACCOUNTS = for_authority(select(Account), AUTHORITY)

_TARGETS = (
    for_authority(
        sa.select(col(Post.id), col(Publication.account_id), col(Publication.status)), AUTHORITY
    )
    .join(Publication, col(Publication.post_id) == col(Post.id))
    .where(*_in_range(col(Post.scheduled_at)), col(Post.status) != PostStatus.cancelled)
    .order_by(col(Publication.id))
)


def _coverage_statement(key: Any, link_post_id: Any) -> sa.Select[tuple[int, int]]:
    # The month's posts first, by the (authority, time) index, then their links by post: kept
    # apart (MATERIALIZED), since PostgreSQL misjudges how many posts a month of one authority
    # has and would otherwise read every link of every post.
    month_posts = (
        for_authority(sa.select(col(Post.id)), AUTHORITY)
        .where(*_in_range(col(Post.scheduled_at)), col(Post.status).not_in(quotas.NOT_PLANNED))
        .cte("month_posts")
        .prefix_with("MATERIALIZED")
    )
    return (
        sa.select(key, sa.func.count())
        .select_from(month_posts)
        .join(key.table, link_post_id == month_posts.c.id)
        .group_by(key)
    )


_AUDIENCES_COVERED = _coverage_statement(col(PostAudience.audience_id), col(PostAudience.post_id))
_OBJECTIVES_COVERED = _coverage_statement(
    col(PostObjective.objective_id), col(PostObjective.post_id)
)


@cache
def _last_before_statement(accounts: int) -> sa.Select[*tuple[Any, ...]]:
    """Each account's last publication before the month that went out (or is scheduled), read
    from the (account, due_at) index: one short index walk per account, all in one statement
    (parameters `account_0`… and `start`)."""
    return sa.select(
        *(
            for_authority(sa.select(col(Publication.due_at)), AUTHORITY)
            .where(
                col(Publication.account_id) == sa.bindparam(f"account_{n}"),
                col(Publication.due_at) < sa.bindparam("start"),
                col(Publication.status).in_(quotas.GOING_OUT),
            )
            .order_by(col(Publication.due_at).desc())
            .limit(1)
            .scalar_subquery()
            for n in range(accounts)
        )
    )


@cache
def _month_counts_statement(months: int) -> sa.Select[*tuple[Any, ...]]:
    """The posts planned in each of `months` ranges (parameters `start_0`, `end_0`…): each an
    index-only range count on (authority, time, status). (A UNION of the same counts made
    PostgreSQL start parallel workers, which cost more than the counting; one scan of both years
    with a filter per month read every post of the authority.)"""
    at = col(Post.scheduled_at)
    return sa.select(
        *(
            # count(authority_id), a column of the index, keeps the count an index-only scan.
            for_authority(sa.select(sa.func.count(col(Post.authority_id))), AUTHORITY)
            .where(
                at >= sa.bindparam(f"start_{n}"),
                at < sa.bindparam(f"end_{n}"),
                col(Post.status).not_in(quotas.NOT_PLANNED),
            )
            .scalar_subquery()
            for n in range(months)
        )
    )


def _targets(
    session: Session,
    authority_id: int,
    start: datetime,
    end: datetime,
    networks: dict[int | None, Network],
) -> tuple[dict[int, list[TargetRead]], dict[int, list[int]]]:
    """Each post's targets, and the accounts it goes out on (its targets not cancelled)."""
    params = {"authority_id": authority_id, "start": start, "end": end}
    rows = session.connection().execute(_TARGETS, params).all()
    found: dict[int, list[TargetRead]] = defaultdict(list)
    going_out: dict[int, list[int]] = defaultdict(list)
    cancelled = PublicationStatus.cancelled.value
    # A busy month has thousands of targets but only a few distinct (account, status) values:
    # each is built once, without validation (trusted values from the database), and shared by
    # the posts that have it. They are never modified.
    distinct: dict[tuple[int, str], TargetRead] = {}
    for post_id, account_id, status in rows:
        key = (account_id, status)
        target = distinct.get(key)
        if target is None:
            target = distinct[key] = TargetRead.model_construct(
                account_id=account_id,
                network=networks[account_id],
                status=PublicationStatus(status),
            )
        found[post_id or 0].append(target)
        if status != cancelled:
            going_out[post_id or 0].append(account_id)
    return found, going_out


def _over_quota(
    per_account_day: Counter[tuple[date, int]], accounts: Sequence[Account]
) -> list[OverQuota]:
    limits = {a.id: quotas.quota_of(a) for a in accounts}
    found = []
    for (day, account_id), n in sorted(per_account_day.items()):
        limit = limits.get(account_id)
        if limit is not None and n > limit:
            found.append(OverQuota(date=day, account_id=account_id, count=n, limit=limit))
    return found


def pillar_mix(
    session: Session, authority_id: int, pillar_ids: Sequence[int | None]
) -> list[PillarMix]:
    """Each pillar's share of the posts whose pillars are `pillar_ids` (one entry a post, None
    for a post without a pillar), against its target share. The calendar counts what is planned,
    the reach report what went out."""
    pillars = session.exec(_all_statement(Pillar), params={"authority_id": authority_id}).all()
    counts = Counter(pillar_ids)
    total = len(pillar_ids)

    def share(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    mix = [
        PillarMix(
            pillar_id=p.id,
            name=p.name,
            color=p.color,
            target_share=p.target_share,
            posts=counts.get(p.id, 0),
            share=share(counts.get(p.id, 0)),
        )
        for p in pillars
        if p.active or counts.get(p.id, 0)
    ]
    if counts.get(None):
        mix.append(
            PillarMix(
                pillar_id=None,
                name="Sans thématique",
                color=None,
                target_share=0,
                posts=counts[None],
                share=share(counts[None]),
            )
        )
    return mix


def _coverage(
    session: Session,
    rows: Sequence[Audience] | Sequence[Objective],
    stmt: sa.Select[tuple[int, int]],
    start: datetime,
    end: datetime,
) -> list[Coverage]:
    """How many of the month's planned posts speak to each audience (or serve each objective)."""
    if not rows:
        return []
    params = {"authority_id": rows[0].authority_id, "start": start, "end": end}
    counts = {k: int(n) for k, n in session.execute(stmt, params).all()}
    return [
        Coverage(id=row.id, name=row.name, posts=counts.get(row.id, 0))
        for row in rows
        if row.id is not None
    ]


def _gaps(
    session: Session,
    settings: Settings,
    authority_id: int,
    accounts: Sequence[Account],
    times: dict[int, list[datetime]],
    first: date,
    last: date,
    tz: str,
    start: datetime,
) -> list[Gap]:
    """Stretches of more than N days without any post for an account, within the month, from
    each account's planned times in the month (in order)."""
    zone = ZoneInfo(tz)
    limit = settings.abandoned_account_days
    before = _last_before(session, authority_id, [a.id for a in accounts if a.id], start)
    found = []
    _, month_stop = quotas.day_bounds(last, tz)
    for account in accounts:
        assert account.id is not None
        previous = before.get(account.id)
        origin = previous or account.created_at
        for moment in [*times.get(account.id, []), month_stop]:
            days = (moment - origin).days
            if days > limit:
                since = max(origin.astimezone(zone).date() + timedelta(days=1), first)
                # The day of the next post is not a day without a post.
                until = min(moment.astimezone(zone).date() - timedelta(days=1), last)
                if since <= until:
                    found.append(
                        Gap(
                            account_id=account.id,
                            name=account.name,
                            network=account.network,
                            last_post_at=previous if origin is previous else None,
                            since=since,
                            until=until,
                            days=days,
                        )
                    )
            origin = previous = moment
    return found


def _last_before(
    session: Session, authority_id: int, account_ids: Sequence[int], start: datetime
) -> dict[int, datetime]:
    """Each account's last publication before the month that went out (or is scheduled)."""
    if not account_ids:
        return {}
    params: dict[str, Any] = {"authority_id": authority_id, "start": start}
    params.update({f"account_{n}": account_id for n, account_id in enumerate(account_ids)})
    row = session.execute(_last_before_statement(len(account_ids)), params).one()
    return {
        account_id: _aware(last)
        for account_id, last in zip(account_ids, row, strict=True)
        if last is not None
    }


def _aware(value: Any) -> datetime:
    # MAX() on SQLite gives back the stored text, not the column's type.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _free_slots(
    session: Session,
    authority_id: int,
    accounts: Sequence[Account],
    first: date,
    last: date,
    tz: str,
    times: dict[int, list[datetime]],
) -> dict[date, list[FreeSlot]]:
    """The slots still to come with no post of their account at that time (`times`: each
    account's planned times)."""
    ids = [a.id for a in accounts if a.id is not None]
    all_slots = slots.slots_of(session, authority_id=authority_id, account_ids=ids)
    if not all_slots:
        return {}
    taken = {account_id: set(times.get(account_id, ())) for account_id in ids}
    now = clock.now()
    zone = ZoneInfo(tz)
    found: dict[date, list[FreeSlot]] = defaultdict(list)
    for slot, at in slots.slot_instants(all_slots, first, last, tz):
        if at >= now and at not in taken[slot.account_id]:
            local = at.astimezone(zone)
            found[local.date()].append(
                FreeSlot(slot.account_id, f"{local.hour:02d}:{local.minute:02d}", at)
            )
    return found


def _regularity(
    session: Session,
    settings: Settings,
    authority: Authority,
    accounts: Sequence[Account],
    periods: Sequence[electoral.Window],
    first: date,
    last: date,
    month_days: Counter[tuple[date, int]],
) -> Regularity:
    """`month_days`: the month's planned publications per (local day, account)."""
    assert authority.id is not None
    tz = authority.timezone
    period = min(periods, key=lambda w: w.starts_at)
    ids = [a.id for a in accounts if a.id is not None]
    baseline = electoral_rules.weekly_baseline(
        session,
        authority_id=authority.id,
        account_ids=ids,
        period_start=period.starts_at,
        timezone=tz,
    )
    threshold = settings.regularity_threshold_percent
    monday = first - timedelta(days=first.weekday())
    weeks: list[tuple[date, datetime, datetime]] = []
    while monday <= last:
        week_start, _ = quotas.day_bounds(monday, tz)
        week_end, _ = quotas.day_bounds(monday + timedelta(days=7), tz)
        if week_end > period.starts_at and week_start < period.ends_at:
            weeks.append((monday, week_start, week_end))
        monday += timedelta(days=7)
    per_week: list[Counter[int]] = [Counter() for _ in weeks]
    if weeks:
        # A local day belongs to the week of its Monday. The month's own days are counted
        # already; only the days of its first and last weeks outside the month are read.
        week_of = {w[0]: index for index, w in enumerate(weeks)}
        day_counts = Counter(month_days)
        month_start, _ = quotas.day_bounds(first, tz)
        _, month_stop = quotas.day_bounds(last, tz)
        zone = ZoneInfo(tz)
        for edge_start, edge_end in [(weeks[0][1], month_start), (month_stop, weeks[-1][2])]:
            if edge_start < edge_end:
                for account_id, at in quotas.planned_instants(
                    session,
                    authority_id=authority.id,
                    account_ids=ids,
                    start=edge_start,
                    end=edge_end,
                ):
                    day_counts[(at.astimezone(zone).date(), account_id)] += 1
        for (day, account_id), n in day_counts.items():
            index = week_of.get(day - timedelta(days=day.weekday()))
            if index is not None:
                per_week[index][account_id] += n
    figures = []
    for account in accounts:
        assert account.id is not None
        usual = baseline.get(account.id, 0.0)
        figures.append(
            AccountRegularity(
                account_id=account.id,
                name=account.name,
                weekly_average_before=round(usual, 2),
                weeks=[
                    WeekFigure(
                        week_start=w[0],
                        planned=counts.get(account.id, 0),
                        over=electoral_rules.over_threshold(
                            counts.get(account.id, 0), usual, threshold
                        )
                        and counts.get(account.id, 0) > 0,
                    )
                    for w, counts in zip(weeks, per_week, strict=True)
                ],
            )
        )
    return Regularity(
        period_starts_at=period.starts_at,
        threshold_percent=threshold,
        accounts=figures,
        months=_months_compared(session, authority, period),
    )


def _months_compared(
    session: Session, authority: Authority, period: electoral.Window
) -> list[MonthComparison]:
    """For each month of the period, the posts planned in it and in the same month a year
    before (all accounts)."""
    assert authority.id is not None
    tz = authority.timezone
    zone = ZoneInfo(tz)
    months = []
    current = period.starts_at.astimezone(zone).date().replace(day=1)
    stop = period.ends_at.astimezone(zone).date()
    while current <= stop:
        months.append(current)
        current = month_end(current) + timedelta(days=1)
    firsts = [*months, *(_year_before(m) for m in months)]
    params: dict[str, Any] = {"authority_id": authority.id}
    for n, first in enumerate(firsts):
        params[f"start_{n}"], params[f"end_{n}"] = _month_bounds(first, tz)
    found = [int(n) for n in session.execute(_month_counts_statement(len(firsts)), params).one()]
    return [
        MonthComparison(
            month=m.strftime("%Y-%m"),
            posts=found[i],
            posts_a_year_before=found[len(months) + i],
        )
        for i, m in enumerate(months)
    ]


def _month_bounds(first: date, tz: str) -> tuple[datetime, datetime]:
    start, _ = quotas.day_bounds(first, tz)
    _, end = quotas.day_bounds(month_end(first), tz)
    return start, end


def _year_before(first: date) -> date:
    return first.replace(year=first.year - 1)
