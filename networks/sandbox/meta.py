"""Meta's sandboxes: Facebook Pages (Graph API) and Instagram (Instagram API with Instagram Login),
as in reference/networks.md §3 and §4.

Both answer errors in Meta's envelope `{"error": {"message", "type", "code", "error_subcode",
"is_transient", "fbtrace_id"}}`, mostly with HTTP 400: an expired token is code 190, throttling
code 32 (with X-Business-Use-Case-Usage saying when access comes back), a missing object code 100
subcode 33. Instagram publishes in two steps (container, then media_publish) and fetches the
image itself from `image_url` (it must be a JPEG); `media_publish` enforces the 24-hour quota.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from networks.sandbox import tokens
from networks.sandbox.common import NetworkServer, bearer, mount_url, sniff
from networks.sandbox.state import Decision, SandboxAccount, SandboxImage, SandboxPost

UNSUPPORTED_GET = (
    "Unsupported get request. Object does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation."
)
ERRORS: dict[int, tuple[int, int, str, int | None, bool]] = {
    # status: (HTTP status, code, message, subcode, transient)
    400: (400, 100, "Invalid parameter", None, False),
    401: (400, 190, "Error validating access token: Session has expired.", 463, False),
    403: (403, 200, "(#200) Permissions error", None, False),
    404: (
        400,
        100,
        UNSUPPORTED_GET,
        33,
        False,
    ),
    500: (500, 2, "An unexpected error has occurred. Please retry your request later.", None, True),
    502: (502, 2, "An unexpected error has occurred. Please retry your request later.", None, True),
    503: (503, 2, "Service temporarily unavailable", None, True),
    504: (504, 2, "Service temporarily unavailable", None, True),
}


class MetaServer(NetworkServer):
    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        http_status, code, default, subcode, transient = ERRORS.get(
            status, (status, 1, "An unknown error occurred", None, False)
        )
        if "code" in extra:
            http_status, code, subcode = (
                extra.get("http_status", 400),
                extra["code"],
                extra.get("subcode"),
            )
            transient = bool(extra.get("transient", False))
        body: dict[str, Any] = {
            "message": message or default,
            "type": "OAuthException",
            "code": code,
            "is_transient": transient,
            "fbtrace_id": secrets.token_urlsafe(9),
        }
        if subcode is not None:
            body["error_subcode"] = subcode
        return JSONResponse({"error": body}, status_code=http_status, headers=extra.get("headers"))

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        assert decision.reset_at is not None
        minutes = max(1, int((decision.reset_at - self.sb.now()).total_seconds() // 60) + 1)
        key = account.remote_id if account else "0"
        usage = {
            key: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 30,
                    "total_time": 40,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        return self.error(
            429,
            "(#32) Page request limit reached",
            code=32,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )

    async def params(self, request: Request) -> dict[str, Any]:
        values: dict[str, Any] = dict(request.query_params)
        if request.method in {"POST", "DELETE"}:
            content_type = request.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                try:
                    body = await request.json()
                except ValueError:
                    body = {}
                values.update(body if isinstance(body, dict) else {})
            else:
                form = await request.form()
                for key, value in form.multi_items():
                    values[key] = value
        return values

    def token_payload(
        self, request: Request, params: dict[str, Any], *, typ: str = "access"
    ) -> dict[str, Any] | None:
        token = str(params.get("access_token") or bearer(request) or "")
        if not token:
            return None
        proof = params.get("appsecret_proof")
        if proof is not None:
            expected = hmac.new(
                tokens.client_secret(self.sb.secret, self.network).encode(),
                token.encode(),
                hashlib.sha256,
            ).hexdigest()
            if not hmac.compare_digest(str(proof), expected):
                return {"invalid_proof": True}
        return self.sb.verify(token, network=self.network, typ=typ)

    async def authenticated(
        self, request: Request, params: dict[str, Any]
    ) -> SandboxAccount | Response:
        payload = self.token_payload(request, params)
        if payload is not None and payload.get("invalid_proof"):
            return self.error(400, "Invalid appsecret_proof provided in the API argument", code=100)
        if payload is None:
            return self.error(401)
        account = self.sb.ensure_account(
            self.network,
            str(payload["sub"]),
            name=str(payload.get("nm", "")),
            handle=str(payload.get("h", "")),
        )
        refused = await self.guard(request, account)
        if refused is not None:
            return refused
        allowed, remaining, reset = self.sb.consume(
            account, "calls", limit=4800, period=timedelta(days=1)
        )
        request.state.usage = {
            "X-App-Usage": json.dumps(
                {"call_count": 100 - remaining * 100 // 4800, "total_cputime": 1, "total_time": 1}
            )
        }
        if not allowed:
            return self.rate_limited(account, Decision("rate_limited", reset_at=reset))
        return account

    def ok(self, request: Request, body: Any) -> Response:
        return JSONResponse(body, headers=getattr(request.state, "usage", {}))

    def own_post(self, account: SandboxAccount, object_id: str) -> SandboxPost | None:
        post = account.posts.get(object_id)
        return post if post is not None and post.deleted_at is None else None


# --- Facebook -------------------------------------------------------------------------------------


class FacebookServer(MetaServer):
    network = "facebook"
    label = "Facebook"

    def routes(self) -> Sequence[BaseRoute]:
        return [
            *self.page_routes(),
            Route("/{version}/dialog/oauth", self.consent_two_pages, methods=["GET"]),
            Route("/{version}/dialog/oauth", self.consent_answer, methods=["POST"]),
            Route("/{version}/oauth/access_token", self.access_token, methods=["GET"]),
            Route("/{version}/me/accounts", self.me_accounts, methods=["GET"]),
            Route("/{version}/{page_id}/photos", self.photos, methods=["POST"]),
            Route("/{version}/{page_id}/feed", self.create, methods=["POST"]),
            Route("/{version}/{page_id}/posts", self.list_posts, methods=["GET"]),
            Route("/{version}/{object_id}/insights", self.insights, methods=["GET"]),
            Route("/{version}/{object_id}", self.read, methods=["GET"]),
            Route("/{version}/{object_id}", self.delete, methods=["DELETE"]),
        ]

    async def consent_two_pages(self, request: Request) -> Response:
        return await self.consent(request, second_page=True)

    async def access_token(self, request: Request) -> Response:
        p = dict(request.query_params)
        if not self.client_secret_ok(p.get("client_id", ""), p.get("client_secret", "")):
            return self.error(400, "Error validating client secret.", code=1, subcode=None)
        if p.get("grant_type") == "fb_exchange_token":
            payload = self.sb.verify(p.get("fb_exchange_token", ""), network="facebook", typ="user")
            if payload is None:
                return self.error(401)
            long_lived = self.sb.issue(
                "facebook",
                str(payload["sub"]),
                name=str(payload["nm"]),
                handle=str(payload["h"]),
                typ="user",
                ttl=timedelta(days=60),
                pages=payload.get("pages", []),
            )
            return JSONResponse(
                {"access_token": long_lived, "token_type": "bearer", "expires_in": 5183944}
            )
        code = self.take_code(p.get("code", ""), redirect_uri=p.get("redirect_uri"))
        if code is None:
            return self.error(
                400,
                "This authorization code has expired or has been used.",
                code=100,
                subcode=36007,
            )
        handle = code.account["handle"]
        pages = [
            [tokens.remote_id_for(self.sb.secret, "facebook", handle), code.account["name"], handle]
        ]
        if code.account.get("name2"):
            second = f"{handle}-2"
            pages.append(
                [
                    tokens.remote_id_for(self.sb.secret, "facebook", second),
                    code.account["name2"],
                    second,
                ]
            )
        user = tokens.numeric_id(self.sb.secret, "fb-user", handle, digits=16)
        short = self.sb.issue(
            "facebook",
            user,
            name=code.account["name"],
            handle=handle,
            typ="user",
            ttl=timedelta(hours=2),
            pages=pages,
        )
        return JSONResponse({"access_token": short, "token_type": "bearer", "expires_in": 7200})

    async def me_accounts(self, request: Request) -> Response:
        params = await self.params(request)
        payload = self.token_payload(request, params, typ="user")
        if payload is None or payload.get("invalid_proof"):
            return self.error(401)
        data = []
        for page_id, name, handle in payload.get("pages", []):
            page_token = self.sb.issue("facebook", page_id, name=name, handle=handle)
            data.append(
                {
                    "id": page_id,
                    "name": name,
                    "username": handle,
                    "access_token": page_token,
                    "category": "Gouvernement",
                    "tasks": ["CREATE_CONTENT", "MANAGE", "MODERATE", "ANALYZE"],
                }
            )
        return JSONResponse(
            {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFI"}}}
        )

    async def photos(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        if request.path_params["page_id"] != account.remote_id:
            return self.error(403)
        source = params.get("source")
        if not isinstance(source, UploadFile):
            return self.error(400, "(#324) Requires upload file", code=324)
        data = await source.read()
        if len(data) > 4 * 1024 * 1024:
            return self.error(400, "(#1) Photo file too large", code=1)
        image = self.store_image(account, data, alt=str(params.get("alt_text_custom", "")))
        if image is None:
            return self.error(400, "(#324) Missing or invalid image file", code=324)
        if str(params.get("published", "true")).lower() in {"false", "0"}:
            return self.ok(request, {"id": image.id})
        post = self._store(
            account, str(params.get("caption") or params.get("message") or ""), [image], None
        )
        if (failed := await self.committed(account)) is not None:
            return failed
        return self.ok(request, {"id": image.id, "post_id": post.id})

    def _store(
        self, account: SandboxAccount, text: str, images: list[SandboxImage], link: str | None
    ) -> SandboxPost:
        post = SandboxPost(
            id=f"{account.remote_id}_{self.sb.new_id(16)}",
            network="facebook",
            account_id=account.remote_id,
            text=text,
            created_at=self.sb.now(),
            images=images,
            link=link,
        )
        return self.sb.store_post(account, post)

    async def create(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        if request.path_params["page_id"] != account.remote_id:
            return self.error(403)
        message = str(params.get("message", ""))
        link = params.get("link")
        attached = []
        for key in sorted(k for k in params if k.startswith("attached_media")):
            try:
                fbid = str(json.loads(params[key])["media_fbid"])
            except (ValueError, KeyError, TypeError):
                return self.error(400, f"(#100) Invalid {key}", code=100)
            attached.append(fbid)
        if not message and not attached and not link:
            return self.error(400, "(#100) Missing message or attachment", code=100)
        with self.sb.lock:
            images = [account.media.get(i) for i in attached]
            duplicate = any(p.text == message and message for p in account.live_posts()[:20])
        if any(i is None for i in images):
            return self.error(400, "(#100) Invalid media_fbid", code=100)
        if duplicate:
            return self.error(400, "(#506) Duplicate status message", code=506)
        post = self._store(
            account, message, [i for i in images if i is not None], str(link) if link else None
        )
        if (failed := await self.committed(account)) is not None:
            return failed
        return self.ok(request, {"id": post.id})

    def _permalink(self, request: Request, post: SandboxPost) -> str:
        return f"{mount_url(request)}/feed/{post.account_id}#post-{post.id}"

    async def list_posts(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        if request.path_params["page_id"] != account.remote_id:
            return self.error(403)
        limit = min(100, int(params.get("limit", 25) or 25))
        data = [
            {
                "id": p.id,
                "message": p.text,
                "created_time": p.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink_url": self._permalink(request, p),
            }
            for p in account.live_posts()[:limit]
        ]
        return self.ok(request, {"data": data, "paging": {}})

    async def read(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        object_id = request.path_params["object_id"]
        fields = str(params.get("fields", ""))
        if object_id == account.remote_id:
            body: dict[str, Any] = {"id": account.remote_id, "name": account.name}
            if "username" in fields:
                body["username"] = account.handle
            if "followers_count" in fields:
                body["followers_count"] = self.sb.followers(account)
            if "fan_count" in fields:
                body["fan_count"] = self.sb.followers(account) * 9 // 10
            if "link" in fields:
                body["link"] = f"{mount_url(request)}/feed/{account.remote_id}"
            return self.ok(request, body)
        post = self.own_post(account, object_id)
        if post is None:
            return self.error(
                404,
                UNSUPPORTED_GET.replace("Object", f"Object with ID '{object_id}'"),
            )
        m = self.sb.metrics(post)
        body = {"id": post.id}
        if "message" in fields:
            body["message"] = post.text
        if "created_time" in fields:
            body["created_time"] = post.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000")
        if "permalink_url" in fields:
            body["permalink_url"] = self._permalink(request, post)
        if "shares" in fields and m["reposts"]:
            body["shares"] = {"count": m["reposts"]}
        if "reactions" in fields:
            body["reactions"] = {
                "data": [],
                "summary": {"total_count": m["likes"], "viewer_reaction": "NONE"},
            }
        if "comments" in fields:
            body["comments"] = {
                "data": [],
                "summary": {"order": "ranked", "total_count": m["replies"], "can_comment": True},
            }
        return self.ok(request, body)

    async def insights(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        post = self.own_post(account, request.path_params["object_id"])
        if post is None:
            return self.error(404)
        m = self.sb.metrics(post)
        known = {
            "post_impressions": m["impressions"],
            "post_impressions_unique": m["impressions"] * 3 // 4,
            "post_clicks": m["clicks"],
        }
        data = []
        for metric in str(params.get("metric", "")).split(","):
            if metric not in known:
                return self.error(400, "(#100) The value must be a valid insights metric", code=100)
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": known[metric]}],
                    "title": metric,
                    "id": f"{post.id}/insights/{metric}/lifetime",
                }
            )
        return self.ok(request, {"data": data})

    async def delete(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        post = self.own_post(account, request.path_params["object_id"])
        if post is None:
            return self.error(404)
        with self.sb.lock:
            post.deleted_at = self.sb.now()
        return self.ok(request, {"success": True})


# --- Instagram ------------------------------------------------------------------------------------


class InstagramServer(MetaServer):
    network = "instagram"
    label = "Instagram"

    def routes(self) -> Sequence[BaseRoute]:
        return [
            *self.page_routes(),
            Route("/p/{shortcode}", self.permalink_page, methods=["GET"]),
            Route("/oauth/authorize", self.consent, methods=["GET"]),
            Route("/oauth/authorize", self.consent_answer, methods=["POST"]),
            Route("/oauth/access_token", self.short_token, methods=["POST"]),
            Route("/access_token", self.long_token, methods=["GET"]),
            Route("/refresh_access_token", self.refresh_token, methods=["GET"]),
            Route("/{version}/me", self.me, methods=["GET"]),
            Route("/{version}/{ig_id}/media", self.create_container, methods=["POST"]),
            Route("/{version}/{ig_id}/media", self.list_media, methods=["GET"]),
            Route("/{version}/{ig_id}/media_publish", self.publish, methods=["POST"]),
            Route(
                "/{version}/{ig_id}/content_publishing_limit",
                self.publishing_limit,
                methods=["GET"],
            ),
            Route("/{version}/{object_id}/insights", self.insights, methods=["GET"]),
            Route("/{version}/{object_id}", self.read, methods=["GET"]),
            Route("/{version}/{object_id}", self.delete, methods=["DELETE"]),
        ]

    # --- tokens -------------------------------------------------------------------------------

    async def short_token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self.client_secret_ok(form.get("client_id", ""), form.get("client_secret", "")):
            return JSONResponse(
                {
                    "error_type": "OAuthException",
                    "code": 400,
                    "error_message": "Invalid platform app",
                },
                status_code=400,
            )
        code = self.take_code(form.get("code", ""), redirect_uri=form.get("redirect_uri"))
        if code is None or form.get("grant_type") != "authorization_code":
            return JSONResponse(
                {
                    "error_type": "OAuthException",
                    "code": 400,
                    "error_message": "This authorization code has been used",
                },
                status_code=400,
            )
        handle = code.account["handle"]
        user_id = tokens.remote_id_for(self.sb.secret, "instagram", handle)
        token = self.sb.issue(
            "instagram", user_id, name=code.account["name"], handle=handle, ttl=timedelta(hours=1)
        )
        return JSONResponse(
            {"access_token": token, "user_id": int(user_id), "permissions": code.scope.split(",")}
        )

    async def long_token(self, request: Request) -> Response:
        p = dict(request.query_params)
        if p.get("grant_type") != "ig_exchange_token" or p.get(
            "client_secret"
        ) != tokens.client_secret(self.sb.secret, "instagram"):
            return self.error(400, "Invalid grant_type or client_secret", code=100)
        return self._renewed(p.get("access_token", ""))

    async def refresh_token(self, request: Request) -> Response:
        p = dict(request.query_params)
        if p.get("grant_type") != "ig_refresh_token":
            return self.error(400, "Invalid grant_type", code=100)
        return self._renewed(p.get("access_token", ""))

    def _renewed(self, token: str) -> Response:
        payload = self.sb.verify(token, network="instagram")
        if payload is None:
            return self.error(401)
        ttl = timedelta(days=60)
        renewed = self.sb.issue(
            "instagram",
            str(payload["sub"]),
            name=str(payload["nm"]),
            handle=str(payload["h"]),
            ttl=ttl,
        )
        return JSONResponse(
            {
                "access_token": renewed,
                "token_type": "bearer",
                "expires_in": int(ttl.total_seconds()) - 56,
            }
        )

    # --- account ------------------------------------------------------------------------------

    def _account_body(self, account: SandboxAccount, fields: str) -> dict[str, Any]:
        body: dict[str, Any] = {"id": account.remote_id}
        if "user_id" in fields:
            body["user_id"] = account.remote_id
        if "username" in fields:
            body["username"] = account.handle
        if "name" in fields:
            body["name"] = account.name
        if "followers_count" in fields:
            body["followers_count"] = self.sb.followers(account)
        if "media_count" in fields:
            body["media_count"] = len(account.live_posts())
        return body

    async def me(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        return self.ok(request, self._account_body(account, str(params.get("fields", "id"))))

    # --- publishing ---------------------------------------------------------------------------

    async def create_container(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        if request.path_params["ig_id"] != account.remote_id:
            return self.error(403)
        containers: dict[str, Any] = account.extra.setdefault("containers", {})
        container: dict[str, Any] = {
            "caption": str(params.get("caption", "")),
            "status_code": "FINISHED",
            "created_at": self.sb.now(),
            "carousel_item": str(params.get("is_carousel_item", "false")).lower() == "true",
        }
        if str(params.get("media_type", "")).upper() == "CAROUSEL":
            children = [c for c in str(params.get("children", "")).split(",") if c]
            if not 2 <= len(children) <= 10 or any(c not in containers for c in children):
                return self.error(
                    400, "The carousel must have between 2 and 10 valid children", code=100
                )
            container["children"] = children
        else:
            image_url = str(params.get("image_url", ""))
            if not image_url:
                return self.error(400, "(#100) The parameter image_url is required", code=100)
            image = await self._fetch(account, image_url, alt=str(params.get("alt_text", "")))
            if isinstance(image, Response):
                return image
            container["image"] = image
        container_id = self.sb.new_id(17)
        with self.sb.lock:
            containers[container_id] = container
        return self.ok(request, {"id": container_id})

    async def _fetch(
        self, account: SandboxAccount, url: str, *, alt: str
    ) -> SandboxImage | Response:
        # Meta downloads the image itself: the URL must be public and serve a JPEG.
        try:
            async with httpx.AsyncClient(timeout=10, follow_redirects=True) as client:
                response = await client.get(url)
        except httpx.HTTPError:
            return self.error(
                400, "The media could not be fetched from this uri", code=9004, subcode=2207052
            )
        found = sniff(response.content) if response.status_code == 200 else None
        if found is None or found[0] != "image/jpeg":
            return self.error(
                400,
                "Only photo or video can be accepted as media type.",
                code=9004,
                subcode=2207052,
            )
        image = self.store_image(account, response.content, alt=alt)
        assert image is not None
        return image

    async def publish(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        containers: dict[str, Any] = account.extra.setdefault("containers", {})
        container = containers.get(str(params.get("creation_id", "")))
        if container is None or container.get("carousel_item"):
            return self.error(400, "(#100) Invalid creation_id", code=100)
        if container["status_code"] == "PUBLISHED":
            return self.error(
                400, "The media has already been published", code=9007, subcode=2207027
            )
        quota, used, _ = self.quota_left(account)
        if quota is not None and used >= quota:
            return self.error(400, "Application request limit reached", code=9, subcode=2207042)
        images = [containers[c]["image"] for c in container.get("children", [])] or [
            container["image"]
        ]
        post = SandboxPost(
            id=self.sb.new_id(17),
            network="instagram",
            account_id=account.remote_id,
            text=container["caption"],
            created_at=self.sb.now(),
            images=images,
            extra={"shortcode": secrets.token_urlsafe(8)},
        )
        with self.sb.lock:
            container["status_code"] = "PUBLISHED"
            container["media_id"] = post.id
        self.sb.store_post(account, post)
        if (failed := await self.committed(account)) is not None:
            return failed
        return self.ok(request, {"id": post.id})

    async def publishing_limit(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        quota, used, _ = self.quota_left(account)
        return self.ok(
            request,
            {
                "data": [
                    {
                        "quota_usage": used,
                        "config": {"quota_total": quota or 100, "quota_duration": 86400},
                    }
                ]
            },
        )

    def _permalink(self, request: Request, post: SandboxPost) -> str:
        return f"{mount_url(request)}/p/{post.extra.get('shortcode', post.id)}"

    async def list_media(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        limit = min(100, int(params.get("limit", 25) or 25))
        data = [
            {
                "id": p.id,
                "caption": p.text,
                "timestamp": p.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "permalink": self._permalink(request, p),
                "media_type": "CAROUSEL_ALBUM" if len(p.images) > 1 else "IMAGE",
            }
            for p in account.live_posts()[:limit]
        ]
        return self.ok(request, {"data": data, "paging": {}})

    async def read(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        object_id = request.path_params["object_id"]
        fields = str(params.get("fields", "id"))
        if object_id == account.remote_id:
            return self.ok(request, self._account_body(account, fields))
        container = account.extra.get("containers", {}).get(object_id)
        if container is not None:
            return self.ok(request, {"id": object_id, "status_code": container["status_code"]})
        post = self.own_post(account, object_id)
        if post is None:
            return self.error(404)
        m = self.sb.metrics(post)
        body: dict[str, Any] = {"id": post.id}
        for name, value in (
            ("permalink", self._permalink(request, post)),
            ("shortcode", post.extra.get("shortcode")),
            ("caption", post.text),
            ("timestamp", post.created_at.strftime("%Y-%m-%dT%H:%M:%S+0000")),
            ("like_count", m["likes"]),
            ("comments_count", m["replies"]),
        ):
            if name in fields:
                body[name] = value
        return self.ok(request, body)

    async def insights(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        post = self.own_post(account, request.path_params["object_id"])
        if post is None:
            return self.error(404)
        m = self.sb.metrics(post)
        known = {
            "reach": m["impressions"] * 3 // 4,
            "views": m["impressions"],
            "likes": m["likes"],
            "comments": m["replies"],
            "shares": m["reposts"],
            "saved": m["bookmarks"],
            "total_interactions": m["likes"] + m["replies"] + m["reposts"] + m["bookmarks"],
        }
        data = []
        for metric in str(params.get("metric", "")).split(","):
            if metric not in known:
                return self.error(
                    400,
                    f"(#100) metric[0] must be one of the following values: {', '.join(known)}",
                    code=100,
                )
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": known[metric]}],
                    "title": metric,
                    "id": f"{post.id}/insights/{metric}/lifetime",
                }
            )
        return self.ok(request, {"data": data})

    async def delete(self, request: Request) -> Response:
        params = await self.params(request)
        account = await self.authenticated(request, params)
        if isinstance(account, Response):
            return account
        return self.error(400, "Unsupported delete request.", code=100, subcode=33)

    async def permalink_page(self, request: Request) -> Response:
        shortcode = request.path_params["shortcode"]
        with self.sb.lock:
            for account in self.sb.accounts_of("instagram"):
                for post in account.posts.values():
                    if post.extra.get("shortcode") == shortcode:
                        return self.feed(request, account, highlight=post.id)
        return self.feed(request, None)
