"""Small validators shared by the domain's schemas; their messages are French sentences."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field

# Database ids are 32-bit on PostgreSQL: a larger number names nothing.
MAX_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def slug(value: str) -> str:
    value = value.strip()
    if not 2 <= len(value) <= 64 or not SLUG_RE.match(value):
        raise ValueError(
            "L'identifiant court doit faire de 2 à 64 caractères : lettres minuscules sans accent, "
            "chiffres et tirets (par exemple « ville-de-brive »)."
        )
    return value


@cache
def _iana_names() -> frozenset[str]:
    # available_timezones() walks the tz database's directory on every call (milliseconds); the
    # set does not change while the process runs.
    return frozenset(available_timezones())


def timezone(value: str) -> str:
    value = value.strip()
    # ZoneInfo also accepts file paths and legacy aliases; only IANA names are meaningful here.
    if value not in _iana_names():
        raise ValueError(
            f"« {value} » n'est pas un fuseau horaire connu : utilisez un nom IANA comme "
            "« Europe/Paris » ou « Indian/Reunion »."
        )
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - available_timezones() said it exists
        raise ValueError(f"« {value} » n'est pas un fuseau horaire connu.") from None
    return value


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise ValueError(f"« {value} » n'est pas une adresse électronique valide.")
    return value


def color(value: str) -> str:
    value = value.strip()
    if not COLOR_RE.match(value):
        raise ValueError(
            f"« {value} » n'est pas une couleur : écrivez-la en hexadécimal, "
            "par exemple « #1d4e89 »."
        )
    return value.lower()


def name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("Le nom ne peut pas être vide.")
    return value


MIN_PASSWORD_LENGTH = 10


def password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"Le mot de passe doit faire au moins {MIN_PASSWORD_LENGTH} caractères ; une phrase de "
            "plusieurs mots est facile à retenir et difficile à deviner."
        )
    if len(value) > 1024:
        raise ValueError("Le mot de passe est trop long (1 024 caractères au plus).")
    return value
