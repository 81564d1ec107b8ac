from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.rules import timing
from core.rules.timing import NonexistentLocalTime


def wall(*parts: int) -> datetime:
    """A local wall time as a person types it (no timezone)."""
    return datetime(*parts, tzinfo=UTC).replace(tzinfo=None)


def test_spring_gap_in_paris_is_refused_with_the_next_valid_time() -> None:
    with pytest.raises(NonexistentLocalTime) as raised:
        timing.to_utc(wall(2026, 3, 29, 2, 30), "Europe/Paris")
    assert raised.value.status_code == 422
    assert raised.value.message == (
        "Le 29 mars 2026 à 02:30, cette heure n'existe pas à cause du passage à l'heure d'été : "
        "choisissez 03:00 par exemple."
    )
    assert raised.value.extra == {"suggested_local_time": "2026-03-29T03:00"}
    (finding,) = timing.check_wall_time(wall(2026, 3, 29, 2, 0), "Europe/Paris")
    assert (finding.code, finding.severity.value, finding.params["suggestion"]) == (
        "nonexistent_time",
        "error",
        "03:00",
    )
    # Either side of the gap is fine.
    assert timing.to_utc(wall(2026, 3, 29, 1, 59), "Europe/Paris") == datetime(
        2026, 3, 29, 0, 59, tzinfo=UTC
    )
    assert timing.to_utc(wall(2026, 3, 29, 3, 0), "Europe/Paris") == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )


def test_autumn_overlap_in_paris_means_the_first_occurrence_and_says_so() -> None:
    instant = timing.to_utc(wall(2026, 10, 25, 2, 30), "Europe/Paris")
    assert instant == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # UTC+2, summer time
    (finding,) = timing.check_wall_time(wall(2026, 10, 25, 2, 30), "Europe/Paris")
    assert finding.severity.value == "warning"
    assert finding.message == (
        "Le 25 octobre 2026 à 02:30, l'heure existe deux fois (passage à l'heure d'hiver) : la "
        "publication part à la première, 02:30 heure d'été (UTC+2)."
    )
    # The second occurrence, stored as such, is named too.
    (second,) = timing.check_instant(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Paris")
    assert "la seconde, 02:30 heure d'hiver (UTC+1)" in second.message
    assert timing.check_instant(datetime(2026, 10, 25, 3, 30, tzinfo=UTC), "Europe/Paris") == []


def test_overseas_zones() -> None:
    # Saint-Pierre-et-Miquelon changes time (8 March 2026 at 02:00 → 03:00, UTC-3 → UTC-2).
    with pytest.raises(NonexistentLocalTime):
        timing.to_utc(wall(2026, 3, 8, 2, 15), "America/Miquelon")
    instant = timing.to_utc(wall(2026, 11, 1, 1, 30), "America/Miquelon")
    assert instant == datetime(2026, 11, 1, 3, 30, tzinfo=UTC)  # first occurrence, UTC-2
    (ambiguous,) = timing.check_instant(instant, "America/Miquelon")
    assert ambiguous.params["offset"] == "-2"
    # La Réunion has no DST: every local time exists once.
    assert timing.to_utc(wall(2026, 3, 29, 2, 30), "Indian/Reunion") == datetime(
        2026, 3, 28, 22, 30, tzinfo=UTC
    )
    assert timing.check_wall_time(wall(2026, 10, 25, 2, 30), "Indian/Reunion") == []


def test_past_time_is_an_error() -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert timing.check_past(now, now, "Europe/Paris") == []
    # This very minute is not the past: a post set for "now" goes out at once.
    assert (
        timing.check_past(datetime(2026, 12, 1, 8, 59, 30, tzinfo=UTC), now, "Europe/Paris") == []
    )
    (finding,) = timing.check_past(datetime(2026, 12, 1, 8, 58, tzinfo=UTC), now, "Europe/Paris")
    assert finding.message == (
        "L'heure de publication (1er décembre 2026 à 09:58) est passée : choisissez une heure à "
        "venir."
    )
