"""The pre-electoral rules of the French electoral code, as instants in time.

- Art. L52-1: from the first day of the sixth month before the month of an election's first
  round, until its last round, the authority's communication must stay as it was (no promotion
  of achievements). Beffroi calls this the *pre-electoral period*; it ends when polls close on
  the day of the last round.
- Art. L49: from midnight on the eve of a round until polls close (20:00) on the day of the
  round, nothing electoral may be published. Beffroi calls this the *silence window*: only posts
  of urgent pillars go out.

Every bound is a local time of the authority's timezone, turned into UTC here; the callers
compare UTC instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from core.editorial.models import Election
from core.tenancy import for_authority

POLLS_CLOSE = time(20, 0)


@dataclass(frozen=True)
class Window:
    election: Election
    starts_at: datetime  # UTC, included
    ends_at: datetime  # UTC, excluded
    # The round a silence window precedes; None for a pre-electoral period.
    round_day: date | None = None

    def contains(self, instant: datetime) -> bool:
        return self.starts_at <= instant < self.ends_at


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def rounds(election: Election) -> list[date]:
    return [d for d in (election.first_round, election.second_round) if d is not None]


def period_start(first_round: date) -> date:
    """The first day of the sixth month before the month of the first round."""
    month_index = first_round.year * 12 + (first_round.month - 1) - 6
    return date(month_index // 12, month_index % 12 + 1, 1)


def pre_electoral_periods(elections: Iterable[Election], timezone: str) -> list[Window]:
    zone = ZoneInfo(timezone)
    return [
        Window(
            election=e,
            starts_at=_local(period_start(e.first_round), time(0, 0), zone),
            ends_at=_local(max(rounds(e)), POLLS_CLOSE, zone),
        )
        for e in elections
    ]


def silence_windows(elections: Iterable[Election], timezone: str) -> list[Window]:
    zone = ZoneInfo(timezone)
    return [
        Window(
            election=e,
            starts_at=_local(day - timedelta(days=1), time(0, 0), zone),
            ends_at=_local(day, POLLS_CLOSE, zone),
            round_day=day,
        )
        for e in elections
        for day in rounds(e)
    ]


def elections_of(session: Session, authority_id: int) -> Sequence[Election]:
    return session.exec(_ELECTIONS, params={"authority_id": authority_id}).all()


# Read by every calendar and every post check: built once.
_ELECTIONS = for_authority(select(Election), sa.bindparam("authority_id"))


def containing(windows: Iterable[Window], instant: datetime) -> list[Window]:
    return [w for w in windows if w.contains(instant)]


def newly_entered(
    elections: Sequence[Election], timezone: str, old: datetime | None, new: datetime
) -> list[Window]:
    """The periods and silence windows `new` falls in that `old` did not: moving a post into one
    of them sends it back to review."""
    windows = pre_electoral_periods(elections, timezone) + silence_windows(elections, timezone)
    return [w for w in windows if w.contains(new) and (old is None or not w.contains(old))]
