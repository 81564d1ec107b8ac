from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core import clock, security, validation
from core.authorities.models import Authority, Membership, Role
from core.config import Settings
from core.errors import AppError, Conflict, Gone, InvalidInput, NotFound, TooManyRequests
from core.i18n import N_
from core.users.models import (
    AccessToken,
    LoginFailure,
    Me,
    MembershipSummary,
    TokenKind,
    User,
)

TOKEN_PREFIX = {TokenKind.api: "bfr", TokenKind.session: "bfs"}
# last_used_at is written at most this often, so that reading pages does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)


class InvalidCredentials(AppError):
    status_code = 401
    code = "invalid_credentials"
    detail = N_("Adresse électronique ou mot de passe incorrect.")


class InvitationInvalid(AppError):
    status_code = 400
    code = "invitation_invalid"
    detail = N_(
        "Ce lien d'invitation n'est pas valable. Copiez-le en entier depuis le message reçu, ou "
        "demandez une nouvelle invitation à l'administrateur de votre collectivité."
    )


class InvitationExpired(Gone):
    code = "invitation_expired"
    detail = N_(
        "Ce lien d'invitation a expiré ou a déjà servi. Demandez une nouvelle invitation à "
        "l'administrateur de votre collectivité, ou connectez-vous si vous avez déjà choisi votre "
        "mot de passe."
    )


def create(
    session: Session,
    *,
    email: str,
    name: str | None = None,
    password: str | None = None,
    is_superuser: bool = False,
) -> User:
    email = _checked(validation.email, email)
    if get_by_email(session, email) is not None:
        raise Conflict(
            N_("Une personne utilise déjà l'adresse {email}."),
            email=email,
            extra={"field": "email"},
        )
    user = User(
        email=email,
        name=_checked(validation.name, name) if name else email.split("@")[0],
        password_hash=security.hash_password(_checked(validation.password, password))
        if password is not None
        else None,
        is_superuser=is_superuser,
    )
    session.add(user)
    session.flush()
    return user


def _checked(validator: Callable[[str], str], value: str) -> str:
    try:
        return validator(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def get_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def set_password(session: Session, *, user: User, password: str) -> None:
    user.password_hash = security.hash_password(_checked(validation.password, password))
    session.add(user)
    # A new password ends every open session and API token of the person.
    revoke_all(session, user=user)


# --- signing in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta
    slowdown_after: int
    lockout_after: int
    lockout: timedelta
    max_delay: timedelta = timedelta(minutes=2)

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            window=timedelta(minutes=settings.login_window_minutes),
            slowdown_after=settings.login_slowdown_after,
            lockout_after=settings.login_lockout_after,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
        )


def authenticate(
    session: Session, *, email: str, password: str, ip: str, policy: ThrottlePolicy
) -> User:
    """The person with these credentials, or InvalidCredentials / TooManyRequests.

    A failure is added to the session: the caller commits it even though it raises.
    """
    email = email.strip().lower()
    _check_throttle(session, email=email, ip=ip, policy=policy)
    user = get_by_email(session, email)
    ok = security.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        session.add(LoginFailure(email=email[:254], ip=ip[:64]))
        raise InvalidCredentials()
    if user.password_hash and security.password_needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    user.last_login_at = clock.now()
    session.add(user)
    session.execute(sa.delete(LoginFailure).where(col(LoginFailure.email) == email))
    return user


def _check_throttle(session: Session, *, email: str, ip: str, policy: ThrottlePolicy) -> None:
    now = clock.now()
    since = now - max(policy.window, policy.lockout)
    failures, last = 0, None
    for column, value in ((LoginFailure.email, email), (LoginFailure.ip, ip)):
        count, latest = session.exec(
            select(func.count(), func.max(LoginFailure.created_at)).where(
                column == value, col(LoginFailure.created_at) >= since
            )
        ).one()
        if count > failures:
            failures, last = count, latest
    if last is None or failures < policy.slowdown_after:
        return
    last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
    if failures >= policy.lockout_after:
        wait = last + policy.lockout - now
        if wait > timedelta(0):
            minutes = math.ceil(wait.total_seconds() / 60)
            raise TooManyRequests(
                N_(
                    "Trop de tentatives de connexion échouées : par sécurité, la connexion est "
                    "bloquée pendant {minutes} min. Réessayez plus tard, ou demandez à "
                    "l'administrateur de votre collectivité de vous renvoyer une invitation."
                ),
                retry_after=math.ceil(wait.total_seconds()),
                minutes=minutes,
            )
        return
    # Below the lockout, each further failure doubles the pause required before the next try.
    delay = min(timedelta(seconds=2 ** (failures - policy.slowdown_after + 1)), policy.max_delay)
    wait = last + delay - now
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        raise TooManyRequests(
            N_(
                "Plusieurs tentatives de connexion ont échoué : patientez {seconds} s avant de "
                "réessayer."
            ),
            retry_after=seconds,
            seconds=seconds,
        )


