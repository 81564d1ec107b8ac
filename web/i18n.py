"""Translations: French is the source language of every message, English is a catalogue.

The catalogue is read from its `.po` file at start-up, so there is no compiled file to keep in sync.
"""

from __future__ import annotations

import gettext as gettext_module
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"
LOCALES = ("fr", "en")
LOCALE_NAMES = {"fr": "Français", "en": "English"}


@cache
def translations(locale: str) -> gettext_module.NullTranslations:
    po = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "fr" or not po.exists():
        return gettext_module.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(accept_language: str | None, default: str = "fr") -> str:
    if not accept_language:
        return default
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        weighted.append((quality, tag.strip().lower()[:2]))
    for _quality, language in sorted(weighted, key=lambda item: -item[0]):
        if language in LOCALES:
            return language
    return default


def babel_locale(locale: str) -> Locale:
    return Locale.parse("fr_FR" if locale == "fr" else "en_GB")
