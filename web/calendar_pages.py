"""The calendar pages: the month as a grid, a week or a list, with the month's panel (pillar mix
against the targets, empty days, abandoned accounts, quotas, electoral periods, free slots), and
moving a post to another day or time: dragged (web/static/js/calendar.js) or through the move
form, which works without JavaScript. Every move goes through the posts service."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from api.deps import Member, SessionDep, SettingsDep
from core import clock
from core.accounts.models import NETWORK_LABELS, Account, Network
from core.authorities.models import Authority
from core.calendar import feed
from core.calendar import service as calendar
from core.config import Settings
from core.editorial.models import Campaign, Pillar
from core.errors import AppError, Conflict, InvalidInput
from core.i18n import N_
from core.posts import access
from core.posts import service as posts
from core.posts.models import POST_STATUS_LABELS, EventChannel, Post, PostStatus
from core.posts.schemas import PostUpdate
from core.rules import checks as rules
from core.rules.findings import Finding, Severity
from core.tenancy import for_authority
from core.validation import MAX_ID
from web import i18n
from web.deps import CsrfDep, PageMemberDep
from web.posts import PagePostDep, PagePostMemberDep
from web.templating import format_day, locale_of, render

router = APIRouter(include_in_schema=False)

VIEWS = ("month", "week", "list")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
CLOCK = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)(?::[0-5]\d)?$")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
# Posts shown in a day of the month grid; the others are a link away, in the list.
CELL_LIMIT = 6
# The hours a week always shows; hours outside get a row only when a post is there.
WORKING_HOURS = range(7, 22)
# What a move can break: the time itself, the day's quota, the eve-of-vote silence.
TIME_RULES = {"time_past", "nonexistent_time", "daily_quota", "silence_window"}
# The warnings worth telling right after a move.
MOVE_WARNINGS = {"ambiguous_time", "pre_electoral_period", "pre_electoral_achievements"}


class BadWeek(InvalidInput):
    code = "invalid_week"
    detail = N_("Indiquez la semaine sous la forme AAAA-Sss, par exemple 2026-W49.")


class BadFilter(InvalidInput):
    code = "invalid_filter"
    detail = N_("Le filtre « {name} » n'est pas valide : choisissez une valeur dans la liste.")


class BadView(InvalidInput):
    code = "invalid_view"
    detail = N_("Choisissez l'affichage « month », « week » ou « list ».")


class MoveRefused(Conflict):
    code = "move_refused"
    detail = N_("La publication n'a pas été déplacée au {when} : {reasons}")


class BadMoveInput(InvalidInput):
    code = "invalid_move"
    detail = N_(
        "Indiquez la nouvelle date (AAAA-MM-JJ, par exemple 2026-12-03) et l'heure (HH:MM, par "
        "exemple 12:15)."
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- reading the query ------------------------------------------------------------------------


def parse_week(value: str) -> date:
    match = WEEK.match(value.strip())
    if not match:
        raise BadWeek(extra={"field": "week"})
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise BadWeek(extra={"field": "week"}) from None


def week_code(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def _id(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise BadFilter(name=name, extra={"field": name})
    return int(value)


@dataclass(frozen=True)
class Filters:
    pillar: int | None = None
    account: int | None = None
    status: PostStatus | None = None
    campaign: int | None = None

    @classmethod
    def parse(cls, *, pillar: str, account: str, status: str, campaign: str) -> Filters:
        chosen = None
        if status.strip():
            try:
                chosen = PostStatus(status.strip())
            except ValueError:
                raise BadFilter(name="status", extra={"field": "status"}) from None
        return cls(
            pillar=_id(pillar, "pillar"),
            account=_id(account, "account"),
            status=chosen,
            campaign=_id(campaign, "campaign"),
        )

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.pillar, self.account, self.status, self.campaign))

    def keeps(self, post: calendar.CalendarPost) -> bool:
        if self.pillar is not None and post.pillar_id != self.pillar:
            return False
        if self.status is not None and post.status != self.status:
            return False
        if self.campaign is not None and post.campaign_id != self.campaign:
            return False
        return self.account is None or any(t.account_id == self.account for t in post.targets)

    def query(self) -> dict[str, str]:
        values = {
            "pillar": self.pillar,
            "account": self.account,
            "status": self.status.value if self.status else None,
            "campaign": self.campaign,
        }
        return {k: str(v) for k, v in values.items() if v is not None}


# --- what the templates show ------------------------------------------------------------------


@dataclass
class TargetView:
    network: str
    network_label: str
    account: str
    status: str


@dataclass
class PostView:
    id: int
    time: str
    day: date
    status: str
    status_label: str
    pillar_id: int | None
    pillar: str
    campaign: str | None
    text: str
    targets: list[TargetView]
    movable: bool
    # The move link's name for screen readers ("la publication du 3 décembre à 12:15").
    move_label: str = ""


@dataclass
class DayView:
    date: date
    is_today: bool
    is_past: bool
    weekend: bool
    posts: list[PostView]
    public_holiday: str | None
    school_holiday: str | None
    pre_electoral: bool
    silence: bool
    over_quota: list[tuple[str, int, int]]
    free_slots: list[tuple[str, str]]

    @property
    def iso(self) -> str:
        return self.date.isoformat()


@dataclass
class Lookup:
    """The authority's pillars, accounts and campaigns, read once per page."""

    pillars: dict[int, Pillar]
    accounts: dict[int, Account]
    campaigns: dict[int, Campaign]
    gettext: Callable[[str], str]
    locale: str = "fr"

    @classmethod
    def read(
        cls, session: Session, authority_id: int, gettext: Callable[[str], str], locale: str
    ) -> Lookup:
        def rows(model: Any) -> list[Any]:
            stmt = for_authority(select(model), authority_id).order_by(col(model.name))
            return list(session.exec(stmt).all())

        return cls(
            pillars={p.id: p for p in rows(Pillar)},
            accounts={a.id: a for a in rows(Account)},
            campaigns={c.id: c for c in rows(Campaign)},
            gettext=gettext,
            locale=locale,
        )

    @property
    def networks(self) -> dict[str, str]:
        """The networks of the authority's accounts, code to label."""
        return {
            Network(a.network).value: self.gettext(NETWORK_LABELS[Network(a.network)])
            for a in self.accounts.values()
        }

    def account_name(self, account_id: int) -> str:
        account = self.accounts.get(account_id)
        if account is None:
            return "—"
        return f"{account.name} ({self.gettext(NETWORK_LABELS[Network(account.network)])})"


