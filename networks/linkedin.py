"""LinkedIn organisation pages through python-linkedin-v2: its OAuth helper (pointed at the
current /oauth/v2 endpoints) and `make_request` for the versioned REST API (/rest/posts, Images
API), with `LinkedIn-Version` and `X-Restli-Protocol-Version` headers.

Errors are mapped here from the status codes: the library's own `raise_for_error` crashes on
current LinkedIn error bodies (reference/networks.md §2.6). Images are PUT with requests
directly, since `make_request` forces a JSON content type.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn
from urllib.parse import quote, urlencode

import requests
from linkedin_v2 import linkedin

from core import clock
from core.accounts.models import Network
from networks import http, redact
from networks.base import (
    AuthExpired,
    Duplicate,
    Forbidden,
    PermanentError,
    PostMetrics,
    Profile,
    Published,
    RateLimited,
    RefreshedCredentials,
    RemoteNotFound,
    RemotePost,
    RetryableError,
)
from networks.base import Post as OutgoingPost
from networks.config import AdapterConfig

SCOPES = ["w_organization_social", "r_organization_social", "rw_organization_admin"]
ORGANIZATION = "urn:li:organization:"
# Reserved characters of LinkedIn's "little" text format: unescaped, they may cut the post.
RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
KEEP = re.compile(r"https?://\S+|(?<!\w)#\w+")


def little_text(text: str) -> str:
    """Escape the reserved characters, except in URLs and hashtags (kept clickable)."""
    out, last = [], 0
    for match in KEEP.finditer(text):
        out.append(RESERVED.sub(r"\\\1", text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(RESERVED.sub(r"\\\1", text[last:]))
    return "".join(out)


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class _NoQueryToken(dict[str, Any]):
    """python-linkedin-v2 adds `oauth2_access_token` to the query string of every call; keep the
    token out of URLs (and so out of server and proxy logs): it travels in the header only."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        merged = dict(*args, **kwargs)
        merged.pop("oauth2_access_token", None)
        super().update(merged)


def _message(response: requests.Response) -> str:
    body = http.json_body(response.content)
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or "")
    return response.text[:300]


def raise_for_status(response: requests.Response, *, write: bool = False) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    net, message = Network.linkedin, _message(response)
    if status == 401:
        raise AuthExpired(network=net, network_message=message, status=status)
    if status == 403:
        raise Forbidden(network=net, network_message=message, status=status)
    if status == 404:
        raise RemoteNotFound(network=net, network_message=message, status=status)
    if status in (409, 422) and "DUPLICATE_POST" in response.text:
        found = re.search(r"urn:li:(?:share|ugcPost):\d+", message)
        raise Duplicate(
            network=net,
            network_message=message,
            status=status,
            existing_id=found.group(0) if found else None,
        )
    if status == 429:
        # No header says when: LinkedIn's daily limits reset at midnight UTC.
        now = clock.now()
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        raise RateLimited(reset_at=midnight, network=net, network_message=message, status=status)
    if status >= 500:
        raise RetryableError(
            network=net, network_message=message, status=status, outcome_unknown=write
        )
    raise PermanentError(network=net, network_message=message, status=status)


def transport_error(error: requests.exceptions.RequestException, *, write: bool) -> NoReturn:
    # Only a connection that could not be opened surely sent nothing.
    unknown = write and not isinstance(error, requests.exceptions.ConnectTimeout)
    raise RetryableError(
        network=Network.linkedin, network_message=type(error).__name__, outcome_unknown=unknown
    ) from error


