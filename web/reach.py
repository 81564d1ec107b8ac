"""The reach pages: the period view (/a/{slug}/reach) and the printable monthly report for the
mayor and the council (/a/{slug}/report), with its CSV export. Members of the authority only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.routers.reach import csv_response
from core.accounts.models import Network
from core.calendar.service import month_end
from core.editorial.models import KPI_METRIC_LABELS, KPI_PERIOD_LABELS
from core.errors import AppError
from core.reach import report as reach
from core.reach import report_csv
from core.reach.collect import STEP_LABELS
from web import charts, i18n
from web.deps import PageMemberDep
from web.templating import format_day, locale_of, render

router = APIRouter(include_in_schema=False)


def _formatters(request: Request) -> dict[str, Any]:
    locale = locale_of(request)
    babel_locale = i18n.babel_locale(locale)
    gettext = i18n.translations(locale).gettext

    def number(value: float | None, digits: int = 0) -> str:
        if value is None:
            return gettext(reach.NOT_PROVIDED)
        pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
        return str(format_decimal(value, format=pattern, locale=babel_locale))

    def percent(value: float | None) -> str:
        if value is None:
            return gettext(reach.NOT_PROVIDED)
        return f"{number(value, 1)} %"

    def day(value: date, fmt: str = "long") -> str:
        return format_day(value, fmt, locale)

    def month_name(value: date) -> str:
        return str(format_date(value, "LLLL yyyy", locale=babel_locale))

    return {
        "number": number,
        "percent": percent,
        "day": day,
        "month_name": month_name,
        "t": gettext,
    }


def _network_color(network: Network | None) -> str | None:
    return charts.NETWORK_COLORS.get(network) if network else None


def _charts(found: reach.ReachReport, number: Any) -> dict[str, Any]:
    engagements = charts.bar_chart(
        [
            (
                g.label,
                g.figures.engagements,
                number(g.figures.engagements),
                _network_color(g.network),
            )
            for g in found.groups
        ]
    )
    mix = charts.bar_chart(
        [(m.name, m.share, f"{number(m.share, 1)} %", m.color) for m in found.pillar_mix],
        targets=[float(m.target_share) for m in found.pillar_mix],
    )
    followers = charts.line_chart(
        [
            (
                f.name,
                _network_color(f.network),
                [(p.day, p.followers) for p in f.points],
            )
            for f in found.followers
            if f.points
        ],
        first=found.from_date,
        last=found.to_date,
    )
    return {"engagements_chart": engagements, "mix_chart": mix, "followers_chart": followers}


@router.get("/a/{slug}/reach")
def reach_page(
    request: Request,
    session: SessionDep,
    member: PageMemberDep,
    from_date: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    to_date: Annotated[str | None, Query(alias="to", max_length=20)] = None,
    by: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    formatters = _formatters(request)
    errors: list[str] = []
    status = 200
    try:
        group_by = reach.GroupBy(by) if by else reach.GroupBy.network
        first, last = reach.parse_period(
            member.authority,
            date.fromisoformat(from_date) if from_date else None,
            date.fromisoformat(to_date) if to_date else None,
        )
    except (ValueError, AppError):
        errors.append(formatters["t"](reach.BadPeriod.detail))
        status = 422
        group_by = reach.GroupBy.network
        first, last = reach.parse_period(member.authority, None, None)
    found = reach.reach(
        session, authority=member.authority, from_date=first, to_date=last, by=group_by
    )
    context = {
        "authority": member.authority,
        "member": member,
        "section": "reach",
        "report": found,
        "errors": errors,
        "group_by_labels": reach.GROUP_BY_LABELS,
        "kpi_labels": KPI_METRIC_LABELS,
        "kpi_period_labels": KPI_PERIOD_LABELS,
        "steps": STEP_LABELS,
        "form": {"from": from_date or first.isoformat(), "to": to_date or last.isoformat()},
        "report_month": last.strftime("%Y-%m"),
        **formatters,
        **_charts(found, formatters["number"]),
    }
    return render(request, "reach/reach.html", context, status_code=status)


@router.get("/a/{slug}/report")
def report_page(
    request: Request,
    session: SessionDep,
    member: PageMemberDep,
    month: Annotated[str | None, Query(max_length=20)] = None,
    format: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    first = reach.parse_month(month or None, member.authority)
    found = reach.monthly(session, authority=member.authority, first=first)
    if format == "csv":
        return csv_response(report_csv.export(found), member.authority.slug, found.month)
    formatters = _formatters(request)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = month_end(first) + timedelta(days=1)
    context = {
        "authority": member.authority,
        "member": member,
        "section": "reach",
        "monthly": found,
        "report": found.reach,
        "first": first,
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "kpi_labels": KPI_METRIC_LABELS,
        "kpi_period_labels": KPI_PERIOD_LABELS,
        **formatters,
        **_charts(found.reach, formatters["number"]),
    }
    return render(request, "reach/report.html", context)


@router.get("/a/{slug}/report.csv")
def report_csv_page(
    session: SessionDep,
    member: PageMemberDep,
    month: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    first = reach.parse_month(month or None, member.authority)
    found = reach.monthly(session, authority=member.authority, first=first)
    return csv_response(report_csv.export(found), member.authority.slug, found.month)
