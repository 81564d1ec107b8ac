"""Mastodon's sandbox: an instance announcing version 4.3.0, app registration, OAuth, media v2,
statuses with Idempotency-Key, X-RateLimit-* headers (reset as ISO 8601), `{"error": …}` bodies,
as in reference/networks.md §5. A repeated Idempotency-Key within an hour answers the status
created the first time.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from networks.sandbox import tokens
from networks.sandbox.common import NetworkServer, bearer, mount_url
from networks.sandbox.state import Decision, SandboxAccount, SandboxPost

VERSION = "4.3.0"
WINDOW = timedelta(minutes=5)
LIMIT = 300
MAX_CHARACTERS = 500
MESSAGES = {
    400: "Bad request",
    401: "The access token is invalid",
    403: "This action is not allowed",
    404: "Record not found",
    422: "Validation failed",
    429: "Too many requests",
    500: "We're sorry, but something went wrong",
    503: "Service unavailable",
    504: "Gateway timeout",
}
URL = re.compile(r"https?://\S+")


def _linked(text: str) -> str:
    escaped = html.escape(text, quote=False)
    return URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


class MastodonServer(NetworkServer):
    network = "mastodon"
    label = "Mastodon"

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        return JSONResponse(
            {"error": message or MESSAGES.get(status, "Error")},
            status_code=status,
            headers=extra.get("headers"),
        )

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        assert decision.reset_at is not None
        return self.error(429, headers=self._limits(0, decision.reset_at))

    @staticmethod
    def _limits(remaining: int, reset: Any) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def routes(self) -> Sequence[BaseRoute]:
        return [
            *self.page_routes(),
            Route("/api/v1/instance", self.instance_v1, methods=["GET"]),
            Route("/api/v1/instance/", self.instance_v1, methods=["GET"]),
            Route("/api/v2/instance", self.instance_v2, methods=["GET"]),
            Route("/api/v2/instance/", self.instance_v2, methods=["GET"]),
            Route("/.well-known/oauth-authorization-server", self.oauth_metadata, methods=["GET"]),
            Route("/api/v1/apps", self.register_app, methods=["POST"]),
            Route("/oauth/authorize", self.consent, methods=["GET"]),
            Route("/oauth/authorize", self.consent_answer, methods=["POST"]),
            Route("/oauth/token", self.token, methods=["POST"]),
            Route("/oauth/revoke", self.revoke, methods=["POST"]),
            Route("/api/v1/accounts/verify_credentials", self.verify_credentials, methods=["GET"]),
            Route("/api/v1/accounts/{account_id}/statuses", self.account_statuses, methods=["GET"]),
            Route("/api/v2/media", self.upload, methods=["POST"]),
            Route("/api/v1/media/{media_id}", self.media_status, methods=["GET"]),
            Route("/api/v1/media/{media_id}", self.media_update, methods=["PUT"]),
            Route("/api/v1/statuses", self.create, methods=["POST"]),
            Route("/api/v1/statuses/{status_id}", self.status, methods=["GET"]),
            Route("/api/v1/statuses/{status_id}", self.delete, methods=["DELETE"]),
            Route("/@{username}/{status_id}", self.status_page, methods=["GET"]),
            Route("/@{username}", self.profile_page, methods=["GET"]),
        ]

    # --- instance and OAuth ----------------------------------------------------------------------

    def _instance(self, request: Request) -> dict[str, Any]:
        return {
            "uri": request.url.netloc,
            "domain": request.url.netloc,
            "title": "Bac à sable Mastodon de Beffroi",
            "version": VERSION,
            "api_versions": {"mastodon": 2},
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "Instance d'entraînement : rien n'en sort.",
            "languages": ["fr"],
            "configuration": {
                "urls": {"streaming": f"ws://{request.url.netloc}"},
                "statuses": {
                    "max_characters": MAX_CHARACTERS,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                    "image_size_limit": 16777216,
                    "image_matrix_limit": 33177600,
                },
            },
        }

    async def instance_v1(self, request: Request) -> Response:
        body = self._instance(request)
        body["urls"] = body["configuration"]["urls"]
        return JSONResponse(body)

    async def instance_v2(self, request: Request) -> Response:
        return JSONResponse(self._instance(request))

    async def oauth_metadata(self, request: Request) -> Response:
        base = mount_url(request)
        return JSONResponse(
            {
                "issuer": f"{base}/",
                "service_documentation": "https://docs.joinmastodon.org/",
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "revocation_endpoint": f"{base}/oauth/revoke",
                "app_registration_endpoint": f"{base}/api/v1/apps",
                "scopes_supported": ["read", "write", "write:statuses", "write:media", "profile"],
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
            }
        )

    async def register_app(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not form.get("client_name") or not form.get("redirect_uris"):
            return self.error(
                422,
                "Validation failed: Application name can't be blank, Redirect URI can't be blank",
            )
        client_id = secrets.token_urlsafe(32)
        app = {
            "id": self.sb.new_id(6),
            "name": form["client_name"],
            "website": form.get("website"),
            "redirect_uri": form["redirect_uris"],
            "redirect_uris": form["redirect_uris"].split(),
            "scopes": form.get("scopes", "read").split(),
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(32),
            "vapid_key": "sandbox",
        }
        with self.sb.lock:
            self.sb.apps[client_id] = app
        return JSONResponse({k: v for k, v in app.items() if k != "redirect_uris"})

    def client_ok(self, client_id: str, redirect_uri: str) -> bool:
        with self.sb.lock:
            app = self.sb.apps.get(client_id)
        return app is not None and redirect_uri in app["redirect_uris"]

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        with self.sb.lock:
            app = self.sb.apps.get(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(
            app["client_secret"], form.get("client_secret", "")
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": (
                        "Client authentication failed due to unknown client, no client "
                        "authentication included, or unsupported authentication method."
                    ),
                },
                status_code=401,
            )
        if form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        code = self.take_code(form.get("code", ""), redirect_uri=form.get("redirect_uri"))
        if code is None or code.client_id != app["client_id"]:
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": (
                        "The provided authorization grant is invalid, expired, revoked, does not "
                        "match the redirection URI used in the authorization request, or was "
                        "issued to another client."
                    ),
                },
                status_code=400,
            )
        handle = code.account["handle"]
        remote_id = tokens.remote_id_for(self.sb.secret, "mastodon", handle)
        self.sb.ensure_account("mastodon", remote_id, name=code.account["name"], handle=handle)
        token = self.sb.issue("mastodon", remote_id, name=code.account["name"], handle=handle)
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": form.get("scope") or code.scope,
                "created_at": int(self.sb.now().timestamp()),
            }
        )

    async def revoke(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        payload = self.sb.verify(form.get("token", ""), network="mastodon")
        if payload is not None:
            self.sb.revoke("mastodon", str(payload["sub"]))
        return JSONResponse({})

    # --- helpers ----------------------------------------------------------------------------------

    async def _authenticated(self, request: Request) -> SandboxAccount | Response:
        account = self.account_for(bearer(request))
        if account is None:
            return self.error(401)
        refused = await self.guard(request, account)
        if refused is not None:
            return refused
        allowed, remaining, reset = self.sb.consume(account, "api", limit=LIMIT, period=WINDOW)
        request.state.limits = self._limits(remaining, reset)
        if not allowed:
            return self.error(429, headers=request.state.limits)
        return account

    def _json(self, request: Request, body: Any, status: int = 200) -> Response:
        return JSONResponse(body, status_code=status, headers=getattr(request.state, "limits", {}))

    def _account(self, request: Request, account: SandboxAccount) -> dict[str, Any]:
        base = mount_url(request)
        created = account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "id": account.remote_id,
            "username": account.handle,
            "acct": account.handle,
            "display_name": account.name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "group": False,
            "created_at": created,
            "note": "",
            "url": f"{base}/@{account.handle}",
            "uri": f"{base}/users/{account.handle}",
            "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png",
            "header": f"{base}/headers/original/missing.png",
            "header_static": f"{base}/headers/original/missing.png",
            "followers_count": self.sb.followers(account),
            "following_count": 12,
            "statuses_count": len(account.live_posts()),
            "last_status_at": None,
            "emojis": [],
            "fields": [],
            "source": {
                "privacy": "public",
                "sensitive": False,
                "language": "fr",
                "note": "",
                "fields": [],
            },
        }

    def _attachment(self, request: Request, image: Any) -> dict[str, Any]:
        url = f"{mount_url(request)}/media/{image.id}"
        return {
            "id": image.id,
            "type": "image",
            "url": url,
            "preview_url": url,
            "remote_url": None,
            "text_url": None,
            "meta": {"original": {"width": image.width, "height": image.height}},
            "description": image.alt or None,
            "blurhash": None,
        }

    def _status(
        self, request: Request, post: SandboxPost, account: SandboxAccount, *, source: bool = False
    ) -> dict[str, Any]:
        base = mount_url(request)
        m = self.sb.metrics(post)
        paragraphs = "".join(f"<p>{_linked(part)}</p>" for part in post.text.split("\n\n"))
        body = {
            "id": post.id,
            "created_at": post.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": post.extra.get("visibility", "public"),
            "language": post.extra.get("language"),
            "uri": f"{base}/users/{account.handle}/statuses/{post.id}",
            "url": f"{base}/@{account.handle}/{post.id}",
            "replies_count": m["replies"],
            "reblogs_count": m["reposts"],
            "favourites_count": m["likes"],
            "edited_at": None,
            "content": paragraphs,
            "reblog": None,
            "application": {"name": "Beffroi", "website": None},
            "account": self._account(request, account),
            "media_attachments": [self._attachment(request, i) for i in post.images],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        if source:
            body["text"] = post.text
        return body

    # --- accounts ---------------------------------------------------------------------------------

    async def verify_credentials(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        return self._json(request, self._account(request, account))

    async def account_statuses(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        target = self.sb.account("mastodon", request.path_params["account_id"])
        if target is None:
            return self.error(404)
        limit = min(40, int(request.query_params.get("limit", "20") or 20))
        return self._json(
            request, [self._status(request, p, target) for p in target.live_posts()[:limit]]
        )

    # --- media ------------------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        form = await request.form()
        file = form.get("file")
        if not isinstance(file, UploadFile):
            return self.error(422, "Validation failed: File can't be blank")
        description = str(form.get("description") or "")
        if len(description) > 1500:
            return self.error(
                422, "Validation failed: Description is too long (maximum is 1500 characters)"
            )
        image = self.store_image(account, await file.read(), alt=description)
        if image is None:
            return self.error(
                422, "Validation failed: File content type is invalid, File is invalid"
            )
        return self._json(request, self._attachment(request, image))

    async def media_status(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        image = account.media.get(request.path_params["media_id"])
        if image is None:
            return self.error(404)
        return self._json(request, self._attachment(request, image))

    async def media_update(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        image = account.media.get(request.path_params["media_id"])
        if image is None:
            return self.error(404)
        form = await request.form()
        if form.get("description") is not None:
            image.alt = str(form.get("description"))
        return self._json(request, self._attachment(request, image))

    # --- statuses ---------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        if request.headers.get("content-type", "").startswith("application/json"):
            data = await request.json()
            text = str(data.get("status") or "")
            media_ids = [str(i) for i in data.get("media_ids") or []]
            fields = {k: str(v) for k, v in data.items() if not isinstance(v, list)}
        else:
            form = await request.form()
            text = str(form.get("status") or "")
            media_ids = [str(i) for i in form.getlist("media_ids[]")]
            fields = {k: str(v) for k, v in form.items()}
        key = request.headers.get("idempotency-key")
        now = self.sb.now()
        if key:
            with self.sb.lock:
                seen = account.idempotency.get(key)
                if seen is not None and seen[1] > now - timedelta(hours=1):
                    previous = account.posts.get(seen[0])
                    if previous is not None:
                        return self._json(request, self._status(request, previous, account))
        if not text.strip() and not media_ids:
            return self.error(422, "Validation failed: Text can't be blank")
        counted = len(URL.sub("x" * 23, text))
        if counted > MAX_CHARACTERS:
            return self.error(
                422, f"Validation failed: Text character limit of {MAX_CHARACTERS} exceeded"
            )
        if len(media_ids) > 4:
            return self.error(422, "Validation failed: Media attachments can't be more than 4")
        with self.sb.lock:
            images = [account.media.get(i) for i in media_ids]
        if any(i is None for i in images):
            return self.error(422, "Validation failed: Media attachments are invalid")
        post = SandboxPost(
            id=self.sb.new_id(18),
            network="mastodon",
            account_id=account.remote_id,
            text=text,
            created_at=now,
            images=[i for i in images if i is not None],
            idempotency_key=key,
            extra={
                "visibility": fields.get("visibility", "public"),
                "language": fields.get("language"),
            },
        )
        self.sb.store_post(account, post)
        if key:
            with self.sb.lock:
                account.idempotency[key] = (post.id, now)
        if (failed := await self.committed(account)) is not None:
            return failed
        return self._json(request, self._status(request, post, account))

    async def status(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        post = self.sb.find_post(request.path_params["status_id"])
        if post is None or post.network != "mastodon" or post.deleted_at is not None:
            return self.error(404)
        owner = self.sb.account("mastodon", post.account_id)
        assert owner is not None
        return self._json(request, self._status(request, post, owner))

    async def delete(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        post = account.posts.get(request.path_params["status_id"])
        if post is None or post.deleted_at is not None:
            return self.error(404)
        with self.sb.lock:
            post.deleted_at = self.sb.now()
        return self._json(request, self._status(request, post, account, source=True))

    # --- pages ------------------------------------------------------------------------------------

    async def profile_page(self, request: Request) -> Response:
        return self.feed(
            request, self.sb.find_by_handle("mastodon", request.path_params["username"])
        )

    async def status_page(self, request: Request) -> Response:
        account = self.sb.find_by_handle("mastodon", request.path_params["username"])
        return self.feed(request, account, highlight=request.path_params["status_id"])
