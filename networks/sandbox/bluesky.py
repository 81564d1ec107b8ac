"""Bluesky's sandbox: a PDS and AppView on one base URL (/xrpc/…), as in reference/networks.md §6.

Sessions come from createSession (handle and app password) with HS256 JWTs that expire (access
2 hours, refresh 60 days; refreshSession spends the refresh token). No didDoc is returned, so the
client stays on this base URL. Records are created with the record key the client chooses: a key
already used is refused, so a retried attempt cannot publish twice. Blobs are sniffed (the client
sends Content-Type */*). Writes carry ratelimit-* headers (points per hour, per DID).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from networks.sandbox import tokens
from networks.sandbox.common import NetworkServer, bearer
from networks.sandbox.state import Decision, SandboxAccount, SandboxImage, SandboxPost

ACCESS_TTL = timedelta(hours=2)
REFRESH_TTL = timedelta(days=60)
POINTS = 5000
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
POST = "app.bsky.feed.post"
ERRORS = {
    400: ("InvalidRequest", "Invalid request"),
    401: ("ExpiredToken", "Token has expired"),
    403: ("Forbidden", "Forbidden"),
    404: ("NotFound", "Not found"),
    429: ("RateLimitExceeded", "Rate Limit Exceeded"),
    500: ("InternalServerError", "Internal Server Error"),
    502: ("UpstreamFailure", "Upstream Failure"),
    503: ("ServiceUnavailable", "Service Unavailable"),
    504: ("UpstreamTimeout", "Upstream Timeout"),
}


def _graphemes(text: str) -> int:
    # Close enough for French text: combining marks and variation selectors join the character
    # before them.
    return sum(
        1
        for c in text
        if not (0x300 <= ord(c) <= 0x36F or 0xFE00 <= ord(c) <= 0xFE0F or c == "\u200d")
    )


class BlueskyServer(NetworkServer):
    network = "bluesky"
    label = "Bluesky"

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        name, default = ERRORS.get(status, ("Error", "Error"))
        return JSONResponse(
            {"error": extra.get("name", name), "message": message or default},
            status_code=status,
            headers=extra.get("headers"),
        )

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        assert decision.reset_at is not None
        return self.error(429, headers=self._limits(0, decision.reset_at))

    @staticmethod
    def _limits(remaining: int, reset: Any) -> dict[str, str]:
        return {
            "ratelimit-limit": str(POINTS),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(reset.timestamp())),
            "ratelimit-policy": f"{POINTS};w=3600",
        }

    def routes(self) -> Sequence[BaseRoute]:
        x = "/xrpc/"
        return [
            *self.page_routes(),
            Route(x + "com.atproto.server.createSession", self.create_session, methods=["POST"]),
            Route(x + "com.atproto.server.refreshSession", self.refresh_session, methods=["POST"]),
            Route(x + "com.atproto.server.getSession", self.get_session, methods=["GET"]),
            Route(x + "app.bsky.actor.getProfile", self.get_profile, methods=["GET"]),
            Route(x + "com.atproto.repo.uploadBlob", self.upload_blob, methods=["POST"]),
            Route(x + "com.atproto.repo.createRecord", self.create_record, methods=["POST"]),
            Route(x + "com.atproto.repo.deleteRecord", self.delete_record, methods=["POST"]),
            Route(x + "com.atproto.repo.getRecord", self.get_record, methods=["GET"]),
            Route(x + "com.atproto.repo.listRecords", self.list_records, methods=["GET"]),
            Route(x + "app.bsky.feed.getPosts", self.get_posts, methods=["GET"]),
            Route(x + "app.bsky.feed.getAuthorFeed", self.get_author_feed, methods=["GET"]),
            Route(x + "com.atproto.sync.getBlob", self.get_blob, methods=["GET"]),
            Route("/profile/{handle}/post/{rkey}", self.post_page, methods=["GET"]),
            Route("/profile/{handle}", self.profile_page, methods=["GET"]),
        ]

    # --- sessions -------------------------------------------------------------------------------

    def _session(self, account: SandboxAccount) -> dict[str, Any]:
        access = self.sb.issue(
            "bluesky",
            account.remote_id,
            name=account.name,
            handle=account.handle,
            ttl=ACCESS_TTL,
            scope="com.atproto.access",
        )
        refresh = self.sb.issue(
            "bluesky",
            account.remote_id,
            name=account.name,
            handle=account.handle,
            typ="refresh",
            ttl=REFRESH_TTL,
            scope="com.atproto.refresh",
        )
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": account.handle,
            "did": account.remote_id,
            "email": f"{account.handle}@bac-a-sable.test",
            "emailConfirmed": True,
            "active": True,
        }

    async def create_session(self, request: Request) -> Response:
        try:
            body = await request.json()
            identifier, password = (
                str(body["identifier"]).lower().removeprefix("@"),
                str(body["password"]),
            )
        except (ValueError, KeyError, TypeError):
            return self.error(400, 'Input must have the property "identifier"')
        if identifier.startswith("did:"):
            found = self.sb.account("bluesky", identifier)
            identifier = found.handle if found else identifier
        if tokens.app_password(self.sb.secret, identifier) != password:
            return self.error(401, "Invalid identifier or password", name="AuthenticationRequired")
        did = tokens.did_for(self.sb.secret, identifier)
        account = self.sb.ensure_account(
            "bluesky", did, name=identifier.split(".")[0].capitalize(), handle=identifier
        )
        refused = await self.guard(request, account)
        if refused is not None:
            return refused
        allowed, _, reset = self.sb.consume(
            account, "createSession", limit=30, period=timedelta(minutes=5)
        )
        if not allowed:
            return self.error(429, headers=self._limits(0, reset))
        return JSONResponse(self._session(account))

    async def refresh_session(self, request: Request) -> Response:
        token = bearer(request) or ""
        payload = self.sb.verify(token, network="bluesky", typ="refresh")
        if payload is None or not self.sb.spend(str(payload.get("jti"))):
            return self.error(400, "Token has been revoked", name="ExpiredToken")
        account = self.sb.ensure_account(
            "bluesky", str(payload["sub"]), name=str(payload["nm"]), handle=str(payload["h"])
        )
        return JSONResponse(self._session(account))

    async def _authenticated(
        self, request: Request, *, points: int = 0
    ) -> SandboxAccount | Response:
        token = bearer(request)
        payload = self.sb.verify(token, network="bluesky") if token else None
        if payload is None:
            name = "ExpiredToken" if token else "AuthenticationRequired"
            return self.error(
                401, "Token has expired" if token else "Authentication Required", name=name
            )
        account = self.sb.ensure_account(
            "bluesky", str(payload["sub"]), name=str(payload["nm"]), handle=str(payload["h"])
        )
        refused = await self.guard(request, account)
        if refused is not None:
            return refused
        if points:
            allowed = True
            for _ in range(points):
                allowed, remaining, reset = self.sb.consume(
                    account, "points", limit=POINTS, period=timedelta(hours=1)
                )
            request.state.limits = self._limits(remaining, reset)
            if not allowed:
                return self.error(429, headers=request.state.limits)
        return account

    def _json(self, request: Request, body: Any) -> Response:
        return JSONResponse(body, headers=getattr(request.state, "limits", {}))

    async def get_session(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        return self._json(
            request, {"handle": account.handle, "did": account.remote_id, "active": True}
        )

    async def get_profile(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        actor = request.query_params.get("actor", "")
        target = (
            self.sb.account("bluesky", actor)
            if actor.startswith("did:")
            else self.sb.find_by_handle("bluesky", actor)
        )
        if target is None:
            return self.error(400, "Profile not found", name="InvalidRequest")
        return self._json(request, self._profile(target))

    def _profile(self, account: SandboxAccount) -> dict[str, Any]:
        return {
            "did": account.remote_id,
            "handle": account.handle,
            "displayName": account.name,
            "description": "",
            "followersCount": self.sb.followers(account),
            "followsCount": 21,
            "postsCount": len(account.live_posts()),
            "indexedAt": account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "createdAt": account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }

    # --- blobs and records --------------------------------------------------------------------

    async def upload_blob(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        data = await request.body()
        if len(data) > 1_000_000:
            return self.error(
                400,
                "This file is too large. It is 1.2MB but the maximum size is 976.56KB.",
                name="BlobTooLarge",
            )
        image = self.store_image(account, data)
        if image is None:
            return self.error(400, "Unsupported blob type", name="InvalidMimeType")
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:52]
        with self.sb.lock:
            account.media.pop(image.id)
            image.id = cid
            account.media[cid] = image
        return self._json(
            request,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": cid},
                    "mimeType": image.mime,
                    "size": len(data),
                }
            },
        )

    async def create_record(self, request: Request) -> Response:
        account = await self._authenticated(request, points=3)
        if isinstance(account, Response):
            return account
        try:
            body = await request.json()
            repo, collection, record = (
                str(body["repo"]),
                str(body["collection"]),
                dict(body["record"]),
            )
        except (ValueError, KeyError, TypeError):
            return self.error(
                400, 'Input must have the properties "repo", "collection" and "record"'
            )
        if repo not in {account.remote_id, account.handle}:
            return self.error(
                400, "Invalid repo: not the authenticated account", name="InvalidRequest"
            )
        if collection != POST:
            return self.error(400, f"Unsupported collection {collection}")
        rkey = str(body.get("rkey") or self.sb.new_id(13))
        if body.get("rkey") and not TID.match(rkey):
            return self.error(400, "Invalid record key: expected a TID", name="InvalidRequest")
        text = str(record.get("text", ""))
        if _graphemes(text) > 300 or len(text.encode()) > 3000:
            return self.error(
                400,
                "Invalid app.bsky.feed.post record: "
                "Record/text must not be longer than 300 graphemes",
                name="InvalidRecord",
            )
        if "createdAt" not in record:
            return self.error(
                400,
                'Invalid app.bsky.feed.post record: Record must have the property "createdAt"',
                name="InvalidRecord",
            )
        images: list[SandboxImage] = []
        embed = record.get("embed") or {}
        link = None
        if embed.get("$type") == "app.bsky.embed.images":
            entries = embed.get("images") or []
            if len(entries) > 4:
                return self.error(
                    400,
                    "Invalid app.bsky.feed.post record: "
                    "Record/embed/images must not have more than 4 elements",
                    name="InvalidRecord",
                )
            with self.sb.lock:
                for entry in entries:
                    if "alt" not in entry:
                        return self.error(
                            400,
                            "Invalid app.bsky.feed.post record: "
                            'Record/embed/images/0 must have the property "alt"',
                            name="InvalidRecord",
                        )
                    cid = (entry.get("image") or {}).get("ref", {}).get("$link")
                    image = account.media.get(str(cid))
                    if image is None:
                        return self.error(400, f"Could not find blob: {cid}", name="BlobNotFound")
                    image.alt = str(entry["alt"])
                    images.append(image)
        elif embed.get("$type") == "app.bsky.embed.external":
            link = (embed.get("external") or {}).get("uri")
        uri = f"at://{account.remote_id}/{POST}/{rkey}"
        with self.sb.lock:
            if uri in account.posts:
                return self.error(400, f"Record already exists: {uri}", name="InvalidRequest")
            post = SandboxPost(
                id=uri,
                network="bluesky",
                account_id=account.remote_id,
                text=text,
                created_at=self.sb.now(),
                images=images,
                link=link,
                idempotency_key=rkey,
                extra={
                    "record": record,
                    "cid": "bafyrei"
                    + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52],
                },
            )
            self.sb.store_post(account, post)
        if (failed := await self.committed(account)) is not None:
            return failed
        cid = post.extra["cid"]
        return self._json(
            request,
            {
                "uri": uri,
                "cid": cid,
                "commit": {"cid": "bafyreicommit" + rkey, "rev": rkey},
                "validationStatus": "valid",
            },
        )

    async def delete_record(self, request: Request) -> Response:
        account = await self._authenticated(request, points=1)
        if isinstance(account, Response):
            return account
        try:
            body = await request.json()
            uri = f"at://{body['repo']}/{body['collection']}/{body['rkey']}"
        except (ValueError, KeyError, TypeError):
            return self.error(400, 'Input must have the properties "repo", "collection" and "rkey"')
        if str(body["repo"]) not in {account.remote_id, account.handle}:
            return self.error(400, "Invalid repo: not the authenticated account")
        with self.sb.lock:
            post = account.posts.get(
                uri.replace(f"at://{account.handle}/", f"at://{account.remote_id}/")
            )
            if post is not None and post.deleted_at is None:
                post.deleted_at = self.sb.now()
        # Deleting a record that does not exist is not an error on a PDS.
        return self._json(request, {"commit": {"cid": "bafyreicommit", "rev": "rev"}})

    def _record(self, post: SandboxPost) -> dict[str, Any]:
        return {"uri": post.id, "cid": post.extra.get("cid"), "value": post.extra.get("record", {})}

    async def get_record(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        p = request.query_params
        owner = self.sb.account("bluesky", p.get("repo", "")) or self.sb.find_by_handle(
            "bluesky", p.get("repo", "")
        )
        repo = owner.remote_id if owner else p.get("repo")
        uri = f"at://{repo}/{p.get('collection')}/{p.get('rkey')}"
        post = owner.posts.get(uri) if owner else None
        if post is None or post.deleted_at is not None:
            return self.error(400, f"Could not locate record: {uri}", name="RecordNotFound")
        return self._json(request, self._record(post))

    async def list_records(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        p = request.query_params
        owner = self.sb.account("bluesky", p.get("repo", "")) or self.sb.find_by_handle(
            "bluesky", p.get("repo", "")
        )
        if owner is None:
            return self.error(400, "Could not find repo", name="RepoNotFound")
        limit = min(100, int(p.get("limit", "50") or 50))
        posts = [post for post in owner.live_posts() if p.get("collection") == POST]
        if p.get("reverse") in {"true", "1"}:
            posts.reverse()
        return self._json(request, {"records": [self._record(post) for post in posts[:limit]]})

    def _post_view(self, post: SandboxPost) -> dict[str, Any]:
        owner = self.sb.account("bluesky", post.account_id)
        assert owner is not None
        m = self.sb.metrics(post)
        return {
            "uri": post.id,
            "cid": post.extra.get("cid"),
            "author": {"did": owner.remote_id, "handle": owner.handle, "displayName": owner.name},
            "record": post.extra.get("record", {}),
            "replyCount": m["replies"],
            "repostCount": m["reposts"],
            "likeCount": m["likes"],
            "quoteCount": m["quotes"],
            "indexedAt": post.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "labels": [],
        }

    async def get_posts(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        found = []
        for uri in request.query_params.getlist("uris"):
            post = self.sb.find_post(uri)
            if post is None or post.network != "bluesky" or post.deleted_at is not None:
                continue
            found.append(self._post_view(post))
        return self._json(request, {"posts": found})

    async def get_author_feed(self, request: Request) -> Response:
        account = await self._authenticated(request)
        if isinstance(account, Response):
            return account
        actor = request.query_params.get("actor", "")
        owner = (
            self.sb.account("bluesky", actor)
            if actor.startswith("did:")
            else self.sb.find_by_handle("bluesky", actor)
        )
        if owner is None:
            return self.error(400, "Profile not found", name="InvalidRequest")
        limit = min(100, int(request.query_params.get("limit", "50") or 50))
        feed = [{"post": self._post_view(post)} for post in owner.live_posts()[:limit]]
        return self._json(request, {"feed": feed})

    async def get_blob(self, request: Request) -> Response:
        owner = self.sb.account("bluesky", request.query_params.get("did", ""))
        image = owner.media.get(request.query_params.get("cid", "")) if owner else None
        if image is None:
            return self.error(400, "Blob not found", name="BlobNotFound")
        return Response(image.data, media_type=image.mime)

    # --- pages ----------------------------------------------------------------------------------

    async def profile_page(self, request: Request) -> Response:
        return self.feed(request, self.sb.find_by_handle("bluesky", request.path_params["handle"]))

    async def post_page(self, request: Request) -> Response:
        account = self.sb.find_by_handle("bluesky", request.path_params["handle"])
        uri = f"at://{account.remote_id}/{POST}/{request.path_params['rkey']}" if account else None
        return self.feed(request, account, highlight=uri)
