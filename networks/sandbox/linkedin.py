"""LinkedIn's sandbox: OAuth 2.0 (/oauth/v2), the versioned REST API (/rest/posts, Images API,
organisation statistics and follower counts), as in reference/networks.md §2.

Tokens are member tokens listing the organisations the member administers; posting as an
organisation that is not in the list is a 403. A post answers 201 with an empty body and the URN
in `x-restli-id`; identical commentary is a 422 DUPLICATE_POST naming the existing share. Calls
without `LinkedIn-Version` or `X-Restli-Protocol-Version: 2.0.0` are refused. The token is read
from the Authorization header; the `oauth2_access_token` query parameter is tolerated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from networks.sandbox import tokens
from networks.sandbox.common import NetworkServer, bearer, mount_url
from networks.sandbox.state import Decision, SandboxAccount, SandboxPost

ACCESS_TTL = timedelta(days=60)
REFRESH_TTL = timedelta(days=365)
MESSAGES = {
    400: ("ILLEGAL_ARGUMENT", "Invalid request"),
    401: ("INVALID_ACCESS_TOKEN", "Invalid access token"),
    403: (
        "ACCESS_DENIED",
        "Not enough permissions to access: partnerApiPostsExternal.CREATE.20251001",
    ),
    404: ("NOT_FOUND", "Not Found"),
    422: ("UNPROCESSABLE_ENTITY", "Unprocessable entity"),
    429: (
        "TOO_MANY_REQUESTS",
        "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
    ),
    500: ("INTERNAL_SERVER_ERROR", "Internal Server Error"),
    503: ("SERVICE_UNAVAILABLE", "Service Unavailable"),
    504: ("GATEWAY_TIMEOUT", "Gateway Timeout"),
}


class LinkedInServer(NetworkServer):
    network = "linkedin"
    label = "LinkedIn"

    def error(self, status: int, message: str | None = None, **extra: Any) -> Response:
        code, default = MESSAGES.get(status, ("ERROR", "Error"))
        body: dict[str, Any] = {
            "status": status,
            "code": extra.get("code", code),
            "message": message or default,
        }
        if status == 401:
            body["serviceErrorCode"] = 65600
        if "details" in extra:
            body["errorDetails"] = extra["details"]
        return JSONResponse(body, status_code=status)

    def rate_limited(self, account: SandboxAccount | None, decision: Decision) -> Response:
        # LinkedIn sends no rate-limit header: the daily limits reset at midnight UTC.
        return self.error(429)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/oauth/v2/authorization", self.consent_two_pages, methods=["GET"]),
            Route("/oauth/v2/authorization", self.consent_answer, methods=["POST"]),
            Route("/oauth/v2/accessToken", self.token, methods=["POST"]),
            Route("/rest/organizationAcls", self.acls, methods=["GET"]),
            Route("/rest/organizations/{org_id}", self.organization, methods=["GET"]),
            Route("/rest/networkSizes/{urn}", self.network_size, methods=["GET"]),
            Route("/rest/organizationalEntityShareStatistics", self.statistics, methods=["GET"]),
            Route("/rest/images", self.initialize_upload, methods=["POST"]),
            Route("/upload/{image_id}", self.upload, methods=["PUT"]),
            Route("/rest/posts", self.create, methods=["POST"]),
            Route("/rest/posts", self.by_author, methods=["GET"]),
            Route("/rest/posts/{urn}", self.delete, methods=["DELETE"]),
            *self.page_routes(),
            Route("/feed/update/{urn}", self.post_page, methods=["GET"]),
            Route("/company/{handle}", self.company_page, methods=["GET"]),
        ]

    async def consent_two_pages(self, request: Request) -> Response:
        return await self.consent(request, second_page=True)

    # --- OAuth ----------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not self.client_secret_ok(form.get("client_id", ""), form.get("client_secret", "")):
            return _oauth_error("invalid_client", "Client authentication failed", 401)
        if form.get("grant_type") == "authorization_code":
            code = self.take_code(form.get("code", ""), redirect_uri=form.get("redirect_uri"))
            if code is None:
                return _oauth_error(
                    "invalid_request",
                    "Unable to retrieve access token: appid/redirect uri/code verifier does not "
                    "match authorization code. Or authorization code expired.",
                )
            handle = code.account["handle"]
            orgs = [
                [
                    tokens.remote_id_for(self.sb.secret, "linkedin", handle),
                    code.account["name"],
                    handle,
                ]
            ]
            if code.account.get("name2"):
                second = f"{handle}-2"
                orgs.append(
                    [
                        tokens.remote_id_for(self.sb.secret, "linkedin", second),
                        code.account["name2"],
                        second,
                    ]
                )
            member = (
                f"urn:li:person:{tokens.numeric_id(self.sb.secret, 'member', handle, digits=10)}"
            )
            return self._tokens(member, code.account["name"], handle, orgs, code.scope)
        if form.get("grant_type") == "refresh_token":
            payload = self.sb.verify(
                form.get("refresh_token", ""), network="linkedin", typ="refresh"
            )
            if payload is None:
                return _oauth_error("invalid_request", "The provided refresh token is invalid")
            # LinkedIn keeps the refresh token (valid a year from the first consent).
            access = self.sb.issue(
                "linkedin",
                str(payload["sub"]),
                name=str(payload["nm"]),
                handle=str(payload["h"]),
                ttl=ACCESS_TTL,
                orgs=payload.get("orgs", []),
            )
            return JSONResponse(
                {
                    "access_token": access,
                    "expires_in": int(ACCESS_TTL.total_seconds()),
                    "refresh_token": form["refresh_token"],
                    "refresh_token_expires_in": int(
                        float(payload.get("exp", 0)) - self.sb.now().timestamp()
                    ),
                    "scope": str(payload.get("scope", "")),
                }
            )
        return _oauth_error("unsupported_grant_type", "Unsupported grant type")

    def _tokens(
        self, member: str, name: str, handle: str, orgs: list[list[str]], scope: str
    ) -> Response:
        access = self.sb.issue(
            "linkedin", member, name=name, handle=handle, ttl=ACCESS_TTL, orgs=orgs
        )
        refresh = self.sb.issue(
            "linkedin",
            member,
            name=name,
            handle=handle,
            typ="refresh",
            ttl=REFRESH_TTL,
            orgs=orgs,
            scope=scope,
        )
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": int(ACCESS_TTL.total_seconds()),
                "refresh_token": refresh,
                "refresh_token_expires_in": int(REFRESH_TTL.total_seconds()),
                "scope": scope,
            }
        )

    # --- helpers --------------------------------------------------------------------------------

    def _member(self, request: Request) -> dict[str, Any] | None:
        token = bearer(request) or request.query_params.get("oauth2_access_token")
        query_token = request.query_params.get("oauth2_access_token")
        if token and query_token and query_token != token:
            return None
        member = self.sb.verify(token, network="linkedin") if token else None
        if member is None:
            return None
        # Revoking an organisation's access (sandbox.revoke) revokes the member tokens naming it.
        for urn, _, _ in member.get("orgs", []):
            account = self.sb.account("linkedin", urn)
            revoked = account.revoked_before if account is not None else None
            if revoked is not None and float(member.get("t", 0)) <= revoked.timestamp():
                return None
        return member

    def _org(self, member: dict[str, Any], urn: str) -> SandboxAccount | None:
        for org_urn, name, handle in member.get("orgs", []):
            if org_urn == urn:
                return self.sb.ensure_account("linkedin", urn, name=name, handle=handle)
        return None

    async def _start(
        self, request: Request, *, versioned: bool = True
    ) -> dict[str, Any] | Response:
        member = self._member(request)
        if member is None:
            return self.error(401)
        if versioned:
            if not request.headers.get("linkedin-version"):
                return self.error(
                    400,
                    "A version must be present. "
                    "Please specify a version by adding the LinkedIn-Version header.",
                    code="VERSION_MISSING",
                )
            if request.headers.get("x-restli-protocol-version") != "2.0.0":
                return self.error(
                    400, "Invalid or missing X-Restli-Protocol-Version header: expected 2.0.0"
                )
        return member

    async def _guarded(self, request: Request, account: SandboxAccount | None) -> Response | None:
        return await self.guard(request, account)

    # --- organisations --------------------------------------------------------------------------

    async def acls(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        if (refused := await self._guarded(request, None)) is not None:
            return refused
        elements = [
            {
                "organization": urn,
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "roleAssignee": member["sub"],
            }
            for urn, _, _ in member.get("orgs", [])
        ]
        return JSONResponse(
            {"elements": elements, "paging": {"count": 10, "start": 0, "total": len(elements)}}
        )

    async def organization(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        urn = f"urn:li:organization:{request.path_params['org_id']}"
        account = self._org(member, urn)
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(403, f"Not enough permissions to access: organizations.GET for {urn}")
        return JSONResponse(
            {
                "id": int(request.path_params["org_id"]),
                "localizedName": account.name,
                "vanityName": account.handle,
                "$URN": urn,
            }
        )

    async def network_size(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        account = self._org(member, request.path_params["urn"])
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(403, "Not enough permissions to access: networkSizes.GET")
        if request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            return self.error(400, "Invalid edgeType")
        return JSONResponse({"firstDegreeSize": self.sb.followers(account)})

    async def statistics(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        if request.query_params.get("q") != "organizationalEntity":
            return self.error(400, "Invalid query parameter q")
        account = self._org(member, request.query_params.get("organizationalEntity", ""))
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(
                403,
                "Not enough permissions to access: "
                "organizationalEntityShareStatistics.FINDER-organizationalEntity",
            )
        raw = request.query_params.get("shares") or request.query_params.get("ugcPosts") or ""
        if not (raw.startswith("List(") and raw.endswith(")")):
            return self.error(400, "Invalid shares parameter")
        elements = []
        for urn in raw[5:-1].split(","):
            post = account.posts.get(urn)
            if post is None or post.deleted_at is not None:
                continue
            m = self.sb.metrics(post)
            elements.append(
                {
                    "organizationalEntity": account.remote_id,
                    "share": urn,
                    "totalShareStatistics": {
                        "impressionCount": m["impressions"],
                        "uniqueImpressionsCount": m["impressions"] * 3 // 4,
                        "likeCount": m["likes"],
                        "commentCount": m["replies"],
                        "shareCount": m["reposts"],
                        "clickCount": m["clicks"],
                        "engagement": round(
                            (m["likes"] + m["replies"] + m["clicks"]) / max(1, m["impressions"]), 4
                        ),
                    },
                }
            )
        return JSONResponse({"elements": elements, "paging": {"count": 10, "start": 0}})

    # --- images ---------------------------------------------------------------------------------

    async def initialize_upload(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        if request.query_params.get("action") != "initializeUpload":
            return self.error(400, "Unsupported action")
        try:
            owner = str((await request.json())["initializeUploadRequest"]["owner"])
        except (ValueError, KeyError, TypeError):
            return self.error(
                422,
                "ERROR :: /initializeUploadRequest/owner :: "
                "field is required but not found and has no default value",
            )
        account = self._org(member, owner)
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(
                403, "Not enough permissions to access: images.ACTION-initializeUpload"
            )
        image_id = "D4E10AQ" + self.sb.new_id(12)
        with self.sb.lock:
            account.extra.setdefault("pending_uploads", {})[image_id] = None
        expires = int((self.sb.now() + timedelta(hours=1)).timestamp() * 1000)
        return JSONResponse(
            {
                "value": {
                    "uploadUrlExpiresAt": expires,
                    "uploadUrl": f"{mount_url(request)}/upload/{image_id}",
                    "image": f"urn:li:image:{image_id}",
                }
            }
        )

    async def upload(self, request: Request) -> Response:
        member = self._member(request)
        if member is None:
            return self.error(401)
        image_id = request.path_params["image_id"]
        with self.sb.lock:
            owner = next(
                (
                    a
                    for a in self.sb.accounts_of("linkedin")
                    if image_id in a.extra.get("pending_uploads", {})
                ),
                None,
            )
        if owner is None or self._org(member, owner.remote_id) is None:
            return self.error(404)
        if (refused := await self._guarded(request, owner)) is not None:
            return refused
        image = self.store_image(owner, await request.body())
        if image is None:
            return self.error(400, "The uploaded file is not a supported image (JPG, PNG or GIF)")
        with self.sb.lock:
            del owner.extra["pending_uploads"][image_id]
            owner.media.pop(image.id)
            image.id = image_id
            owner.media[image_id] = image
        return Response(status_code=201)

    # --- posts ----------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        try:
            body = json.loads(await request.body())
            author = str(body["author"])
        except (ValueError, KeyError, TypeError):
            return self.error(
                422, "ERROR :: /author :: field is required but not found and has no default value"
            )
        account = self._org(member, author)
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(403)
        missing = [
            f
            for f in ("commentary", "visibility", "distribution", "lifecycleState")
            if f not in body
        ]
        if missing:
            return self.error(
                422,
                "\n".join(
                    f"ERROR :: /{f} :: field is required but not found and has no default value"
                    for f in missing
                ),
            )
        text = str(body["commentary"])
        if len(text) > 3000:
            return self.error(422, "ERROR :: /commentary :: length of 3001 exceeds maximum of 3000")
        content = body.get("content") or {}
        refs = []
        if "media" in content:
            refs = [content["media"]]
        elif "multiImage" in content:
            refs = list(content["multiImage"].get("images", []))
            if not 2 <= len(refs) <= 20:
                return self.error(
                    422, "ERROR :: /content/multiImage/images :: array must contain 2 to 20 items"
                )
        images = []
        with self.sb.lock:
            for ref in refs:
                image = account.media.get(str(ref.get("id", "")).removeprefix("urn:li:image:"))
                if image is None:
                    return self.error(422, f"ERROR :: /content :: invalid image {ref.get('id')}")
                image.alt = str(ref.get("altText", ""))
                images.append(image)
            duplicate = next((p for p in account.live_posts() if p.text == text and text), None)
        if duplicate is not None:
            return self.error(
                422,
                f"Content is a duplicate of {duplicate.id}",
                code="DUPLICATE_POST",
                details={
                    "inputErrors": [
                        {
                            "code": "DUPLICATE_POST",
                            "description": "Duplicate post content",
                            "input": {"inputPath": {"fieldPath": "/commentary"}},
                        }
                    ]
                },
            )
        urn = f"urn:li:share:{self.sb.new_id(19)}"
        link = (content.get("article") or {}).get("source")
        post = SandboxPost(
            id=urn,
            network="linkedin",
            account_id=account.remote_id,
            text=text,
            created_at=self.sb.now(),
            images=images,
            link=link,
        )
        self.sb.store_post(account, post)
        if (failed := await self.committed(account)) is not None:
            return failed
        return Response(status_code=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

    async def by_author(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        if request.query_params.get("q") != "author":
            return self.error(400, "Invalid query parameter q")
        account = self._org(member, request.query_params.get("author", ""))
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if account is None:
            return self.error(403)
        count = min(100, int(request.query_params.get("count", "10") or 10))
        elements = [
            {
                "id": p.id,
                "author": account.remote_id,
                "commentary": p.text,
                "createdAt": int(p.created_at.timestamp() * 1000),
                "lastModifiedAt": int(p.created_at.timestamp() * 1000),
                "lifecycleState": "PUBLISHED",
                "visibility": "PUBLIC",
            }
            for p in account.live_posts()[:count]
        ]
        return JSONResponse({"elements": elements, "paging": {"count": count, "start": 0}})

    async def delete(self, request: Request) -> Response:
        member = await self._start(request)
        if isinstance(member, Response):
            return member
        urn = request.path_params["urn"]
        post = self.sb.find_post(urn)
        account = (
            self._org(member, post.account_id) if post and post.network == "linkedin" else None
        )
        if (refused := await self._guarded(request, account)) is not None:
            return refused
        if post is None or post.deleted_at is not None or post.network != "linkedin":
            return self.error(404, f"Post {urn} not found")
        if account is None:
            return self.error(
                403, "Not enough permissions to access: partnerApiPostsExternal.DELETE"
            )
        with self.sb.lock:
            post.deleted_at = self.sb.now()
        return Response(status_code=204)

    # --- pages ----------------------------------------------------------------------------------

    async def post_page(self, request: Request) -> Response:
        post = self.sb.find_post(request.path_params["urn"])
        account = self.sb.account("linkedin", post.account_id) if post else None
        return self.feed(request, account, highlight=post.id if post else None)

    async def company_page(self, request: Request) -> Response:
        return self.feed(request, self.sb.find_by_handle("linkedin", request.path_params["handle"]))


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def encoded(urn: str) -> str:
    return quote(urn, safe="")