class LinkedInAdapter:
    network: ClassVar[Network] = Network.linkedin
    max_images: ClassVar[int] = 20

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        self.token = str(config.credentials.get("access_token", ""))
        redact.register(self.token, config.credentials.get("refresh_token"))
        self.app = linkedin.LinkedInApplication(token=self.token)
        self.organization = str(config.credentials.get("organization") or config.remote_id or "")

    # --- plumbing ---------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        # A new dict for each call: make_request adds its own headers to the one it is given.
        return {
            "Authorization": f"Bearer {self.token}",
            "LinkedIn-Version": self.config.version,
            "X-Restli-Protocol-Version": "2.0.0",
            "User-Agent": http.USER_AGENT,
        }

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, write: bool = False
    ) -> requests.Response:
        try:
            response: requests.Response = self.app.make_request(
                method,
                f"{self.config.api_url}{path}",
                data=json.dumps(body) if body is not None else None,
                params=_NoQueryToken(),
                headers=self._headers(),
                timeout=self.config.timeout,
            )
        except requests.exceptions.RequestException as error:
            transport_error(error, write=write)
        raise_for_status(response, write=write)
        return response

    def _json(self, response: requests.Response) -> dict[str, Any]:
        body = http.json_body(response.content)
        if not isinstance(body, dict):
            raise PermanentError(network=Network.linkedin, network_message="réponse illisible")
        return body

    def _org(self) -> str:
        if self.organization:
            return self.organization
        body = self._json(
            self._call(
                "GET", "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
            )
        )
        for element in body.get("elements", []):
            if element.get("state", "APPROVED") == "APPROVED" and element.get("organization"):
                self.organization = str(element["organization"])
                return self.organization
        raise Forbidden(
            network=Network.linkedin,
            network_message="aucune page dont ce compte est administrateur",
        )

    # --- reading ----------------------------------------------------------------------------------

    def verify(self) -> Profile:
        org = self._org()
        org_id = org.removeprefix(ORGANIZATION)
        body = self._json(self._call("GET", f"/rest/organizations/{org_id}"))
        vanity = str(body.get("vanityName") or org_id)
        return Profile(
            remote_id=org,
            handle=vanity,
            name=str(body.get("localizedName") or vanity),
            url=f"{self.config.web_url}/company/{vanity}",
            followers=self.followers(),
        )

    def followers(self) -> int:
        body = self._json(
            self._call(
                "GET",
                f"/rest/networkSizes/{quote(self._org(), safe='')}"
                "?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
            )
        )
        return int(body.get("firstDegreeSize") or 0)

    def metrics(self, remote_id: str) -> PostMetrics:
        kind = "ugcPosts" if remote_id.startswith("urn:li:ugcPost:") else "shares"
        # URNs encoded, List( and ) not: LinkedIn's Rest.li syntax (reference §2.4).
        query = (
            f"q=organizationalEntity&organizationalEntity={quote(self._org(), safe='')}"
            f"&{kind}=List({quote(remote_id, safe='')})"
        )
        body = self._json(self._call("GET", f"/rest/organizationalEntityShareStatistics?{query}"))
        elements = body.get("elements") or []
        if not elements:
            raise RemoteNotFound(network=Network.linkedin, network_message=remote_id)
        stats = elements[0].get("totalShareStatistics", {})
        return PostMetrics(
            impressions=stats.get("impressionCount"),
            likes=stats.get("likeCount"),
            reposts=stats.get("shareCount"),
            replies=stats.get("commentCount"),
            clicks=stats.get("clickCount"),
            raw=dict(stats),
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        query = urlencode(
            {
                "author": self._org(),
                "q": "author",
                "count": min(100, limit),
                "sortBy": "LAST_MODIFIED",
            }
        )
        body = self._json(self._call("GET", f"/rest/posts?{query}"))
        posts = []
        for element in body.get("elements", [])[:limit]:
            created = element.get("createdAt")
            posts.append(
                RemotePost(
                    remote_id=str(element["id"]),
                    url=self._url(str(element["id"])),
                    text=unescape(str(element.get("commentary", ""))),
                    created_at=datetime.fromtimestamp(created / 1000, UTC) if created else None,
                )
            )
        return posts

    # --- writing ----------------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        # LinkedIn keeps no idempotency key; identical text is refused (Duplicate names the
        # existing post), which is what protects a retry.
        del idempotency_key
        author = self._org()
        images = [(self._upload(author, image.data), image.alt) for image in post.images]
        text = post.text
        content: dict[str, Any] | None = None
        if len(images) == 1:
            content = {"media": {"id": images[0][0], "altText": images[0][1]}}
        elif images:
            content = {"multiImage": {"images": [{"id": i, "altText": alt} for i, alt in images]}}
        elif post.link:
            title = (post.text.strip().splitlines() or [post.link])[0][:200]
            content = {"article": {"source": post.link, "title": title}}
        if images and post.link:
            text = post.text_with_link()
        body: dict[str, Any] = {
            "author": author,
            "commentary": little_text(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content:
            body["content"] = content
        response = self._call("POST", "/rest/posts", body, write=True)
        urn = response.headers.get("x-restli-id")
        if not urn:
            raise RetryableError(
                network=Network.linkedin,
                network_message="réponse sans identifiant (x-restli-id)",
                outcome_unknown=True,
            )
        return Published(remote_id=urn, url=self._url(urn))

    def _upload(self, owner: str, data: bytes) -> str:
        body = self._json(
            self._call(
                "POST",
                "/rest/images?action=initializeUpload",
                {"initializeUploadRequest": {"owner": owner}},
            )
        )
        try:
            upload_url = str(body["value"]["uploadUrl"])
            image = str(body["value"]["image"])
        except (KeyError, TypeError):
            raise PermanentError(
                network=Network.linkedin, network_message="réponse inattendue de l'API Images"
            ) from None
        try:
            response = requests.put(
                upload_url,
                data=data,
                headers={"Authorization": f"Bearer {self.token}", "User-Agent": http.USER_AGENT},
                timeout=self.config.timeout,
            )
        except requests.exceptions.RequestException as error:
            transport_error(error, write=False)
        raise_for_status(response)
        return image

    def delete(self, remote_id: str) -> None:
        self._call("DELETE", f"/rest/posts/{quote(remote_id, safe='')}")

    # --- tokens -----------------------------------------------------------------------------------

    def refresh(self) -> RefreshedCredentials | None:
        refresh_token = self.config.credentials.get("refresh_token")
        if not refresh_token:
            # Refresh tokens are granted to LinkedIn's approved partners only: without one, an
            # administrator reconnects the account before the 60 days are over.
            return None
        return token_request(
            self.config,
            {"grant_type": "refresh_token", "refresh_token": refresh_token},
            previous=self.config.credentials,
        )

    def find(self, idempotency_key: str) -> RemotePost | None:
        # The network keeps no trace of Beffroi's key: compare `recent_posts` instead.
        del idempotency_key
        return None

    def updated_credentials(self) -> dict[str, Any] | None:
        return None

    def _url(self, urn: str) -> str:
        return f"{self.config.web_url}/feed/update/{urn}"


# --- OAuth ------------------------------------------------------------------------------------


class Authentication(linkedin.LinkedInAuthentication):  # type: ignore[misc]
    """The library's OAuth helper on the current endpoints. The token exchange is done here: the
    library's own drops the refresh token and crashes on modern error bodies."""

    def __init__(self, config: AdapterConfig, *, redirect_uri: str, state: str = "") -> None:
        super().__init__(config.client_id or "", config.client_secret or "", redirect_uri, SCOPES)
        base = config.urls.get("oauth", "https://www.linkedin.com")
        self.AUTHORIZATION_URL = f"{base}/oauth/v2/authorization"
        self.ACCESS_TOKEN_URL = f"{base}/oauth/v2/accessToken"
        self.state = state
        self.config = config

    def get_access_token(self, timeout: int = 60) -> RefreshedCredentials:
        del timeout
        return token_request(
            self.config,
            {
                "grant_type": "authorization_code",
                "code": self.authorization_code,
                "redirect_uri": self.redirect_uri,
            },
        )


def token_request(
    config: AdapterConfig, form: dict[str, Any], *, previous: dict[str, Any] | None = None
) -> RefreshedCredentials:
    base = config.urls.get("oauth", "https://www.linkedin.com")
    try:
        response = requests.post(
            f"{base}/oauth/v2/accessToken",
            data={**form, "client_id": config.client_id, "client_secret": config.client_secret},
            headers={"User-Agent": http.USER_AGENT},
            timeout=config.timeout,
        )
    except requests.exceptions.RequestException as error:
        transport_error(error, write=False)
    if response.status_code in (400, 401):
        raise AuthExpired(
            network=Network.linkedin,
            network_message=_message(response),
            status=response.status_code,
        )
    raise_for_status(response)
    body = http.json_body(response.content) or {}
    credentials = {"access_token": str(body["access_token"])}
    refresh_token = body.get("refresh_token") or (previous or {}).get("refresh_token")
    if refresh_token:
        credentials["refresh_token"] = str(refresh_token)
    if (previous or {}).get("organization"):
        credentials["organization"] = str(previous["organization"])  # type: ignore[index]
    redact.register(*credentials.values())
    expires_in = body.get("expires_in")
    return RefreshedCredentials(
        credentials=credentials,
        expires_at=clock.now() + timedelta(seconds=int(expires_in)) if expires_in else None,
    )


def organizations(config: AdapterConfig) -> list[tuple[str, str, str]]:
    """(URN, name, vanity name) of every organisation the token's member administers."""
    adapter = LinkedInAdapter(config)
    body = adapter._json(
        adapter._call(
            "GET", "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED"
        )
    )
    found = []
    for element in body.get("elements", []):
        urn = str(element.get("organization", ""))
        if not urn.startswith(ORGANIZATION):
            continue
        org = adapter._json(
            adapter._call("GET", f"/rest/organizations/{urn.removeprefix(ORGANIZATION)}")
        )
        vanity = str(org.get("vanityName") or urn.removeprefix(ORGANIZATION))
        found.append((urn, str(org.get("localizedName") or vanity), vanity))
    return found