MOVABLE = (PostStatus.draft, PostStatus.in_review, PostStatus.approved)


def post_view(
    post: calendar.CalendarPost, lookup: Lookup, day: date, *, can_move: bool, day_label: str
) -> PostView:
    gettext = lookup.gettext
    pillar = lookup.pillars.get(post.pillar_id) if post.pillar_id else None
    campaign = lookup.campaigns.get(post.campaign_id) if post.campaign_id else None
    return PostView(
        id=post.id,
        time=post.time,
        day=day,
        status=post.status.value,
        status_label=gettext(POST_STATUS_LABELS[PostStatus(post.status)]),
        pillar_id=post.pillar_id,
        pillar=pillar.name if pillar else gettext(N_("Sans thématique")),
        campaign=campaign.name if campaign else None,
        text=post.text,
        targets=[
            TargetView(
                network=t.network.value,
                network_label=gettext(NETWORK_LABELS[t.network]),
                account=lookup.accounts[t.account_id].name
                if t.account_id in lookup.accounts
                else "—",
                status=t.status.value,
            )
            for t in post.targets
        ],
        movable=can_move and post.status in MOVABLE,
        move_label=gettext(N_("la publication du %(day)s à %(time)s"))
        % {"day": day_label, "time": post.time},
    )


def day_view(
    day: calendar.Day, lookup: Lookup, filters: Filters, *, today: date, can_move: bool
) -> DayView:
    # Formatted once per day, not once per post: a busy month has hundreds of posts.
    label = format_day(day.date, "d MMMM", lookup.locale)
    return DayView(
        date=day.date,
        is_today=day.date == today,
        is_past=day.date < today,
        weekend=day.date.weekday() >= 5,
        posts=[
            post_view(p, lookup, day.date, can_move=can_move, day_label=label)
            for p in day.posts
            if filters.keeps(p)
        ],
        public_holiday=day.public_holiday,
        school_holiday=day.school_holiday,
        pre_electoral=day.pre_electoral,
        silence=day.silence,
        over_quota=[(lookup.account_name(q.account_id), q.count, q.limit) for q in day.over_quota],
        free_slots=[
            (s.time, lookup.account_name(s.account_id))
            for s in day.free_slots
            if filters.account is None or s.account_id == filters.account
        ],
    )


def ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) pairs: 1, 2, 3, 7 → (1, 3), (7, 7)."""
    found: list[tuple[date, date]] = []
    for day in sorted(days):
        if found and found[-1][1] + timedelta(days=1) == day:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def _url(path: str, **params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- the calendar page ------------------------------------------------------------------------


def calendar_context(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    *,
    view: str,
    month: str | None,
    week: str | None,
    filters: Filters,
    moved: int | None = None,
) -> dict[str, Any]:
    authority = member.authority
    assert authority.id is not None
    locale = locale_of(request)
    gettext = i18n.translations(locale).gettext
    if view not in VIEWS:
        raise BadView(extra={"field": "view"})
    zone = ZoneInfo(authority.timezone)
    now = clock.now()
    today = now.astimezone(zone).date()
    monday: date | None = None
    if view == "week":
        monday = parse_week(week) if week else today - timedelta(days=today.weekday())
        # A week belongs to the month of its Thursday (ISO 8601), for the panel and navigation.
        first = (monday + timedelta(days=3)).replace(day=1)
    else:
        first = calendar.parse_month(month) if month else today.replace(day=1)
    own_only = access.only_own(member)
    author = member.user.id if own_only else None
    found = calendar.month(
        session, settings, authority=authority, first=first, only_author_id=author
    )
    days = {d.date: d for d in found.days}
    if monday is not None:
        for other in {monday.replace(day=1), (monday + timedelta(days=6)).replace(day=1)} - {first}:
            more = calendar.month(
                session, settings, authority=authority, first=other, only_author_id=author
            )
            days.update({d.date: d for d in more.days})

    lookup = Lookup.read(session, authority.id, gettext, locale)
    can_move = member.can_edit
    can_add = member.can_edit

    # A month wholly in a pre-electoral period says so once, in the panel, not on every day.
    whole_period = all(d.pre_electoral for d in found.days)

    def make(d: calendar.Day) -> DayView:
        shown = day_view(d, lookup, filters, today=today, can_move=can_move)
        shown.pre_electoral = d.pre_electoral and not whole_period
        return shown

    slug = authority.slug
    base = f"/a/{quote(slug)}/calendar"
    query = filters.query()
    this_month = first.strftime("%Y-%m")
    context: dict[str, Any] = {
        "authority": authority,
        "member": member,
        "view": view,
        "first": first,
        "today": today,
        "filters": filters,
        "lookup": lookup,
        "can_move": can_move,
        "can_add": can_add,
        "cell_limit": CELL_LIMIT,
        "cal": found,
        "mix_total": sum(m.posts for m in found.pillar_mix),
        "empty_ranges": ranges(found.empty_days),
        "over_quota": [
            (o.date, lookup.account_name(o.account_id), o.count, o.limit) for o in found.over_quota
        ],
        "abandoned": [(g, lookup.account_name(g.account_id)) for g in found.abandoned_accounts],
        "regularity_warnings": _regularity_warnings(found, lookup),
        "uncovered_audiences": [a.name for a in found.audiences if a.posts == 0],
        "uncovered_objectives": [o.name for o in found.objectives if o.posts == 0],
        "statuses": [
            (s.value, gettext(POST_STATUS_LABELS[s]))
            for s in PostStatus
            if s != PostStatus.cancelled
        ],
        "views": {
            v: _url(base, view=None if v == "month" else v, month=this_month, **query)
            if v != "week"
            else _url(base, view="week", week=week_code(_week_of(first, today)), **query)
            for v in VIEWS
        },
        "filter_hidden": {"view": view if view != "month" else None},
        "pillars_css": _url(f"{base}/pillars.css", v=_pillars_version(lookup)),
        "csv_url": _url(f"/api/v1/authorities/{quote(slug)}/calendar.csv", month=this_month),
        # The private iCal link is managed on the settings page (every member's own link).
        "feed_token": feed.active_token(session, authority=authority, user_id=member.user.id)
        if member.user.id is not None
        else None,
        "feed_page": f"/a/{quote(slug)}/settings#agenda",
        "moved": _moved_notice(session, settings, member, moved, gettext) if moved else None,
        "move_next": quote(
            str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""), safe=""
        ),
    }
    if view == "week":
        assert monday is not None
        week_days = [make(days[monday + timedelta(days=i)]) for i in range(7)]
        hours = sorted(set(WORKING_HOURS) | {int(p.time[:2]) for d in week_days for p in d.posts})
        context.update(
            week_days=week_days,
            hours=hours,
            monday=monday,
            week_code=week_code(monday),
            filter_hidden={"view": "week", "week": week_code(monday)},
            previous=_url(base, view="week", week=week_code(monday - timedelta(days=7)), **query),
            following=_url(base, view="week", week=week_code(monday + timedelta(days=7)), **query),
            today_url=_url(base, view="week", **query),
        )
    else:
        month_days = [make(d) for d in found.days]
        view_name = None if view == "month" else view
        context.update(
            month_days=month_days,
            list_days=[d for d in month_days if d.posts],
            filter_hidden={"view": view_name, "month": this_month},
            previous=_url(
                base, view=view_name, month=_shift_month(first, -1).strftime("%Y-%m"), **query
            ),
            following=_url(
                base, view=view_name, month=_shift_month(first, 1).strftime("%Y-%m"), **query
            ),
            today_url=_url(base, view=view_name, **query),
        )
    context["reset_url"] = _url(base, **context["filter_hidden"])
    return context


def _week_of(first: date, today: date) -> date:
    """The week the week view opens on from a month: this week in the current month, else the
    month's first week."""
    anchor = today if today.replace(day=1) == first else first
    return anchor - timedelta(days=anchor.weekday())


