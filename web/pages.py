"""The pages of the foundation: sign-in, home, account and API tokens, an authority's members,
invitations, and the development mailbox. POST forms answer with a 303 redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from api import security
from api.deps import SessionDep, SettingsDep
from api.errors import french_error
from core.authorities import service as authorities
from core.authorities.models import MemberCreate, Membership, MemberUpdate, Role
from core.errors import AppError, NotFound
from core.i18n import N_
from core.mail import service as mail
from core.users import service as users
from core.users.models import TokenKind, User
from web import i18n
from web.deps import (
    CsrfDep,
    OptionalPrincipalDep,
    PageAdminDep,
    PageMemberDep,
    PageUserDep,
    get_optional_principal,
)
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None) -> str:
    """Only paths of this site: an attacker must not turn the login page into a redirector."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def form_errors(exc: ValidationError) -> list[str]:
    return [french_error(dict(err))["detail"] for err in exc.errors()]


# --- signing in and out -------------------------------------------------------------------------


@router.get("/login")
def login_page(
    request: Request, principal: OptionalPrincipalDep, next: str = "/", logged_out: bool = False
) -> Response:
    if principal is not None:
        return redirect(safe_next(next))
    return render(
        request,
        "login.html",
        {"next": safe_next(next), "logged_out": logged_out, "email": "", "error": None},
    )


