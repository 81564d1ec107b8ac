from datetime import UTC, date, datetime

import pytest

from core import electoral
from core.editorial.models import Election, ElectionKind


def _election(first: date, second: date | None = None) -> Election:
    return Election(
        authority_id=1,
        kind=ElectionKind.municipales,
        territory="Brest",
        first_round=first,
        second_round=second,
    )


@pytest.mark.parametrize(
    ("first_round", "start"),
    [
        (date(2026, 3, 15), date(2025, 9, 1)),
        (date(2027, 6, 1), date(2026, 12, 1)),
        (date(2028, 7, 31), date(2028, 1, 1)),
    ],
)
def test_period_starts_the_first_day_of_the_sixth_month_before(
    first_round: date, start: date
) -> None:
    assert electoral.period_start(first_round) == start


def test_period_bounds_in_paris_and_overseas() -> None:
    election = _election(date(2026, 3, 15), date(2026, 3, 22))
    (paris,) = electoral.pre_electoral_periods([election], "Europe/Paris")
    # 1 September 2025 00:00 in Paris (summer time) and 22 March 2026 20:00 (winter time).
    assert paris.starts_at == datetime(2025, 8, 31, 22, 0, tzinfo=UTC)
    assert paris.ends_at == datetime(2026, 3, 22, 19, 0, tzinfo=UTC)
    (reunion,) = electoral.pre_electoral_periods([election], "Indian/Reunion")
    assert reunion.ends_at == datetime(2026, 3, 22, 16, 0, tzinfo=UTC)


def test_silence_windows_run_from_midnight_on_the_eve_to_polls_closing() -> None:
    election = _election(date(2026, 3, 15), date(2026, 3, 22))
    windows = electoral.silence_windows([election], "Europe/Paris")
    assert [(w.round_day, w.starts_at, w.ends_at) for w in windows] == [
        (
            date(2026, 3, 15),
            datetime(2026, 3, 13, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 15, 19, 0, tzinfo=UTC),
        ),
        (
            date(2026, 3, 22),
            datetime(2026, 3, 20, 23, 0, tzinfo=UTC),
            datetime(2026, 3, 22, 19, 0, tzinfo=UTC),
        ),
    ]
    first = windows[0]
    assert first.contains(datetime(2026, 3, 13, 23, 0, tzinfo=UTC))
    assert not first.contains(datetime(2026, 3, 15, 19, 0, tzinfo=UTC))


def test_newly_entered_names_only_the_windows_the_old_time_was_not_in() -> None:
    elections = [_election(date(2026, 3, 15))]
    before = datetime(2025, 8, 1, 10, 0, tzinfo=UTC)
    in_period = datetime(2026, 1, 10, 10, 0, tzinfo=UTC)
    eve = datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    assert electoral.newly_entered(elections, "Europe/Paris", before, before) == []
    assert [
        w.round_day for w in electoral.newly_entered(elections, "Europe/Paris", before, in_period)
    ] == [None]
    # Already in the period: only the silence window is new.
    assert [
        w.round_day for w in electoral.newly_entered(elections, "Europe/Paris", in_period, eve)
    ] == [date(2026, 3, 15)]
    assert electoral.newly_entered(elections, "Europe/Paris", eve, in_period) == []
