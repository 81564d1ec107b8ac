"""X's sandbox: API v2 (tweets, users, media upload v2) and OAuth 2.0 with PKCE.

Wire behaviour as in reference/networks.md §1: create answers 201 with the id in the body; a
duplicate text is a 403 whose detail says "duplicate content"; every answer carries
x-rate-limit-*; POST /2/tweets also x-user-limit-24hour-*; a missing tweet looked up by id is a
200 with an `errors` array (no `data`), as X does.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from networks.sandbox import tokens
from networks.sandbox.common import NetworkServer, bearer
from networks.sandbox.state import Decision, SandboxAccount, SandboxPost

ACCESS_TTL = timedelta(hours=2)
REFRESH_TTL = timedelta(days=180)
WINDOW = timedelta(minutes=15)
TITLES = {
    400: "Invalid Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found Error",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class XServer(NetworkServer):
    network = "x"
    label = "X"

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        title = TITLES.get(status, "Error")
        body: dict[str, Any] = {
            "title": title,
            "detail": message or title,
            "type": "about:blank",
            "status": status,
        }
        return JSONResponse(body, status_code=status, headers=extra.get("headers"))

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        assert decision.reset_at is not None
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(decision.reset_at.timestamp())),
        }
        return self.error(429, "Too Many Requests", headers=headers)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/i/oauth2/authorize", self.consent, methods=["GET"]),
            Route("/i/oauth2/authorize", self.consent_answer, methods=["POST"]),
            Route("/2/oauth2/token", self.token, methods=["POST"]),
            Route("/2/users/me", self.me, methods=["GET"]),
            Route("/2/users/{user_id}/tweets", self.timeline, methods=["GET"]),
            Route("/2/media/upload", self.upload, methods=["POST"]),
            Route("/2/media/metadata", self.metadata, methods=["POST"]),
            Route("/2/tweets", self.create, methods=["POST"]),
            Route("/2/tweets/{tweet_id}", self.lookup, methods=["GET"]),
            Route("/2/tweets/{tweet_id}", self.delete, methods=["DELETE"]),
            *self.page_routes(),
            Route("/{handle}/status/{tweet_id}", self.status_page, methods=["GET"]),
            Route("/{handle}", self.profile_page, methods=["GET"]),
        ]

    # --- helpers --------------------------------------------------------------------------------

    async def _authenticated(
        self, request: Request, bucket: str, limit: int = 900
    ) -> SandboxAccount | Response:
        account = self.account_for(bearer(request))
        if account is None:
            return self.error(401, "Unauthorized")
        refused = await self.guard(request, account)
        if refused is not None:
            return refused
        allowed, remaining, reset = self.sb.consume(account, bucket, limit=limit, period=WINDOW)
        request.state.rate_headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset.timestamp())),
        }
        if not allowed:
            return self.error(429, "Too Many Requests", headers=request.state.rate_headers)
        return account

    def _json(self, request: Request, body: Any, status: int = 200, **headers: str) -> Response:
        merged = {**getattr(request.state, "rate_headers", {}), **headers}
        return JSONResponse(body, status_code=status, headers=merged)

    def _tweet(self, post: SandboxPost, fields: set[str]) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": post.id,
            "text": post.text,
            "edit_history_tweet_ids": [post.id],
        }
        if "created_at" in fields:
            data["created_at"] = post.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "attachments" in fields and post.images:
            data["attachments"] = {"media_keys": [f"3_{i.id}" for i in post.images]}
        m = self.sb.metrics(post)
        if "public_metrics" in fields:
            data["public_metrics"] = {
                "retweet_count": m["reposts"],
                "reply_count": m["replies"],
                "like_count": m["likes"],
                "quote_count": m["quotes"],
                "bookmark_count": m["bookmarks"],
                "impression_count": m["impressions"],
            }
        if "non_public_metrics" in fields:
            data["non_public_metrics"] = {
                "impression_count": m["impressions"],
                "url_link_clicks": m["clicks"],
                "user_profile_clicks": m["clicks"] // 4,
            }
        return data

    # --- OAuth 2.0 -------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        client_id = form.get("client_id", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return self.error(401, "Unauthorized")
            if not self.client_secret_ok(client_id, secret):
                return self._oauth_error("unauthorized_client", "Invalid client credentials", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.take_code(form.get("code", ""), redirect_uri=form.get("redirect_uri"))
            if code is None or code.client_id != client_id:
                return self._oauth_error(
                    "invalid_request", "Value passed for the authorization code was invalid."
                )
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if code.code_challenge and challenge != code.code_challenge:
                return self._oauth_error(
                    "invalid_request", "Value passed for the code verifier was invalid."
                )
            handle = code.account["handle"]
            remote_id = self._user_id(handle)
            self.sb.ensure_account("x", remote_id, name=code.account["name"], handle=handle)
            return self._tokens(remote_id, code.account["name"], handle, code.scope)
        if grant == "refresh_token":
            payload = self.sb.verify(form.get("refresh_token", ""), network="x", typ="refresh")
            if payload is None or not self.sb.spend(str(payload.get("jti"))):
                return self._oauth_error(
                    "invalid_request", "Value passed for the token was invalid."
                )
            return self._tokens(
                str(payload["sub"]),
                str(payload["nm"]),
                str(payload["h"]),
                str(payload.get("scope", "")),
            )
        return self._oauth_error("unsupported_grant_type", "Grant type is not supported.")

    def _user_id(self, handle: str) -> str:
        return tokens.remote_id_for(self.sb.secret, "x", handle)

    def _tokens(self, remote_id: str, name: str, handle: str, scope: str) -> Response:
        access = self.sb.issue("x", remote_id, name=name, handle=handle, ttl=ACCESS_TTL)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": int(ACCESS_TTL.total_seconds()),
            "access_token": access,
            "scope": scope,
        }
        if "offline.access" in scope.split():
            body["refresh_token"] = self.sb.issue(
                "x",
                remote_id,
                name=name,
                handle=handle,
                typ="refresh",
                ttl=REFRESH_TTL,
                scope=scope,
            )
        return JSONResponse(body, headers={"cache-control": "no-store"})

    def _oauth_error(self, error: str, description: str, status: int = 400) -> Response:
        return JSONResponse({"error": error, "error_description": description}, status_code=status)

    # --- users ----------------------------------------------------------------------------------

    async def me(self, request: Request) -> Response:
        found = await self._authenticated(request, "users/me", limit=75)
        if isinstance(found, Response):
            return found
        fields = set(request.query_params.get("user.fields", "").split(","))
        data: dict[str, Any] = {"id": found.remote_id, "name": found.name, "username": found.handle}
        if "public_metrics" in fields:
            data["public_metrics"] = {
                "followers_count": self.sb.followers(found),
                "following_count": 42,
                "tweet_count": len(found.live_posts()),
                "listed_count": 3,
            }
        return self._json(request, {"data": data})

    async def timeline(self, request: Request) -> Response:
        found = await self._authenticated(request, "users/tweets")
        if isinstance(found, Response):
            return found
        if request.path_params["user_id"] != found.remote_id:
            return self.error(403, "You are not permitted to read this user's Tweets.")
        try:
            limit = max(5, min(100, int(request.query_params.get("max_results", "10"))))
        except ValueError:
            return self.error(400, "The `max_results` query parameter value is not valid.")
        fields = set(request.query_params.get("tweet.fields", "").split(","))
        posts = found.live_posts()[:limit]
        meta: dict[str, Any] = {"result_count": len(posts)}
        if posts:
            meta.update(newest_id=posts[0].id, oldest_id=posts[-1].id)
            return self._json(
                request, {"data": [self._tweet(p, fields) for p in posts], "meta": meta}
            )
        return self._json(request, {"meta": meta})

    # --- media ----------------------------------------------------------------------------------

    async def upload(self, request: Request) -> Response:
        found = await self._authenticated(request, "media/upload", limit=500)
        if isinstance(found, Response):
            return found
        form = await request.form()
        media = form.get("media")
        if media is None or isinstance(media, str):
            return self.error(
                400, "One or more parameters to your request was invalid: media is required."
            )
        data = await media.read()
        if len(data) > 5 * 1024 * 1024:
            return self.error(400, "File size exceeds 5242880 bytes.")
        image = self.store_image(found, data)
        if image is None:
            return self.error(400, "media type unrecognized.")
        body = {
            "data": {
                "id": image.id,
                "media_key": f"3_{image.id}",
                "size": len(data),
                "expires_after_secs": 86400,
                "image": {"image_type": image.mime, "w": image.width, "h": image.height},
            }
        }
        return self._json(request, body)

    async def metadata(self, request: Request) -> Response:
        found = await self._authenticated(request, "media/metadata", limit=500)
        if isinstance(found, Response):
            return found
        try:
            payload = await request.json()
            media_id = str(payload["id"])
            alt = str(payload["metadata"]["alt_text"]["text"])
        except (ValueError, KeyError, TypeError):
            return self.error(400, "One or more parameters to your request was invalid.")
        if len(alt) > 1000:
            return self.error(400, "Alt text must be at most 1000 characters.")
        with self.sb.lock:
            image = found.media.get(media_id)
            if image is None:
                return self.error(400, f"Media id {media_id} not found.")
            image.alt = alt
        return self._json(
            request, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}
        )

    # --- tweets ---------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        found = await self._authenticated(request, "tweets/create", limit=100)
        if isinstance(found, Response):
            return found
        try:
            payload = await request.json()
            text = str(payload.get("text", ""))
            media_ids = [str(i) for i in (payload.get("media") or {}).get("media_ids", [])]
        except (ValueError, AttributeError, TypeError):
            return self.error(400, "One or more parameters to your request was invalid.")
        quota, used, reset = self.quota_left(found)
        daily = {}
        if quota is not None:
            daily = {
                "x-user-limit-24hour-limit": str(quota),
                "x-user-limit-24hour-remaining": str(max(0, quota - used - 1)),
                "x-user-limit-24hour-reset": str(int(reset.timestamp())),
            }
            if used >= quota:
                daily["x-user-limit-24hour-remaining"] = "0"
                headers = {
                    **request.state.rate_headers,
                    **daily,
                    "x-rate-limit-reset": str(int(reset.timestamp())),
                }
                return self.error(429, "Too Many Requests", headers=headers)
        if not text.strip() and not media_ids:
            return self.error(400, "Tweet text or media is required.")
        if len(media_ids) > 4:
            return self.error(400, "Your media IDs are invalid.")
        with self.sb.lock:
            images = [found.media.get(i) for i in media_ids]
            duplicate = any(
                p.text == text and p.created_at > self.sb.now() - timedelta(days=1)
                for p in found.live_posts()
            )
        if any(i is None for i in images):
            return self.error(400, "Your media IDs are invalid.")
        if duplicate and text:
            return self.error(403, "You are not allowed to create a Tweet with duplicate content.")
        post = SandboxPost(
            id=self.sb.new_id(19),
            network="x",
            account_id=found.remote_id,
            text=text,
            created_at=self.sb.now(),
            images=[i for i in images if i is not None],
        )
        self.sb.store_post(found, post)
        failed = await self.committed(found)
        if failed is not None:
            return failed
        return self._json(
            request,
            {"data": {"id": post.id, "text": text, "edit_history_tweet_ids": [post.id]}},
            201,
            **daily,
        )

    async def lookup(self, request: Request) -> Response:
        found = await self._authenticated(request, "tweets/lookup")
        if isinstance(found, Response):
            return found
        tweet_id = request.path_params["tweet_id"]
        post = self.sb.find_post(tweet_id)
        if post is None or post.network != "x" or post.deleted_at is not None:
            return self._json(request, {"errors": [_not_found(tweet_id)]})
        fields = set(request.query_params.get("tweet.fields", "").split(","))
        if "non_public_metrics" in fields and post.account_id != found.remote_id:
            return self.error(403, "Sorry, you are not authorized to see non-public metrics.")
        return self._json(request, {"data": self._tweet(post, fields)})

    async def delete(self, request: Request) -> Response:
        found = await self._authenticated(request, "tweets/delete", limit=50)
        if isinstance(found, Response):
            return found
        tweet_id = request.path_params["tweet_id"]
        with self.sb.lock:
            post = found.posts.get(tweet_id)
            if post is None or post.deleted_at is not None:
                other = self.sb.find_post(tweet_id)
                if other is not None and other.deleted_at is None:
                    return self.error(403, "You are not authorized to delete this Tweet.")
                return self.error(404, f"Could not find tweet with id: [{tweet_id}].")
            post.deleted_at = self.sb.now()
        return self._json(request, {"data": {"deleted": True}})

    # --- pages ----------------------------------------------------------------------------------

    async def profile_page(self, request: Request) -> Response:
        return self.feed(request, self.sb.find_by_handle("x", request.path_params["handle"]))

    async def status_page(self, request: Request) -> Response:
        account = self.sb.find_by_handle("x", request.path_params["handle"])
        return self.feed(request, account, highlight=request.path_params["tweet_id"])


def _not_found(tweet_id: str) -> dict[str, Any]:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with id: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "id",
        "resource_id": tweet_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }
