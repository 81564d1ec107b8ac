"""The demo authority has reach figures from the start: follower counts and the snapshots of its
published posts, added once."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from core import clock, demo
from core.authorities import service as authorities
from core.config import Settings
from core.reach import report
from core.reach.models import AccountSnapshot, MetricSnapshot


def test_the_demo_shows_reach(session: Session, settings: Settings) -> None:
    demo.seed(session, settings)
    session.commit()
    counts = (
        len(session.exec(select(AccountSnapshot)).all()),
        len(session.exec(select(MetricSnapshot)).all()),
    )
    demo.seed(session, settings)  # idempotent
    session.commit()
    assert (
        len(session.exec(select(AccountSnapshot)).all()),
        len(session.exec(select(MetricSnapshot)).all()),
    ) == counts
    assert counts[1] >= 2

    town = authorities.get_by_slug(session, demo.DEMO_SLUG)
    assert town is not None
    today = clock.now().date()
    found = report.reach(
        session, authority=town, from_date=today - timedelta(days=29), to_date=today
    )
    assert found.total.publications >= 2
    assert found.total.engagements > 0
    followed = [f for f in found.followers if f.change is not None]
    assert followed
    assert all(f.change and f.change > 0 for f in followed)
