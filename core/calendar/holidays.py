"""French public holidays (the `holidays` package, with the overseas territories' own days) and
school holidays by zone (`vacances-scolaires-france`, whose dates ship inside the package: no
network call)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays as public_holidays
from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

SCHOOL_ZONES = ("A", "B", "C")

# The overseas authorities' own public holidays (abolition of slavery…), found by their timezone.
SUBDIVISION_BY_TIMEZONE = {
    "America/Guadeloupe": "971",
    "America/Martinique": "972",
    "America/Cayenne": "973",
    "Indian/Reunion": "974",
    "Indian/Mayotte": "976",
    "America/St_Barthelemy": "BL",
    "America/Marigot": "MF",
    "Pacific/Noumea": "NC",
    "Pacific/Tahiti": "PF",
    "America/Miquelon": "PM",
    "Pacific/Wallis": "WF",
}


def subdivision_for(timezone: str) -> str | None:
    return SUBDIVISION_BY_TIMEZONE.get(timezone)


def public(start: date, end: date, *, timezone: str) -> dict[date, str]:
    """Public holidays from `start` to `end` (included), in French."""
    found: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, name in _public_year(year, subdivision_for(timezone)).items():
            if start <= day <= end:
                found[day] = name
    return dict(sorted(found.items()))


@lru_cache(maxsize=64)
def _public_year(year: int, subdivision: str | None) -> dict[date, str]:
    calendar = public_holidays.country_holidays("FR", years=year, subdiv=subdivision, language="fr")
    return {day: str(name) for day, name in calendar.items()}


def preload(today: date) -> None:
    """Load now what the first calendar would load: the `holidays` package imports its tables
    lazily (about 280 modules), and the school-holiday dates are read from a file. A served
    process calls this before freezing its start-up heap (`beffroi.process`)."""
    for year in (today.year, today.year + 1):
        _public_year(year, None)
    _school()


@lru_cache(maxsize=1)
def _school() -> SchoolHolidayDates:
    return SchoolHolidayDates()


def school(start: date, end: date, *, zone: str | None) -> dict[date, str]:
    """School holidays of a zone (A, B or C) from `start` to `end` (included); empty when no zone
    is set or the package has no dates for those years."""
    if zone not in SCHOOL_ZONES:
        return {}
    found: dict[date, str] = {}
    day = start
    while day <= end:
        try:
            if _school().is_holiday_for_zone(day, zone):
                found[day] = str(_school().data[day]["nom_vacances"])
        except UnsupportedYearException:
            pass
        day += timedelta(days=1)
    return found
