"""One-tap approval from an e-mail: the page shows the post as it will appear; only a button
(POST) decides, because mail scanners open links by themselves. The signed token is the
credential (no session needed), and the forms carry a value bound to that token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from core.config import Settings
from core.errors import AppError
from core.posts import approvals, notify, workflow
from core.posts.models import EventChannel
from web import i18n
from web.review import review
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Token = Annotated[str, Form(max_length=200)]


@router.get("/approval/done")
def done(request: Request, decision: str = "approved") -> Response:
    decision = decision if decision in {"approved", "changes_requested"} else "approved"
    return render(request, "approval_done.html", {"decision": decision})


@router.get("/approval/{token}")
def approval_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> Response:
    resolved = approvals.resolve(session, settings, token=token)
    return _page(request, session, settings, token, resolved, error=None, comment="")


@router.post("/approval/{token}/approve")
def approve(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    form_token: Token = "",
    acknowledge: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    approvals.check_form_token(settings, token=token, submitted=form_token)
    resolved = approvals.resolve(session, settings, token=token)
    try:
        workflow.approve(
            session,
            settings,
            actor=resolved.actor,
            post=resolved.post,
            acknowledge=acknowledge or [],
            channel=EventChannel.email,
        )
    except AppError as error:
        # Rules that block (a warning not acknowledged, an error): the page again, saying why.
        session.rollback()
        resolved = approvals.resolve(session, settings, token=token)
        message = error.translated(i18n.translations(locale_of(request)).gettext)
        return _page(
            request,
            session,
            settings,
            token,
            resolved,
            error=message,
            error_action="approve",
            comment="",
            acknowledged=acknowledge or [],
            status=error.status_code,
        )
    approvals.mark_used(session, link=resolved.link)
    return RedirectResponse("/approval/done?decision=approved", status_code=303)


@router.post("/approval/{token}/request-changes")
def request_changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    form_token: Token = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    approvals.check_form_token(settings, token=token, submitted=form_token)
    resolved = approvals.resolve(session, settings, token=token)
    try:
        workflow.request_changes(
            session,
            settings,
            actor=resolved.actor,
            post=resolved.post,
            comment=comment,
            channel=EventChannel.email,
        )
    except AppError as error:
        session.rollback()
        resolved = approvals.resolve(session, settings, token=token)
        message = error.translated(i18n.translations(locale_of(request)).gettext)
        return _page(
            request,
            session,
            settings,
            token,
            resolved,
            error=message,
            error_action="request_changes",
            comment=comment,
            status=error.status_code,
        )
    approvals.mark_used(session, link=resolved.link)
    return RedirectResponse("/approval/done?decision=changes_requested", status_code=303)


def _page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    token: str,
    resolved: approvals.Resolved,
    *,
    error: str | None,
    comment: str,
    error_action: str | None = None,
    acknowledged: list[str] | None = None,
    status: int = 200,
) -> Response:
    gettext = i18n.translations(locale_of(request)).gettext
    context = {
        **review(session, settings, resolved.post, gettext),
        "acknowledged": acknowledged or [],
        "error_action": error_action,
        "person": resolved.actor.user.name,
        "token": token,
        "form_token": approvals.form_token(settings, token=token),
        "expires": notify.local_time(resolved.link.expires_at, resolved.authority.timezone),
        "error": error,
        "comment": comment,
    }
    response = render(request, "approval.html", context, status_code=status)
    # The token is in the URL: never tell another site where the person came from.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