def _pillars_version(lookup: Lookup) -> str:
    colours = ",".join(f"{i}:{p.color}" for i, p in sorted(lookup.pillars.items()))
    return hashlib.sha256(colours.encode()).hexdigest()[:10]


def _regularity_warnings(
    found: calendar.CalendarMonth, lookup: Lookup
) -> list[tuple[str, float, list[tuple[date, int]]]]:
    """Per account, the weeks above its usual rhythm: one line per account, not per week."""
    if found.regularity is None:
        return []
    warnings = []
    for a in found.regularity.accounts:
        weeks = [(w.week_start, w.planned) for w in a.weeks if w.over]
        if weeks:
            warnings.append((lookup.account_name(a.account_id), a.weekly_average_before, weeks))
    return warnings


def _moved_notice(
    session: Session,
    settings: Settings,
    member: Member,
    post_id: int,
    gettext: Callable[[str], str],
) -> dict[str, Any] | None:
    """What the person is told after a move: where the post is now, and the rules' warnings
    about its new time."""
    try:
        post = access.get_visible(session, actor=member, post_id=post_id)
    except AppError:
        return None
    if post.scheduled_at is None:
        return None
    local = post.scheduled_at.astimezone(ZoneInfo(member.authority.timezone))
    warnings = [
        f.translated(gettext)
        for f in rules.check_post(session, settings, post)
        if f.code in MOVE_WARNINGS
    ]
    return {
        "at": local,
        "status_label": gettext(POST_STATUS_LABELS[PostStatus(post.status)]),
        "in_review": post.status == PostStatus.in_review,
        "warnings": list(dict.fromkeys(warnings)),
    }


Param = Annotated[str, Query(max_length=20)]


@router.get("/a/{slug}/calendar")
def calendar_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    view: Param = "month",
    month: Param = "",
    week: Param = "",
    pillar: Param = "",
    account: Param = "",
    status: Param = "",
    campaign: Param = "",
    moved: Param = "",
) -> Response:
    filters = Filters.parse(pillar=pillar, account=account, status=status, campaign=campaign)
    context = calendar_context(
        request,
        session,
        settings,
        member,
        view=view or "month",
        month=month or None,
        week=week or None,
        filters=filters,
        moved=int(moved) if moved.isdigit() and int(moved) <= MAX_ID else None,
    )
    return render(request, "calendar.html", context)


@router.get("/a/{slug}/calendar/pillars.css")
def pillars_stylesheet(session: SessionDep, member: PageMemberDep) -> Response:
    """Each pillar's colour as a CSS variable: the strict CSP forbids style attributes, so the
    calendar reads the colours from this stylesheet of the authority."""
    stmt = for_authority(select(Pillar), member.authority_id).order_by(col(Pillar.id))
    rules_css = [
        f".pillar-{p.id} {{ --pillar: {p.color}; }}"
        for p in session.exec(stmt).all()
        if HEX.match(p.color or "")
    ]
    return Response(
        "\n".join(rules_css) + "\n",
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "private, max-age=86400"},
    )


# --- moving a post ----------------------------------------------------------------------------


def parse_local(day: str, at: str) -> datetime:
    """The wall-clock time a person typed (date and time fields), without a timezone."""
    day_match = DAY.match(day.strip())
    time_match = CLOCK.match(at.strip())
    if not day_match or not time_match:
        raise BadMoveInput(extra={"field": "date" if not day_match else "time"})
    try:
        chosen = date(int(day_match.group(1)), int(day_match.group(2)), int(day_match.group(3)))
    except ValueError:
        raise BadMoveInput(extra={"field": "date"}) from None
    return datetime.combine(chosen, time(int(time_match.group(1)), int(time_match.group(2))))


