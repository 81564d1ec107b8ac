"""The pages of an OAuth connection: the network sends the person back here with a code.

No sign-in is required: the signed, single-use `state` (created when an administrator started the
connection) is the credential, as an invitation link is."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep
from core.accounts import connect
from web.deps import CsrfDep
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/oauth/callback")
def callback(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    state: str = "",
    code: str | None = None,
    error: str | None = None,
) -> Response:
    if not state:
        raise connect.OAuthStateInvalid()
    completion = connect.complete_authorization(
        session, settings, state=state, code=code, error=error
    )
    return render(request, "oauth.html", {"completion": completion, "state": state})


@router.post("/oauth/choose", dependencies=[CsrfDep])
def choose(
    session: SessionDep,
    settings: SettingsDep,
    state: Annotated[str, Form(max_length=2000)] = "",
    remote_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    connect.choose(session, settings, state=state, remote_id=remote_id)
    return RedirectResponse(f"/oauth/done?state={quote(state)}", status_code=303)


@router.get("/oauth/done")
def done(request: Request, session: SessionDep, settings: SettingsDep, state: str = "") -> Response:
    completion = connect.completed(session, settings, state=state)
    return render(request, "oauth.html", {"completion": completion, "state": state})
