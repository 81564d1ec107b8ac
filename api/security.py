"""Who is calling: bearer tokens for the API, a session cookie for the browser, and CSRF tokens.

The session cookie holds a signed random key whose hash is stored (as an AccessToken of kind
"session"), so that signing out really ends the session. The CSRF token is an HMAC of a random
cookie and the session key ("signed double-submit"): a form posted from another site lacks it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from fastapi import Request, Response
from sqlmodel import Session

from core import security
from core.config import Settings
from core.errors import AppError, Unauthenticated
from core.i18n import N_
from core.users import service as users
from core.users.models import AccessToken, TokenKind, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfFailed(AppError):
    status_code = 403
    code = "csrf_failed"
    detail = N_(
        "Le formulaire a expiré ou ne vient pas de Beffroi. Rechargez la page et recommencez."
    )


@dataclass(frozen=True)
class Viewer:
    """A snapshot of the signed-in person for pages and error pages: it stays readable after the
    request's transaction is rolled back."""

    id: int
    name: str
    email: str
    locale: str
    is_superuser: bool

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user.id, user.name, user.email, user.locale, user.is_superuser)  # type: ignore[arg-type]


def remember_viewer(request: Request, user: User | None) -> None:
    request.state.viewer = Viewer.of(user) if user is not None else None


@dataclass(frozen=True)
class Principal:
    user: User
    token: AccessToken
    via: Literal["bearer", "cookie"]


def cookie_name(settings: Settings, name: str) -> str:
    # The __Host- prefix forbids a sibling subdomain from planting the cookie (needs https).
    return f"__Host-beffroi_{name}" if settings.secure_cookies else f"beffroi_{name}"


def _session_signer(settings: Settings) -> security.Signer:
    return security.Signer(settings.secret, "session")


def authenticate(request: Request, session: Session) -> Principal | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthenticated(
                N_("L'en-tête Authorization doit avoir la forme « Bearer <jeton> ».")
            )
        resolved = users.resolve_token(session, raw.strip(), kind=TokenKind.api)
        if resolved is None:
            raise Unauthenticated(
                N_(
                    "Ce jeton d'accès est inconnu, expiré ou révoqué : demandez-en un nouveau avec "
                    "POST /api/v1/auth/token."
                )
            )
        return Principal(resolved[0], resolved[1], "bearer")
    key = session_key(request)
    if key is None:
        return None
    resolved = users.resolve_token(session, key, kind=TokenKind.session)
    if resolved is None:
        return None
    return Principal(resolved[0], resolved[1], "cookie")


def session_key(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(cookie_name(settings, "session"))
    if not cookie:
        return None
    try:
        raw = _session_signer(settings).loads(cookie, max_age=settings.session_max_age_days * 86400)
    except security.Invalid:
        return None
    return raw if isinstance(raw, str) else None


def open_session(
    session: Session, settings: Settings, *, user: User, response: Response, request: Request
) -> None:
    ttl = timedelta(days=settings.session_max_age_days)
    agent = request.headers.get("user-agent", "")[:200]
    raw, _ = users.issue_token(session, user=user, kind=TokenKind.session, ttl=ttl, name=agent)
    response.set_cookie(
        cookie_name(settings, "session"),
        _session_signer(settings).dumps(raw),
        max_age=int(ttl.total_seconds()),
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    # A new CSRF secret at sign-in: a value planted before cannot be reused afterwards.
    set_csrf_cookie(settings, response, secrets.token_urlsafe(32))


def close_session(
    session: Session, settings: Settings, *, principal: Principal | None, response: Response
) -> None:
    if principal is not None and principal.via == "cookie":
        users.end_session(session, token=principal.token)
    response.delete_cookie(
        cookie_name(settings, "session"),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


# --- CSRF -----------------------------------------------------------------------------------------


def set_csrf_cookie(settings: Settings, response: Response, value: str) -> None:
    response.set_cookie(
        cookie_name(settings, "csrf"),
        value,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def csrf_secret(request: Request) -> str:
    """The CSRF cookie value, creating one for this response if the browser has none yet."""
    settings: Settings = request.app.state.settings
    value = getattr(request.state, "csrf_secret", None) or request.cookies.get(
        cookie_name(settings, "csrf")
    )
    if not value:
        value = secrets.token_urlsafe(32)
        request.state.new_csrf_secret = value
    request.state.csrf_secret = value
    return value


def csrf_token(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return _csrf_for(settings, csrf_secret(request), session_key(request))


def _csrf_for(settings: Settings, secret_value: str, session_raw: str | None) -> str:
    binding = hashlib.sha256((session_raw or "").encode()).hexdigest()
    message = f"csrf:{secret_value}:{binding}".encode()
    return hmac.new(settings.secret.encode(), message, hashlib.sha256).hexdigest()


def check_csrf(request: Request, submitted: str | None) -> None:
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(cookie_name(settings, "csrf"))
    if not cookie or not submitted:
        raise CsrfFailed()
    expected = _csrf_for(settings, cookie, session_key(request))
    if not security.constant_time_equals(expected, submitted):
        raise CsrfFailed()
