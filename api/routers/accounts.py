"""Connected accounts: the network accounts and manual channels of an authority."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import AdminDep, EditorDep, MemberDep, PathId, SessionDep, SettingsDep
from core.accounts import connect
from core.accounts import service as accounts
from core.accounts.models import (
    Account,
    AccountCreate,
    AccountRead,
    AccountUpdate,
    AuthorizationStarted,
    AuthorizeRequest,
)

router = APIRouter(prefix="/api/v1", tags=["comptes"])


def get_account(session: SessionDep, member: MemberDep, account_id: PathId) -> Account:
    # Resolved before role checks and body validation: another authority's id is simply unknown.
    return accounts.get(session, authority=member.authority, account_id=account_id)


AccountDep = Annotated[Account, Depends(get_account)]


@router.get("/authorities/{slug}/accounts", response_model=list[AccountRead])
def list_accounts(session: SessionDep, member: MemberDep) -> list[AccountRead]:
    return [AccountRead.of(a) for a in accounts.list_accounts(session, authority=member.authority)]


@router.post("/authorities/{slug}/accounts", status_code=201, response_model=AccountRead)
def add_account(
    data: AccountCreate, session: SessionDep, settings: SettingsDep, member: AdminDep
) -> AccountRead:
    """Ajoute un compte : `{network, name, kind, sandbox: true}` pour un compte du bac à sable,
    `{network, name, kind, credentials: {...}, instance_url?}` pour un compte réel (vérifié aussitôt
    auprès du réseau), ou `{network: "manual", name, assignee_id?}` pour un canal manuel. Les
    identifiants sont chiffrés et ne sont jamais renvoyés."""
    return AccountRead.of(
        connect.add_account(session, settings, authority=member.authority, data=data)
    )


@router.post("/authorities/{slug}/accounts/authorize", response_model=AuthorizationStarted)
def start_authorization(
    data: AuthorizeRequest, session: SessionDep, settings: SettingsDep, member: AdminDep
) -> AuthorizationStarted:
    """Commence la connexion d'un compte par OAuth (X, LinkedIn, Facebook, Instagram, Mastodon) :
    ouvrez `authorization_url` dans un navigateur ; le réseau renvoie ensuite vers Beffroi
    (`/oauth/callback`), qui enregistre le compte. Valable 15 minutes, une seule fois."""
    return connect.start_authorization(
        session, settings, authority=member.authority, user=member.user, data=data
    )


@router.get("/authorities/{slug}/accounts/{account_id}", response_model=AccountRead)
def get_one(account: AccountDep) -> AccountRead:
    return AccountRead.of(account)


@router.patch("/authorities/{slug}/accounts/{account_id}", response_model=AccountRead)
def update_account(
    account: AccountDep, data: AccountUpdate, session: SessionDep, member: AdminDep
) -> AccountRead:
    return AccountRead.of(
        accounts.update(session, authority=member.authority, account=account, data=data)
    )


@router.delete("/authorities/{slug}/accounts/{account_id}", status_code=204)
def delete_account(account: AccountDep, session: SessionDep, _admin: AdminDep) -> Response:
    """Oublie le compte et ses identifiants. L'accès accordé à Beffroi se retire aussi dans les
    réglages du réseau."""
    accounts.delete(session, account=account)
    return Response(status_code=204)


@router.post("/authorities/{slug}/accounts/{account_id}/check", response_model=AccountRead)
def check_account(
    account: AccountDep, session: SessionDep, settings: SettingsDep, _editor: EditorDep
) -> AccountRead:
    """Vérifie les identifiants auprès du réseau (en renouvelant un jeton sur le point d'expirer)
    et met à jour l'état du compte (`health`, `health_message`, `last_checked_at`)."""
    return AccountRead.of(connect.check(session, settings, account=account))
