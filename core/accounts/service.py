"""Accounts in the database: listing, reading, storing credentials and health. Nothing here calls
a network (see core.accounts.connect)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core import clock, crypto
from core.accounts.models import Account, AccountHealth, AccountUpdate, Network
from core.authorities import service as authorities
from core.authorities.models import Authority
from core.config import Settings
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import N_
from core.posts.models import Publication, PublicationStatus
from core.tenancy import for_authority


def list_accounts(session: Session, *, authority: Authority) -> list[Account]:
    stmt = for_authority(select(Account), authority.id).order_by(  # type: ignore[arg-type]
        col(Account.network), col(Account.name), col(Account.id)
    )
    return list(session.exec(stmt))


def get(session: Session, *, authority: Authority, account_id: int) -> Account:
    stmt = for_authority(select(Account), authority.id).where(Account.id == account_id)  # type: ignore[arg-type]
    account = session.exec(stmt).first()
    if account is None:
        raise NotFound(N_("Ce compte n'existe pas dans cette collectivité."))
    return account


def check_assignee(session: Session, *, authority: Authority, user_id: int | None) -> None:
    if user_id is None:
        return
    if authorities.membership(session, authority_id=authority.id, user_id=user_id) is None:  # type: ignore[arg-type]
        raise InvalidInput(
            N_(
                "La personne chargée de publier sur un canal manuel doit être membre de la "
                "collectivité (assignee_id = identifiant de la personne, voir GET …/members)."
            ),
            extra={"field": "assignee_id"},
        )


def update(
    session: Session, *, authority: Authority, account: Account, data: AccountUpdate
) -> Account:
    values = data.model_dump(exclude_unset=True)
    if "assignee_id" in values:
        if account.network != Network.manual and values["assignee_id"] is not None:
            raise InvalidInput(
                N_("Seul un canal manuel a une personne chargée de publier."),
                extra={"field": "assignee_id"},
            )
        check_assignee(session, authority=authority, user_id=values["assignee_id"])
    for field, value in values.items():
        if value is None and field in {"name", "kind"}:
            continue
        setattr(account, field, value)
    session.add(account)
    return account


def delete(session: Session, *, account: Account) -> None:
    """Forget the account; refused while posts are scheduled (or being sent) on it."""
    waiting = session.exec(
        for_authority(select(Publication), account.authority_id).where(
            Publication.account_id == account.id,
            col(Publication.status).in_(
                (PublicationStatus.scheduled, PublicationStatus.publishing)
            ),
        )
    ).all()
    if waiting:
        raise Conflict(
            N_(
                "Ce compte a {count} publication(s) programmée(s) ou en cours d'envoi : "
                "annulez-les ou retirez-les de ce compte avant de le supprimer."
            ),
            count=len(waiting),
            extra={"post_ids": sorted({p.post_id for p in waiting})},
        )
    session.delete(account)


def store_credentials(
    session: Session,
    settings: Settings,
    *,
    account: Account,
    credentials: dict[str, Any],
    expires_at: datetime | None,
) -> None:
    account.credentials_encrypted = crypto.encrypt(settings, credentials)
    account.token_expires_at = expires_at
    session.add(account)


def record_health(
    session: Session, *, account: Account, health: AccountHealth, message: str | None = None
) -> None:
    account.health = health
    account.health_message = message[:1000] if message else None
    account.last_checked_at = clock.now()
    session.add(account)


def rotate_credentials(session: Session, settings: Settings) -> int:
    """Re-encrypt every stored secret with the first encryption key; returns how many. (Across
    authorities: an operator's maintenance command.)"""
    from core.accounts.models import OAuthState

    count = 0
    for account in session.exec(
        select(Account).where(col(Account.credentials_encrypted).is_not(None))
    ):
        assert account.credentials_encrypted is not None
        account.credentials_encrypted = crypto.rotate(settings, account.credentials_encrypted)
        session.add(account)
        count += 1
    for state in session.exec(
        select(OAuthState).where(col(OAuthState.secrets_encrypted).is_not(None))
    ):
        assert state.secrets_encrypted is not None
        state.secrets_encrypted = crypto.rotate(settings, state.secrets_encrypted)
        session.add(state)
        count += 1
    return count