def move(
    session: Session,
    settings: Settings,
    *,
    member: Member,
    post: Post,
    local: datetime,
    gettext: Callable[[str], str],
) -> None:
    """Move `post` to `local` (the authority's wall-clock time) through the posts service, which
    checks the post's state, refuses the past and the spring DST gap, moves its publications and
    sends an approved post back to review when it enters an electoral window. Then the rules are
    read again for the new time: a time the rules forbid (quota of the day, eve-of-vote silence)
    is refused with their reasons. The caller rolls back on error: nothing is half-moved."""
    access.require_editor(member)
    posts.update(
        session,
        settings,
        actor=member,
        post=post,
        data=PostUpdate(scheduled_at=local),
        channel=EventChannel.web,
    )
    blocking: list[Finding] = [
        f
        for f in rules.check_post(session, settings, post)
        if f.severity is Severity.error and f.code in TIME_RULES
    ]
    if blocking:
        reasons = " ".join(dict.fromkeys(f.translated(gettext) for f in blocking))
        raise MoveRefused(
            when=local.strftime("%d/%m/%Y %H:%M"),
            reasons=reasons,
            extra={"findings": [f.as_dict() for f in blocking]},
        )


def _calendar_of(authority: Authority, post: Post) -> str:
    base = f"/a/{quote(authority.slug)}/calendar"
    if post.scheduled_at is None:
        return base
    local = post.scheduled_at.astimezone(ZoneInfo(authority.timezone))
    return _url(base, month=local.strftime("%Y-%m"))


def _after_move(authority: Authority, post: Post, next_url: str) -> str:
    """Back to the calendar the person came from (only this authority's calendar), told about
    the move."""
    base = f"/a/{quote(authority.slug)}/calendar"
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or parts.path != base:
        parts = urlsplit(_calendar_of(authority, post))
    params = dict(parse_qsl(parts.query))
    params["moved"] = str(post.id)
    return f"{parts.path}?{urlencode(params)}"


def _move_page(
    request: Request,
    member: Member,
    post: Post,
    *,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    gettext = i18n.translations(locale_of(request)).gettext
    authority = member.authority
    zone = ZoneInfo(authority.timezone)
    local = post.scheduled_at.astimezone(zone) if post.scheduled_at else None
    context = {
        "authority": authority,
        "member": member,
        "post": post,
        "excerpt": calendar._excerpt(post.text),
        "status_label": gettext(POST_STATUS_LABELS[PostStatus(post.status)]),
        "local": local,
        "form": form,
        "error": error,
        "can_move": member.can_edit and post.status in MOVABLE,
        "back": form.get("next") or _calendar_of(authority, post),
    }
    return render(request, "calendar_move.html", context, status_code=status_code)


@router.get("/posts/{post_id}/move")
def move_page(
    request: Request,
    post: PagePostDep,
    member: PagePostMemberDep,
    next: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    zone = ZoneInfo(member.authority.timezone)
    local = post.scheduled_at.astimezone(zone) if post.scheduled_at else None
    form = {
        "date": local.strftime("%Y-%m-%d") if local else "",
        "time": local.strftime("%H:%M") if local else "",
        "next": next if next.startswith("/a/") else "",
    }
    return _move_page(request, member, post, form=form)


@router.post("/posts/{post_id}/move", dependencies=[CsrfDep])
def move_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    post: PagePostDep,
    member: PagePostMemberDep,
    day: Annotated[str, Form(alias="date", max_length=20)] = "",
    at: Annotated[str, Form(alias="time", max_length=20)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Move a post: from the move form (answers with a redirect to the calendar, or the form
    again with the reason) or from the calendar's drag and drop (asks for JSON)."""
    wants_json = "application/json" in request.headers.get("accept", "")
    gettext = i18n.translations(locale_of(request)).gettext
    try:
        local = parse_local(day, at)
        move(session, settings, member=member, post=post, local=local, gettext=gettext)
    except AppError as error:
        session.rollback()
        message = error.translated(gettext)
        if wants_json:
            return JSONResponse(
                {"error": error.code, "detail": message}, status_code=error.status_code
            )
        session.refresh(post)
        form = {"date": day, "time": at, "next": next if next.startswith("/a/") else ""}
        return _move_page(
            request, member, post, form=form, error=message, status_code=error.status_code
        )
    target = _after_move(member.authority, post, next)
    if wants_json:
        return JSONResponse({"redirect": target})
    return redirect(target)
