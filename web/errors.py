"""Errors as pages in the person's language; a page that needs someone signed in redirects to
the sign-in page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from core.errors import AppError
from web import i18n
from web.templating import locale_of, render


def render_error(request: Request, error: AppError) -> Response:
    if error.status_code == 401 and request.method in {"GET", "HEAD"}:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    gettext = i18n.translations(locale_of(request)).gettext
    response = render(
        request,
        "error.html",
        {"status": error.status_code, "message": error.translated(gettext)},
        status_code=error.status_code,
    )
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
