"""What the database computes for the reach report, against the same rules written in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import cast

from sqlmodel import Session

from core.editorial.models import KpiMetric
from core.posts.models import PostObjective
from core.reach import report
from tests.core.reach import world
from tests.factories import make_followers


def weekly(series: Sequence[tuple[date, int]]) -> list[tuple[date, int]]:
    """The rule for a long period, written plainly: the first count, then the last count of each
    ISO week (a seventh of the points)."""
    if not series:
        return []
    kept = {}
    for day, count in series:
        kept[day.isocalendar()[:2]] = (day, count)
    found = list(kept.values())
    return found if found[0] == series[0] else [series[0], *found]


def test_the_weekly_rule_on_a_hand_computed_fortnight() -> None:
    days = [date(2026, 11, 2) + timedelta(days=n) for n in range(14)]  # Monday to Sunday × 2
    series = [(day, 1000 + n) for n, day in enumerate(days)]
    assert weekly(series) == [
        (date(2026, 11, 2), 1000),  # the first count of the period
        (date(2026, 11, 8), 1006),  # Sunday, end of the first week
        (date(2026, 11, 15), 1013),
    ]
    assert weekly([]) == []


def test_a_long_period_gives_the_first_count_then_the_last_of_each_iso_week(
    session: Session,
) -> None:
    town = world.build(session)
    # From a Wednesday, over the new year (ISO week 53 of 2026 ends on Sunday 3 January 2027),
    # with missing days and a week without any count.
    first, last = date(2026, 10, 14), date(2027, 2, 10)
    daily: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        if n % 5 == 3 or date(2026, 12, 7) <= day <= date(2026, 12, 13):
            continue
        for account, step in ((town.linkedin, 2), (town.bluesky, 3)):
            make_followers(session, account, day, 500 + step * n)
            daily[cast(int, account.id)].append((day, 500 + step * n))

    found = report.reach(session, authority=town.authority, from_date=first, to_date=last)

    followers = {f.account_id: f for f in found.followers}
    for account_id, series in daily.items():
        counts = followers[account_id]
        assert [(p.day, p.followers) for p in counts.points] == weekly(series)
        assert (counts.first, counts.last) == (series[0][1], series[-1][1])
        assert counts.change == series[-1][1] - series[0][1]
    # Within 92 days, every daily count.
    short = report.reach(
        session, authority=town.authority, from_date=first, to_date=first + timedelta(days=92)
    )
    linkedin = next(f for f in short.followers if f.account_id == town.linkedin.id)
    within = [p for p in daily[linkedin.account_id] if p[0] <= first + timedelta(days=92)]
    assert [(p.day, p.followers) for p in linkedin.points] == within


def test_a_post_serving_an_objective_twice_counts_once(session: Session) -> None:
    town = world.build(session)
    # P2 serves the objective through its campaign already; linked directly as well.
    session.add(PostObjective(post_id=town.p2.id, objective_id=town.objective.id))  # type: ignore[arg-type]
    session.commit()
    november = {"from_date": date(2026, 11, 1), "to_date": date(2026, 11, 30)}

    [objective] = report.reach(session, authority=town.authority, **november).objectives
    assert objective.value == 50  # 10 + 40 clicks, not 10 + 40 + 40

    town.objective.kpi_metric = KpiMetric.posts
    session.add(town.objective)
    session.commit()
    [objective] = report.reach(session, authority=town.authority, **november).objectives
    assert objective.value == 2  # P1 and P2, each once whatever its networks