def purge_login_failures(session: Session, *, policy: ThrottlePolicy) -> None:
    before = clock.now() - max(policy.window, policy.lockout)
    session.execute(sa.delete(LoginFailure).where(col(LoginFailure.created_at) < before))


# --- tokens and sessions ------------------------------------------------------------------------


def issue_token(
    session: Session, *, user: User, kind: TokenKind, ttl: timedelta, name: str = ""
) -> tuple[str, AccessToken]:
    raw = security.new_token(TOKEN_PREFIX[kind])
    token = AccessToken(
        user_id=user.id,  # type: ignore[arg-type]
        kind=kind,
        name=name.strip()[:200],
        token_hash=security.token_hash(raw),
        expires_at=clock.now() + ttl,
    )
    session.add(token)
    session.flush()
    return raw, token


# Run at every request: built once, with bind parameters.
_TOKEN_AND_USER = (
    select(AccessToken, User)
    .join(User, col(User.id) == AccessToken.user_id)
    .where(
        AccessToken.token_hash == sa.bindparam("token_hash"),
        AccessToken.kind == sa.bindparam("kind"),
    )
)


def resolve_token(
    session: Session, raw: str, *, kind: TokenKind
) -> tuple[User, AccessToken] | None:
    """The active person behind a raw token, or None when it is unknown, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX[kind] + "_"):
        return None
    params = {"token_hash": security.token_hash(raw), "kind": kind.value}
    row = session.exec(_TOKEN_AND_USER, params=params).first()
    if row is None:
        return None
    token, user = row
    now = clock.now()
    if token.revoked_at is not None or token.expires_at <= now or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        session.add(token)
    return user, token


def list_tokens(session: Session, *, user: User) -> list[AccessToken]:
    stmt = (
        select(AccessToken)
        .where(AccessToken.user_id == user.id, AccessToken.kind == TokenKind.api)
        .order_by(col(AccessToken.created_at).desc(), col(AccessToken.id).desc())
    )
    return list(session.exec(stmt))


def revoke_token(session: Session, *, user: User, token_id: int) -> AccessToken:
    token = session.get(AccessToken, token_id)
    if token is None or token.user_id != user.id or token.kind != TokenKind.api:
        raise NotFound(N_("Ce jeton n'existe pas."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        session.add(token)
    return token


def end_session(session: Session, *, token: AccessToken) -> None:
    token.revoked_at = clock.now()
    session.add(token)


def revoke_all(session: Session, *, user: User) -> None:
    session.execute(
        sa.update(AccessToken)
        .where(col(AccessToken.user_id) == user.id, col(AccessToken.revoked_at).is_(None))
        .values(revoked_at=clock.now())
    )


def purge_expired_tokens(session: Session) -> None:
    # Revoked or expired API tokens stay listed for a month so that their owner sees what happened.
    before = clock.now() - timedelta(days=30)
    session.execute(
        sa.delete(AccessToken).where(
            sa.or_(
                col(AccessToken.expires_at) < before,
                sa.and_(
                    col(AccessToken.revoked_at) < before,
                    col(AccessToken.revoked_at).is_not(None),
                ),
            )
        )
    )


# --- invitations --------------------------------------------------------------------------------


def _password_fingerprint(user: User) -> str:
    # Binds an invitation to the account's state: once a password is chosen, the link stops working.
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def invitation_token(settings: Settings, *, user: User) -> str:
    signer = security.Signer(settings.secret, "invitation")
    return signer.dumps({"u": user.id, "p": _password_fingerprint(user)})


def invited_user(session: Session, settings: Settings, *, token: str) -> User:
    signer = security.Signer(settings.secret, "invitation")
    try:
        data = signer.loads(token, max_age=settings.invitation_ttl_days * 86400)
    except security.Expired:
        raise InvitationExpired() from None
    except security.Invalid:
        raise InvitationInvalid() from None
    user = session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None:
        raise InvitationInvalid()
    if not security.constant_time_equals(str(data.get("p")), _password_fingerprint(user)):
        raise InvitationExpired()
    return user


def accept_invitation(session: Session, settings: Settings, *, token: str, password: str) -> User:
    user = invited_user(session, settings, token=token)
    set_password(session, user=user, password=password)
    return user


# --- reading ------------------------------------------------------------------------------------


def me(session: Session, *, user: User) -> Me:
    rows = session.exec(
        select(Membership, Authority)
        .join(Authority, col(Authority.id) == Membership.authority_id)
        .where(Membership.user_id == user.id)
        .order_by(col(Authority.name))
    ).all()
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        locale=user.locale,
        is_superuser=user.is_superuser,
        memberships=[
            MembershipSummary(
                authority_id=authority.id,
                slug=authority.slug,
                name=authority.name,
                roles=[Role(role) for role in membership.roles],
            )
            for membership, authority in rows
        ],
    )
