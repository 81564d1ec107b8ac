"""The connected accounts' page: each account with its health and token expiry, "check", delete
(with a confirmation), its sandbox feed, its weekly posting slots; and the ways to connect one
(sandbox, OAuth including a Mastodon instance, Bluesky app password, manual channel). Everything
goes through core.accounts (service, connect) and core.calendar.slots, as in the API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from babel.dates import get_day_names
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import Member, PathId, SessionDep, SettingsDep
from core.accounts import connect
from core.accounts import service as accounts
from core.accounts.models import (
    ACCOUNT_HEALTH_LABELS,
    Account,
    AccountCreate,
    AccountHealth,
    AccountKind,
    AccountUpdate,
    AuthorizeRequest,
    Network,
)
from core.authorities import service as authorities
from core.authorities.models import Role
from core.calendar import slots
from core.calendar.models import SlotCreate
from core.config import Settings
from core.errors import AppError, PermissionDenied
from core.i18n import N_
from web import forms, i18n
from web.deps import CsrfDep, PageAdminDep, PageMemberDep
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=500)]
KIND_LABELS = {
    AccountKind.institutional: N_("Compte de la collectivité"),
    AccountKind.elected: N_("Compte personnel d'un·e élu·e"),
}
CONNECTABLE = [n for n in Network if n is not Network.manual]
LABELS = [
    forms.Field("name", N_("Nom")),
    forms.Field("network", N_("Réseau")),
    forms.Field("kind", N_("Type de compte")),
    forms.Field("instance_url", N_("Serveur")),
    forms.Field("handle", N_("Identifiant")),
    forms.Field("weekday", N_("Jour")),
    forms.Field("local_time", N_("Heure")),
    forms.Field("assignee_id", N_("Personne chargée de publier")),
    forms.Field("daily_quota", N_("Publications par jour au plus")),
]
# Sections of the page that hold a form; a failed one is re-shown open with its message.
EMPTY_FORMS: dict[str, dict[str, Any]] = {
    "sandbox": {"network": "mastodon", "name": "", "kind": "institutional"},
    "oauth": {"network": "mastodon", "name": "", "kind": "institutional", "instance_url": ""},
    "bluesky": {"name": "", "handle": "", "kind": "institutional", "instance_url": ""},
    "manual": {"name": "", "assignee_id": ""},
}


def get_page_editor(member: PageMemberDep) -> Member:
    if not member.has(Role.admin, Role.editor):
        raise PermissionDenied(
            N_("Cette action est réservée aux chargé·es de communication et aux administrateurs.")
        )
    return member


PageEditorDep = Annotated[Member, Depends(get_page_editor)]


def _gettext(request: Request) -> Any:
    return i18n.translations(locale_of(request)).gettext


def _page(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    *,
    failed: dict[str, Any] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    gettext = _gettext(request)
    locale = locale_of(request)
    rows = accounts.list_accounts(session, authority=member.authority)
    day_names = get_day_names("wide", locale=i18n.babel_locale(locale))
    people = {m.user_id: m.name for m in authorities.members(session, authority=member.authority)}
    items = []
    for account in rows:
        account_slots = slots.list_slots(session, account=account)
        items.append(
            {
                "account": account,
                "network": gettext(Network(account.network).label),
                "kind": gettext(KIND_LABELS[AccountKind(account.kind)]),
                "health": gettext(ACCOUNT_HEALTH_LABELS[AccountHealth(account.health)]),
                "assignee": people.get(account.assignee_id) if account.assignee_id else None,
                "feed": (
                    f"{settings.sandbox_base_url}/{account.network}/feed/{quote(account.remote_id)}"
                    if account.sandbox and account.remote_id
                    else None
                ),
                "slots": [
                    {
                        "id": s.id,
                        "label": f"{day_names[s.weekday]} {s.local_time.strftime('%H:%M')}",
                    }
                    for s in account_slots
                ],
            }
        )
    forms_values = {key: dict(values) for key, values in EMPTY_FORMS.items()}
    if failed is not None and failed["key"] in forms_values:
        forms_values[failed["key"]].update(failed.get("typed", {}))
    context = {
        "authority": member.authority,
        "member": member,
        "is_admin": member.has(Role.admin),
        "can_edit": member.has(Role.admin, Role.editor),
        "items": items,
        "failed": failed,
        "done": done,
        "values": forms_values,
        "networks": [(n.value, gettext(n.label)) for n in CONNECTABLE],
        "oauth_networks": [(n.value, n.label) for n in connect.OAUTH_NETWORKS],
        "kinds": [(k.value, gettext(label)) for k, label in KIND_LABELS.items()],
        "weekdays": [(i, day_names[i]) for i in range(7)],
        "people": sorted(people.items(), key=lambda p: p[1]),
        "sandbox_enabled": bool(settings.sandbox),
    }
    return render(request, "accounts.html", context, status_code=status_code)


def _back(member: Member, anchor: str = "comptes") -> RedirectResponse:
    return RedirectResponse(f"/a/{quote(member.authority.slug)}/accounts#{anchor}", status_code=303)


def _failed(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    key: str,
    error: AppError | ValidationError,
    values: dict[str, Any] | None = None,
) -> Response:
    session.rollback()
    if isinstance(error, ValidationError):
        messages = forms.errors_of(error, LABELS, _gettext(request))
        status = 422
    else:
        messages = [error.translated(_gettext(request))]
        status = error.status_code
    failed = {"key": key, "messages": messages, "typed": values or {}}
    return _page(request, session, settings, member, failed=failed, status_code=status)


@router.get("/a/{slug}/accounts")
def accounts_page(
    request: Request, session: SessionDep, settings: SettingsDep, member: PageMemberDep
) -> Response:
    return _page(request, session, settings, member)


# --- connecting ---------------------------------------------------------------------------------


@router.post("/a/{slug}/accounts/sandbox", dependencies=[CsrfDep])
def add_sandbox(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    network: Text = "",
    name: Text = "",
    kind: Text = "institutional",
) -> Response:
    values = {"network": network, "name": name, "kind": kind}
    try:
        data = AccountCreate.model_validate({**values, "sandbox": True})
        connect.add_account(session, settings, authority=member.authority, data=data)
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, "sandbox", error, values)
    return _back(member)


@router.post("/a/{slug}/accounts/authorize", dependencies=[CsrfDep])
def start_oauth(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    network: Text = "",
    name: Text = "",
    kind: Text = "institutional",
    instance_url: Text = "",
    sandbox: Annotated[bool, Form()] = False,
) -> Response:
    values = {"network": network, "name": name, "kind": kind, "instance_url": instance_url}
    try:
        data = AuthorizeRequest.model_validate(
            {
                **values,
                "name": name.strip() or None,
                "instance_url": instance_url.strip() or None,
                "sandbox": sandbox,
            }
        )
        started = connect.start_authorization(
            session, settings, authority=member.authority, user=member.user, data=data
        )
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, "oauth", error, values)
    # Off to the network (or its sandbox), which sends the person back to /oauth/callback.
    return RedirectResponse(started.authorization_url, status_code=303)


@router.post("/a/{slug}/accounts/bluesky", dependencies=[CsrfDep])
def add_bluesky(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    name: Text = "",
    handle: Text = "",
    app_password: Text = "",
    kind: Text = "institutional",
    instance_url: Text = "",
) -> Response:
    # The app password is never shown again, even on an error.
    values = {"name": name, "handle": handle, "kind": kind, "instance_url": instance_url}
    try:
        data = AccountCreate.model_validate(
            {
                "network": Network.bluesky,
                "name": name,
                "kind": kind,
                "credentials": {"identifier": handle, "app_password": app_password},
                "instance_url": instance_url.strip() or None,
            }
        )
        connect.add_account(session, settings, authority=member.authority, data=data)
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, "bluesky", error, values)
    return _back(member)


@router.post("/a/{slug}/accounts/manual", dependencies=[CsrfDep])
def add_manual(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    name: Text = "",
    assignee_id: Text = "",
) -> Response:
    values = {"name": name, "assignee_id": assignee_id}
    try:
        data = AccountCreate.model_validate(
            {"network": Network.manual, "name": name, "assignee_id": assignee_id or None}
        )
        connect.add_account(session, settings, authority=member.authority, data=data)
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, "manual", error, values)
    return _back(member)


# --- one account --------------------------------------------------------------------------------


def _account(session: Session, member: Member, account_id: int) -> Account:
    return accounts.get(session, authority=member.authority, account_id=account_id)


@router.post("/a/{slug}/accounts/{account_id}", dependencies=[CsrfDep])
def update(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    account_id: PathId,
    name: Text = "",
    kind: Text = "institutional",
    daily_quota: Text = "",
    assignee_id: Text = "",
) -> Response:
    account = _account(session, member, account_id)
    values = {"name": name, "kind": kind, "daily_quota": daily_quota, "assignee_id": assignee_id}
    try:
        changes: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "daily_quota": daily_quota.strip() or None,
        }
        if account.network == Network.manual:
            changes["assignee_id"] = assignee_id or None
        data = AccountUpdate.model_validate(changes)
        accounts.update(session, authority=member.authority, account=account, data=data)
        session.flush()
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, f"edit-{account_id}", error, values)
    return _back(member, f"compte-{account_id}")


@router.post("/a/{slug}/accounts/{account_id}/check", dependencies=[CsrfDep])
def check(
    session: SessionDep,
    settings: SettingsDep,
    member: PageEditorDep,
    account_id: PathId,
) -> Response:
    account = _account(session, member, account_id)
    # A failed check is recorded as the account's health and shown on the page.
    connect.check(session, settings, account=account)
    return _back(member, f"compte-{account_id}")


@router.get("/a/{slug}/accounts/{account_id}/delete")
def confirm_delete(
    request: Request, session: SessionDep, member: PageAdminDep, account_id: PathId
) -> Response:
    account = _account(session, member, account_id)
    return _confirm(request, member, account)


def _confirm(
    request: Request,
    member: Member,
    account: Account,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "authority": member.authority,
        "member": member,
        "account": account,
        "network": _gettext(request)(Network(account.network).label),
        "error": error,
    }
    return render(request, "account_delete.html", context, status_code=status_code)


@router.post("/a/{slug}/accounts/{account_id}/delete", dependencies=[CsrfDep])
def delete(
    request: Request, session: SessionDep, member: PageAdminDep, account_id: PathId
) -> Response:
    account = _account(session, member, account_id)
    try:
        accounts.delete(session, account=account)
        session.flush()
    except AppError as error:
        session.rollback()
        account = _account(session, member, account_id)
        message = error.translated(_gettext(request))
        return _confirm(request, member, account, error=message, status_code=error.status_code)
    return _back(member)


@router.post("/a/{slug}/accounts/{account_id}/slots", dependencies=[CsrfDep])
def add_slot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageEditorDep,
    account_id: PathId,
    weekday: Text = "",
    local_time: Text = "",
) -> Response:
    account = _account(session, member, account_id)
    values = {"weekday": weekday, "local_time": local_time, "account_id": account_id}
    try:
        data = SlotCreate.model_validate({"weekday": weekday, "local_time": local_time})
        slots.add_slot(session, account=account, data=data)
    except (AppError, ValidationError) as error:
        return _failed(request, session, settings, member, f"slot-{account_id}", error, values)
    return _back(member, f"compte-{account_id}")


@router.post("/a/{slug}/accounts/{account_id}/slots/{slot_id}/delete", dependencies=[CsrfDep])
def delete_slot(
    session: SessionDep,
    member: PageEditorDep,
    account_id: PathId,
    slot_id: PathId,
) -> Response:
    account = _account(session, member, account_id)
    slots.delete_slot(session, slot=slots.get_slot(session, account=account, slot_id=slot_id))
    return _back(member, f"compte-{account_id}")
