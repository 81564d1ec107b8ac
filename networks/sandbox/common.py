"""What every network's sandbox server shares: faults, request records, OAuth consent, images."""

from __future__ import annotations

import asyncio
import io
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import N_
from networks.sandbox import pages, tokens
from networks.sandbox.state import AuthCode, Decision, Sandbox, SandboxAccount, SandboxImage


def mount_url(request: Request) -> str:
    """The base URL of this network's sandbox as the caller reached it (mount path included)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def sniff(data: bytes) -> tuple[str, int, int] | None:
    """(mime type, width, height) of an image, or None when it is not one."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            kind = (image.format or "").lower()
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    mime = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}
    if kind not in mime:
        return None
    return mime[kind], width, height


class Recorder:
    """Records every answered request against the account it acted for (`request.state`)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            account = scope.get("state", {}).get("sandbox_account")
            if account is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                self.sandbox.record(account, scope["method"], scope["path"], status[0], query)


class NetworkServer:
    """The base of one network's sandbox: subclasses add routes and the network's error format."""

    network: str = ""
    label: str = ""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    # --- the network's wire format (overridden) -----------------------------------------------

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        return JSONResponse({"error": message or "error"}, status_code=status)

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        return self.error(429, "Too Many Requests")

    def routes(self) -> Sequence[BaseRoute]:
        raise NotImplementedError

    def app(self) -> ASGIApp:
        return Recorder(Starlette(routes=list(self.routes())), self.sb)

    # --- faults -------------------------------------------------------------------------------

    async def guard(self, request: Request, account: SandboxAccount | None) -> Response | None:
        """Apply the knobs before the request is carried out: None means go on."""
        if account is not None:
            request.state.sandbox_account = account
        delay = self.sb.latency(account)
        if delay:
            await asyncio.sleep(delay)
        decision = self.sb.decide(account)
        if decision.kind == "hang":
            await asyncio.sleep(decision.hang)
            return self.error(504, "Gateway Timeout")
        if decision.kind == "rate_limited":
            return self.rate_limited(account, decision)
        if decision.kind in {"fail", "error"}:
            return self.error(decision.status)
        return None

    async def committed(self, account: SandboxAccount) -> Response | None:
        """Apply `fail_after_commit` once a publication is stored."""
        decision = self.sb.after_commit(account)
        if decision.kind == "hang":
            await asyncio.sleep(decision.hang)
            return self.error(504, "Gateway Timeout")
        if decision.kind == "fail":
            return self.error(500)
        return None

    def account_for(self, token: str | None, *, typ: str = "access") -> SandboxAccount | None:
        if not token:
            return None
        payload = self.sb.verify(token, network=self.network, typ=typ)
        if payload is None:
            return None
        return self.sb.ensure_account(
            self.network,
            str(payload["sub"]),
            name=str(payload.get("nm", "")),
            handle=str(payload.get("h", "")),
        )

    def store_image(
        self, account: SandboxAccount, data: bytes, *, alt: str = ""
    ) -> SandboxImage | None:
        found = sniff(data)
        if found is None:
            return None
        mime, width, height = found
        image = SandboxImage(
            id=self.sb.new_id(19), mime=mime, data=data, alt=alt, width=width, height=height
        )
        with self.sb.lock:
            account.media[image.id] = image
        return image

    def quota_left(self, account: SandboxAccount) -> tuple[int | None, int, Any]:
        """(daily quota, used in the last 24 h, when the oldest of those leaves the window)."""
        quota = self.sb.daily_quota(account)
        now = self.sb.now()
        recent = [
            p.created_at for p in account.posts.values() if p.created_at > now - timedelta(days=1)
        ]
        reset = (min(recent) + timedelta(days=1)) if recent else now + timedelta(days=1)
        return quota, len(recent), reset

    # --- OAuth consent --------------------------------------------------------------------------

    def client_ok(self, client_id: str, redirect_uri: str) -> bool:
        return client_id == tokens.CLIENT_ID and bool(redirect_uri)

    def client_secret_ok(self, client_id: str, client_secret: str) -> bool:
        return client_id == tokens.CLIENT_ID and secrets.compare_digest(
            client_secret, tokens.client_secret(self.sb.secret, self.network)
        )

    async def consent(self, request: Request, *, second_page: bool = False) -> Response:
        params = dict(request.query_params)
        if not self.client_ok(params.get("client_id", ""), params.get("redirect_uri", "")):
            return HTMLResponse(
                pages.render_message(
                    request,
                    title=N_("Application inconnue"),
                    message=N_(
                        "Cette application n'est pas enregistrée sur ce bac à sable : vérifiez "
                        "l'identifiant de l'application (client_id) et l'adresse de retour."
                    ),
                ),
                status_code=400,
            )
        return HTMLResponse(
            pages.render_consent(
                request, network=self.label, params=params, second_page=second_page
            )
        )

    async def consent_answer(self, request: Request) -> Response:
        form = await request.form()
        values = {k: str(v) for k, v in form.items()}
        redirect_uri = values.get("redirect_uri", "")
        if not self.client_ok(values.get("client_id", ""), redirect_uri):
            return self.error(400, "invalid client")
        state = values.get("state", "")
        if values.get("decision") != "allow":
            query = {"error": "access_denied", "error_description": "The user denied access"}
            if state:
                query["state"] = state
            return RedirectResponse(_with_query(redirect_uri, query), status_code=302)
        handle = _clean_handle(values.get("handle", "")) or _clean_handle(values.get("name", ""))
        account: dict[str, Any] = {
            "name": values.get("name", "").strip() or handle,
            "handle": handle,
        }
        if values.get("name2", "").strip():
            account["name2"] = values["name2"].strip()
        code = secrets.token_urlsafe(24)
        with self.sb.lock:
            self.sb.codes[code] = AuthCode(
                network=self.network,
                client_id=values.get("client_id", ""),
                redirect_uri=redirect_uri,
                scope=values.get("scope", ""),
                account=account,
                expires_at=self.sb.now() + timedelta(minutes=10),
                code_challenge=values.get("code_challenge") or None,
            )
        query = {"code": code}
        if state:
            query["state"] = state
        return RedirectResponse(_with_query(redirect_uri, query), status_code=302)

    def feed(
        self, request: Request, account: SandboxAccount | None, *, highlight: str | None = None
    ) -> Response:
        if account is None:
            return HTMLResponse(
                pages.render_message(
                    request,
                    title=N_("Compte introuvable"),
                    message=N_("Ce compte n'existe pas (ou plus) sur ce bac à sable."),
                ),
                status_code=404,
            )
        base = mount_url(request)
        with self.sb.lock:
            posts = [
                {
                    "id": post.id,
                    "text": post.text,
                    "created_at": post.created_at,
                    "link": post.link,
                    "deleted": post.deleted_at is not None,
                    "images": [
                        {"url": f"{base}/media/{image.id}", "alt": image.alt}
                        for image in post.images
                    ],
                    "metrics": self.sb.metrics(post),
                    "highlight": post.id == highlight,
                }
                for post in reversed(account.posts.values())
            ]
        return HTMLResponse(
            pages.render_feed(
                request,
                {
                    "network": self.network,
                    "label": self.label,
                    "account": account,
                    "followers": self.sb.followers(account),
                    "posts": posts,
                },
            )
        )

    async def feed_page(self, request: Request) -> Response:
        return self.feed(request, self.sb.account(self.network, request.path_params["remote_id"]))

    def page_routes(self) -> list[BaseRoute]:
        return [
            Route("/feed/{remote_id}", self.feed_page, methods=["GET"]),
            Route("/media/{media_id}", self.media, methods=["GET"]),
        ]

    async def media(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        with self.sb.lock:
            for account in self.sb.accounts.values():
                image = account.media.get(media_id)
                if image is not None:
                    return Response(image.data, media_type=image.mime)
        return self.error(404, "Not Found")

    def take_code(self, code: str, *, redirect_uri: str | None = None) -> AuthCode | None:
        with self.sb.lock:
            grant = self.sb.codes.pop(code, None)
        if grant is None or grant.network != self.network or grant.expires_at <= self.sb.now():
            return None
        if redirect_uri is not None and redirect_uri != grant.redirect_uri:
            return None
        return grant


def _with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def _clean_handle(value: str) -> str:
    kept = "".join(c if c.isalnum() or c in "._-" else "-" for c in value.strip().lower())
    return "-".join(part for part in kept.split("-") if part)[:50]
