"""Local times of an authority: the spring gap (a time that does not exist), the autumn overlap
(a time that exists twice) and times in the past. Overseas zones go through the same code.

A person types a local time; `to_utc` turns it into the instant stored in the database, refusing a
time in the gap (with the next valid time) and taking the first occurrence of an ambiguous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.errors import AppError
from core.i18n import N_
from core.rules import findings as f
from core.rules.findings import Finding

# DST shifts are at most one hour in the zones in use, but a few zones moved by more; search
# a little further.
_SEARCH = timedelta(hours=3)


class NonexistentLocalTime(AppError):
    status_code = 422
    code = "nonexistent_local_time"
    detail = N_(
        "Le {day} à {time}, cette heure n'existe pas à cause du passage à l'heure d'été : "
        "choisissez {suggestion} par exemple."
    )


@dataclass(frozen=True)
class LocalTime:
    wall: datetime  # naive local wall time as typed
    instant: datetime | None  # UTC; None when the wall time does not exist
    ambiguous: bool = False
    next_valid: datetime | None = None  # naive local: the first valid time after a gap


def exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def is_ambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    return exists(wall, zone) and first.utcoffset() != second.utcoffset()


def next_valid(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first local wall time, on the minute, after a time in the gap."""
    candidate = wall.replace(second=0, microsecond=0)
    end = wall + _SEARCH
    while candidate <= end:
        candidate += timedelta(minutes=1)
        if exists(candidate, zone):
            return candidate
    raise ValueError(f"no valid local time near {wall} in {zone}")  # pragma: no cover


def resolve(wall: datetime, timezone: str) -> LocalTime:
    zone = ZoneInfo(timezone)
    wall = wall.replace(tzinfo=None)
    if not exists(wall, zone):
        return LocalTime(wall=wall, instant=None, next_valid=next_valid(wall, zone))
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return LocalTime(wall=wall, instant=instant, ambiguous=is_ambiguous(wall, zone))


def to_utc(wall: datetime, timezone: str) -> datetime:
    """The UTC instant of a local wall time; NonexistentLocalTime in the spring gap; the first
    occurrence of an ambiguous autumn time."""
    resolved = resolve(wall, timezone)
    if resolved.instant is None:
        assert resolved.next_valid is not None
        raise NonexistentLocalTime(
            day=day_label(wall),
            time=time_label(wall),
            suggestion=time_label(resolved.next_valid),
            extra={"suggested_local_time": resolved.next_valid.isoformat(timespec="minutes")},
        )
    return resolved.instant


def check_wall_time(wall: datetime, timezone: str) -> list[Finding]:
    """The findings for a local time a person typed (CSV import, forms)."""
    resolved = resolve(wall, timezone)
    if resolved.instant is None:
        assert resolved.next_valid is not None
        return [
            f.error(
                "nonexistent_time",
                NonexistentLocalTime.detail,
                figure=time_label(wall),
                day=day_label(wall),
                time=time_label(wall),
                suggestion=time_label(resolved.next_valid),
            )
        ]
    return check_instant(resolved.instant, timezone)


def check_instant(instant: datetime, timezone: str) -> list[Finding]:
    """An ambiguous local time of a stored instant: said so, with the occurrence it is."""
    zone = ZoneInfo(timezone)
    local = instant.astimezone(zone)
    wall = local.replace(tzinfo=None)
    if not is_ambiguous(wall, zone):
        return []
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC) == instant.astimezone(UTC)
    detail = (
        N_(
            "Le {day} à {time}, l'heure existe deux fois (passage à l'heure d'hiver) : la "
            "publication part à la première, {time} heure d'été (UTC{offset})."
        )
        if first
        else N_(
            "Le {day} à {time}, l'heure existe deux fois (passage à l'heure d'hiver) : la "
            "publication part à la seconde, {time} heure d'hiver (UTC{offset})."
        )
    )
    return [
        f.warning(
            "ambiguous_time",
            detail,
            figure=time_label(wall),
            day=day_label(wall),
            time=time_label(wall),
            offset=offset_label(local),
        )
    ]


# "Now" is not in the past: a post set for this minute (urgent, "publish now") goes out at once.
PAST_GRACE = timedelta(minutes=1)


def check_past(instant: datetime, now: datetime, timezone: str) -> list[Finding]:
    if instant >= now - PAST_GRACE:
        return []
    local = instant.astimezone(ZoneInfo(timezone))
    return [
        f.error(
            "time_past",
            N_(
                "L'heure de publication ({day} à {time}) est passée : choisissez une heure à venir."
            ),
            figure=f"{day_label(local)} {time_label(local)}",
            day=day_label(local),
            time=time_label(local),
        )
    ]


MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def day_label(moment: date) -> str:
    first = "1er" if moment.day == 1 else str(moment.day)
    return f"{first} {MONTHS[moment.month - 1]} {moment.year}"


def time_label(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def offset_label(local: datetime) -> str:
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
