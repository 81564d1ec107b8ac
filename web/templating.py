"""The Jinja2 environment and the one function pages use to answer with a template."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api import security
from core.authorities.models import ROLE_LABELS, Role
from core.config import Settings
from web import i18n

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@cache
def environment(locale: str, *, autoescape: bool = True) -> Environment:
    """One environment per language, so that translations never leak between requests."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True) if autoescape else False,
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    babel_locale = i18n.babel_locale(locale)

    def datetime_filter(
        value: datetime, timezone: str = "Europe/Paris", fmt: str = "medium"
    ) -> str:
        return format_datetime(value, fmt, tzinfo=ZoneInfo(timezone), locale=babel_locale)

    env.filters["datetime"] = datetime_filter
    env.filters["date"] = lambda value, fmt="long", timezone=None: format_day(
        value, fmt, locale, timezone
    )
    env.filters["decimal"] = lambda value: format_decimal(value, locale=babel_locale)
    env.globals.update(
        locale=locale,
        static_url=static_url,
        role_label=lambda role: i18n.translations(locale).gettext(ROLE_LABELS[Role(role)]),
        locale_names=i18n.LOCALE_NAMES,
        # Which of a message's two forms a count takes: French says "0 publication".
        singular=(lambda n: n <= 1) if locale == "fr" else (lambda n: n == 1),
    )
    return env


FIRST_OF_MONTH = re.compile(r"(?<![\d:])1(?![\d:])")
# Babel's named formats all show the day ("short" as digits, which FIRST_OF_MONTH leaves alone).
NAMED_FORMATS = ("short", "medium", "long", "full")


def format_day(value: date | datetime, fmt: str, locale: str, timezone: str | None = None) -> str:
    """A date (or an instant, shown in `timezone`) in the person's language; in French the
    first of the month is written "1er" ("mardi 1er décembre")."""
    babel_locale = i18n.babel_locale(locale)
    if isinstance(value, datetime):
        local = value.astimezone(ZoneInfo(timezone)) if timezone else value
        text = format_datetime(local, fmt, tzinfo=local.tzinfo, locale=babel_locale)
        day = local.day
    else:
        text = format_date(value, fmt, locale=babel_locale)
        day = value.day
    shows_day = fmt in NAMED_FORMATS or "d" in fmt.replace("dd", "")
    if locale == "fr" and day == 1 and shows_day:
        text = FIRST_OF_MONTH.sub("1er", text, count=1)
    return text


@cache
def _static_hash(path: str) -> str:
    file = STATIC_DIR / path
    return hashlib.sha256(file.read_bytes()).hexdigest()[:10] if file.exists() else "0"


def static_url(path: str) -> str:
    # A content hash in the URL lets browsers cache static files for a long time, safely.
    return f"/static/{path}?v={_static_hash(path)}"


def locale_of(request: Request) -> str:
    settings: Settings = request.app.state.settings
    viewer = getattr(request.state, "viewer", None)
    if viewer is not None and viewer.locale in i18n.LOCALES:
        return str(viewer.locale)
    cookie = request.cookies.get("beffroi_lang")
    if cookie in i18n.LOCALES:
        return str(cookie)
    return i18n.negotiate(request.headers.get("accept-language"), settings.default_locale)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    locale = locale_of(request)
    settings: Settings = request.app.state.settings
    full = {
        "request": request,
        "user": getattr(request.state, "viewer", None),
        "csrf_token": security.csrf_token(request),
        "csrf_field": security.CSRF_FIELD,
        "development": settings.env == "development",
        **(context or {}),
    }
    html = environment(locale).get_template(template).render(full)
    response = HTMLResponse(html, status_code=status_code)
    new_secret = getattr(request.state, "new_csrf_secret", None)
    if new_secret:
        security.set_csrf_cookie(settings, response, new_secret)
    return response
