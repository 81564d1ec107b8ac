"""The sandboxes' pages: OAuth consent screens and a feed per account that looks roughly like the
network's own, to see what Beffroi published there. Rendered with Beffroi's templates (French,
translated like every page)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from web import i18n
from web.templating import environment

HIDDEN_PARAMS = (
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "response_type",
    "code_challenge",
    "code_challenge_method",
)


def _render(request: Request, template: str, context: dict[str, Any]) -> str:
    locale = i18n.negotiate(request.headers.get("accept-language"), "fr")
    return environment(locale).get_template(f"sandbox/{template}").render(context)


def render_consent(
    request: Request, *, network: str, params: dict[str, str], second_page: bool
) -> str:
    hidden = {k: v for k, v in params.items() if k in HIDDEN_PARAMS}
    return _render(
        request,
        "consent.html",
        {
            "network": network,
            "action": request.url.path,
            "hidden": hidden,
            "scope": params.get("scope", ""),
            "second_page": second_page,
        },
    )


def render_message(request: Request, *, title: str, message: str) -> str:
    return _render(request, "message.html", {"title": title, "message": message})


def render_feed(request: Request, context: dict[str, Any]) -> str:
    return _render(request, "feed.html", context)


def render_index(request: Request, context: dict[str, Any]) -> str:
    return _render(request, "index.html", context)