@router.post("/login", dependencies=[CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ip = request.client.host if request.client else "unknown"
    try:
        user = users.authenticate(
            session,
            email=email,
            password=password,
            ip=ip,
            policy=users.ThrottlePolicy.from_settings(settings),
        )
    except AppError as error:
        session.commit()  # keep the failure: it counts for throttling
        context = {
            "next": safe_next(next),
            "logged_out": False,
            "email": email,
            "error": error.translated(i18n.translations(locale_of(request)).gettext),
        }
        page = render(request, "login.html", context, status_code=error.status_code)
        if "retry_after" in error.extra:
            page.headers["Retry-After"] = str(error.extra["retry_after"])
        return page
    response = redirect(safe_next(next))
    security.open_session(session, settings, user=user, response=response, request=request)
    return response


@router.post("/logout", dependencies=[CsrfDep])
def logout(session: SessionDep, settings: SettingsDep, principal: OptionalPrincipalDep) -> Response:
    response = redirect("/login?logged_out=1")
    security.close_session(session, settings, principal=principal, response=response)
    return response


@router.post("/language", dependencies=[CsrfDep])
def choose_language(
    session: SessionDep,
    principal: OptionalPrincipalDep,
    locale: Annotated[str, Form()] = "fr",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    locale = locale if locale in i18n.LOCALES else "fr"
    if principal is not None:
        principal.user.locale = locale
        session.add(principal.user)
    response = redirect(safe_next(next))
    response.set_cookie("beffroi_lang", locale, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# --- invitations --------------------------------------------------------------------------------


@router.get("/invitation/{token}")
def invitation_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> Response:
    user = users.invited_user(session, settings, token=token)
    return render(request, "invitation.html", {"invited": user, "token": token, "errors": []})


@router.post("/invitation/{token}", dependencies=[CsrfDep])
def accept_invitation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirmation: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    user = users.invited_user(session, settings, token=token)
    errors: list[str] = []
    if password != confirmation:
        errors.append(N_("Les deux mots de passe saisis sont différents."))
    else:
        try:
            users.accept_invitation(session, settings, token=token, password=password)
        except AppError as error:
            errors.append(error.message)
    if errors:
        gettext = i18n.translations(locale_of(request)).gettext
        context = {"invited": user, "token": token, "errors": [gettext(e) for e in errors]}
        return render(request, "invitation.html", context, status_code=422)
    response = redirect("/")
    security.open_session(session, settings, user=user, response=response, request=request)
    return response


# --- home and account -----------------------------------------------------------------------------


@router.get("/")
def home(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    me = users.me(session, user=user)
    roles = {m.authority_id: m.roles for m in me.memberships}
    visible = authorities.visible_to(session, user=user)
    return render(request, "home.html", {"authorities": visible, "roles": roles})


def _account(
    request: Request, session: SessionDep, user: Any, new_token: str | None = None
) -> Response:
    tokens = users.list_tokens(session, user=user)
    return render(request, "account.html", {"tokens": tokens, "new_token": new_token})


@router.get("/account")
def account(request: Request, session: SessionDep, user: PageUserDep) -> Response:
    return _account(request, session, user)


@router.post("/account/tokens", dependencies=[CsrfDep])
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUserDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    raw, _ = users.issue_token(
        session,
        user=user,
        kind=TokenKind.api,
        ttl=timedelta(days=settings.api_token_ttl_days),
        name=name,
    )
    session.flush()
    # Shown once, on this answer only: it is not kept anywhere in readable form.
    return _account(request, session, user, new_token=raw)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def revoke_token(session: SessionDep, user: PageUserDep, token_id: int) -> Response:
    users.revoke_token(session, user=user, token_id=token_id)
    return redirect("/account")


# --- an authority and its members ---------------------------------------------------------------


@router.get("/a/{slug}")
def authority_page(request: Request, session: SessionDep, member: PageMemberDep) -> Response:
    return _authority(request, session, member)


def _authority(
    request: Request,
    session: SessionDep,
    member: Any,
    *,
    errors: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "authority": member.authority,
        "member": member,
        "members": authorities.members(session, authority=member.authority),
        "all_roles": list(Role),
        "errors": errors or [],
        "form": form or {"email": "", "name": "", "roles": []},
        "is_admin": member.has(Role.admin),
    }
    return render(request, "authority.html", context, status_code=status_code)


@router.post("/a/{slug}/members", dependencies=[CsrfDep])
def invite_member(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageAdminDep,
    email: Annotated[str, Form(max_length=254)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {"email": email, "name": name, "roles": roles or []}
    gettext = i18n.translations(locale_of(request)).gettext
    try:
        data = MemberCreate(email=email, name=name or None, roles=roles or [])
        authorities.add_member(
            session, settings, authority=member.authority, data=data, by=member.user
        )
    except ValidationError as exc:
        return _authority(
            request, session, member, errors=form_errors(exc), form=form, status_code=422
        )
    except AppError as error:
        return _authority(
            request,
            session,
            member,
            errors=[error.translated(gettext)],
            form=form,
            status_code=error.status_code,
        )
    return redirect(f"/a/{quote(member.authority.slug)}#membres")


def get_page_target(
    session: SessionDep, member: PageMemberDep, member_id: int
) -> tuple[Membership, User]:
    return authorities.get_membership(session, authority=member.authority, member_id=member_id)


PageTargetDep = Annotated[tuple[Membership, User], Depends(get_page_target)]


@router.post("/a/{slug}/members/{member_id}", dependencies=[CsrfDep])
def update_member(
    request: Request,
    target: PageTargetDep,
    session: SessionDep,
    member: PageAdminDep,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    gettext = i18n.translations(locale_of(request)).gettext
    try:
        data = MemberUpdate(roles=roles or [])
        authorities.update_roles(
            session, authority=member.authority, membership=target, roles=data.roles
        )
    except ValidationError as exc:
        return _authority(request, session, member, errors=form_errors(exc), status_code=422)
    except AppError as error:
        return _authority(
            request,
            session,
            member,
            errors=[error.translated(gettext)],
            status_code=error.status_code,
        )
    return redirect(f"/a/{quote(member.authority.slug)}#membres")


@router.post("/a/{slug}/members/{member_id}/remove", dependencies=[CsrfDep])
def remove_member(
    request: Request, target: PageTargetDep, session: SessionDep, member: PageAdminDep
) -> Response:
    gettext = i18n.translations(locale_of(request)).gettext
    try:
        authorities.remove_member(session, authority=member.authority, membership=target)
    except AppError as error:
        return _authority(
            request,
            session,
            member,
            errors=[error.translated(gettext)],
            status_code=error.status_code,
        )
    return redirect(f"/a/{quote(member.authority.slug)}#membres")


# --- development mailbox --------------------------------------------------------------------------


def _development_only(settings: SettingsDep) -> None:
    if settings.env != "development":
        raise NotFound()


@router.get(
    "/dev/emails", dependencies=[Depends(_development_only), Depends(get_optional_principal)]
)
def dev_emails(request: Request, session: SessionDep) -> Response:
    return render(request, "dev_emails.html", {"emails": mail.recent(session)})
