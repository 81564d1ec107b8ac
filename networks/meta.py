"""Facebook Pages and Instagram (Instagram API with Instagram Login) over httpx, Graph API style.

Meta answers almost every error with HTTP 400 and a code in its envelope (reference §3.6): the
mapping reads the code, not the status. Instagram publishes in two steps (a container per image,
a carousel container for several, then media_publish), downloads the images itself from their
public URL (`Image.url`), and counts API publications against a 24-hour quota.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, ClassVar, NoReturn

import httpx

from core import clock
from core.accounts.models import Network
from core.i18n import N_
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
    Unsupported,
)
from networks.base import Post as OutgoingPost
from networks.config import AdapterConfig

THROTTLING = {4, 17, 32, 613, 80001, 80002, 80004, 80005, 80006, 80008}
AUTH = {102, 190, 2500}
PERMISSIONS = {3, 10, *range(200, 300)}
FACEBOOK_SCOPES = [
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "read_insights",
]
INSTAGRAM_SCOPES = [
    "instagram_business_basic",
    "instagram_business_content_publish",
    "instagram_business_manage_insights",
]


def _regain(response: httpx.Response, default: timedelta = timedelta(hours=1)) -> timedelta:
    raw = response.headers.get("x-business-use-case-usage")
    usage = http.json_body(raw) if raw else None
    minutes = []
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                value = (
                    entry.get("estimated_time_to_regain_access")
                    if isinstance(entry, dict)
                    else None
                )
                if isinstance(value, int | float) and value > 0:
                    minutes.append(value)
    return timedelta(minutes=max(minutes)) if minutes else default


def raise_for_error(response: httpx.Response, network: Network, *, write: bool = False) -> None:
    if response.is_success:
        return
    body = http.json_body(response.content)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        message = response.text[:300] or response.reason_phrase
        if response.status_code >= 500:
            raise RetryableError(
                network=network,
                network_message=message,
                status=response.status_code,
                outcome_unknown=write,
            )
        error = {"message": message, "code": 0}
    message = str(error.get("error_user_msg") or error.get("message") or "")
    code = int(error.get("code") or 0)
    subcode = int(error.get("error_subcode") or 0)
    status = response.status_code
    if code in AUTH or subcode in {458, 459, 460, 463, 464, 467}:
        raise AuthExpired(network=network, network_message=message, status=status)
    if code in THROTTLING:
        raise RateLimited(
            reset_at=clock.now() + _regain(response),
            network=network,
            network_message=message,
            status=status,
        )
    if code == 9 and subcode == 2207042:
        # Instagram's publishing quota (a rolling 24 hours); Meta does not say when a slot frees.
        raise RateLimited(
            reset_at=clock.now() + timedelta(hours=1),
            network=network,
            network_message=message,
            status=status,
        )
    if code == 506:
        raise Duplicate(network=network, network_message=message, status=status)
    if code == 100 and subcode == 33:
        raise RemoteNotFound(network=network, network_message=message, status=status)
    if code in PERMISSIONS or status == 403:
        raise Forbidden(network=network, network_message=message, status=status)
    if error.get("is_transient") or code in {1, 2} or status >= 500:
        raise RetryableError(
            network=network, network_message=message, status=status, outcome_unknown=write
        )
    raise PermanentError(network=network, network_message=message, status=status)


def transport_error(error: httpx.HTTPError, network: Network, *, write: bool) -> NoReturn:
    # Only a connection that could not be opened surely sent nothing.
    unknown = write and not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
    raise RetryableError(
        network=network, network_message=type(error).__name__, outcome_unknown=unknown
    ) from error


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """One client for every Facebook and Instagram account of the process, so that they share
    their connections, as `http.adapter()` has the requests-based networks do; httpx expires each
    idle one after `http.KEEPALIVE_EXPIRY`. Proxies from the environment (`HTTPS_PROXY`,
    `NO_PROXY`) apply, as to any httpx client. Nothing of an account stays in it: its token goes
    with each request, and no cookie is kept."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(
                headers={"User-Agent": http.USER_AGENT},
                # No cookie kept: one account's would go out with the others' requests.
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
                limits=httpx.Limits(
                    max_connections=None,
                    max_keepalive_connections=http.POOL_MAXSIZE,
                    keepalive_expiry=http.KEEPALIVE_EXPIRY,
                ),
            )
        return _client


class _Graph:
    """A Graph API client for one token: the token (and its appsecret_proof) go in the query of
    reads and in the form body of writes. The accounts share their connections."""

    network: ClassVar[Network]

    def __init__(self, config: AdapterConfig, base_url: str) -> None:
        self.config = config
        self.token = str(config.credentials.get("access_token", ""))
        redact.register(self.token)
        self.base_url = base_url.rstrip("/")
        self.client = shared_client()

    def _auth(self) -> dict[str, str]:
        values = {"access_token": self.token}
        if self.config.client_secret:
            values["appsecret_proof"] = hmac.new(
                self.config.client_secret.encode(), self.token.encode(), hashlib.sha256
            ).hexdigest()
        return values

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        write: bool = False,
    ) -> Any:
        try:
            if method == "GET":
                response = self.client.get(
                    self.base_url + path,
                    params={**(params or {}), **self._auth()},
                    timeout=self.config.timeout,
                )
            else:
                response = self.client.request(
                    method,
                    self.base_url + path,
                    data={**(data or {}), **self._auth()},
                    files=files,
                    timeout=self.config.timeout,
                )
        except httpx.HTTPError as error:
            transport_error(error, self.network, write=write)
        raise_for_error(response, self.network, write=write)
        return response.json()

    def find(self, idempotency_key: str) -> RemotePost | None:
        # Meta keeps no trace of Beffroi's key: compare `recent_posts` instead.
        del idempotency_key
        return None

    def updated_credentials(self) -> dict[str, Any] | None:
        return None


# --- Facebook Pages -------------------------------------------------------------------------------


class FacebookAdapter(_Graph):
    network: ClassVar[Network] = Network.facebook
    max_images: ClassVar[int] = 10

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config, f"{config.api_url}/{config.version}")
        self.page_id = str(config.credentials.get("page_id") or config.remote_id)

    def verify(self) -> Profile:
        body = self.request(
            "GET", f"/{self.page_id}", params={"fields": "id,name,username,followers_count,link"}
        )
        return Profile(
            remote_id=str(body["id"]),
            handle=str(body.get("username") or body["id"]),
            name=str(body.get("name", "")),
            url=body.get("link"),
            followers=body.get("followers_count"),
        )

    def followers(self) -> int:
        body = self.request(
            "GET", f"/{self.page_id}", params={"fields": "followers_count,fan_count"}
        )
        return int(body.get("followers_count") or body.get("fan_count") or 0)

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        # No idempotency key at Meta: the caller reconciles with recent_posts.
        del idempotency_key
        photo_ids = []
        for image in post.images:
            body = self.request(
                "POST",
                f"/{self.page_id}/photos",
                data={"published": "false", "alt_text_custom": image.alt},
                files={"source": ("image", image.data, image.mime)},
            )
            photo_ids.append(str(body["id"]))
        data: dict[str, Any] = {"message": post.text if not photo_ids else post.text_with_link()}
        if post.link and not photo_ids:
            data["link"] = post.link
        for index, photo_id in enumerate(photo_ids):
            data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        body = self.request("POST", f"/{self.page_id}/feed", data=data, write=True)
        post_id = str(body["id"])
        try:
            url = self.request("GET", f"/{post_id}", params={"fields": "permalink_url"}).get(
                "permalink_url"
            )
        except RetryableError:
            url = None  # published: the link can be read again later
        return Published(remote_id=post_id, url=url)

    def delete(self, remote_id: str) -> None:
        self.request("DELETE", f"/{remote_id}")

    def metrics(self, remote_id: str) -> PostMetrics:
        body = self.request(
            "GET",
            f"/{remote_id}",
            params={
                "fields": "shares,reactions.summary(total_count).limit(0),"
                "comments.summary(total_count).limit(0)"
            },
        )
        raw: dict[str, Any] = {"post": body}
        impressions = clicks = None
        try:
            insights = self.request(
                "GET", f"/{remote_id}/insights", params={"metric": "post_impressions,post_clicks"}
            )
        except PermanentError as error:
            # Meta keeps retiring insight metrics (code 100): the counts above still stand.
            raw["insights_error"] = error.network_message
        else:
            values = {item["name"]: item["values"][0]["value"] for item in insights.get("data", [])}
            impressions, clicks = values.get("post_impressions"), values.get("post_clicks")
            raw["insights"] = values
        return PostMetrics(
            impressions=impressions,
            likes=(body.get("reactions") or {}).get("summary", {}).get("total_count"),
            reposts=(body.get("shares") or {}).get("count", 0),
            replies=(body.get("comments") or {}).get("summary", {}).get("total_count"),
            clicks=clicks,
            raw=raw,
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        body = self.request(
            "GET",
            f"/{self.page_id}/posts",
            params={"fields": "id,message,created_time,permalink_url", "limit": min(100, limit)},
        )
        return [
            RemotePost(
                remote_id=str(item["id"]),
                url=item.get("permalink_url"),
                text=str(item.get("message", "")),
                created_at=http.parse_time(item.get("created_time")),
            )
            for item in body.get("data", [])[:limit]
        ]

    def refresh(self) -> RefreshedCredentials | None:
        # A Page token obtained from a long-lived user token does not expire.
        return None


# --- Instagram ------------------------------------------------------------------------------------


class InstagramAdapter(_Graph):
    network: ClassVar[Network] = Network.instagram
    max_images: ClassVar[int] = 10
    # How long to wait for Meta to process a container before publishing it.
    CONTAINER_POLLS = 10
    CONTAINER_PAUSE = 1.0

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config, f"{config.api_url}/{config.version}")
        self.user_id = str(config.credentials.get("user_id") or config.remote_id)

    def verify(self) -> Profile:
        body = self.request(
            "GET", "/me", params={"fields": "user_id,username,name,followers_count"}
        )
        username = str(body.get("username", ""))
        return Profile(
            remote_id=str(body.get("user_id") or body["id"]),
            handle=username,
            name=str(body.get("name") or username),
            url=f"{self.config.web_url}/{username}" if username else None,
            followers=body.get("followers_count"),
        )

    def followers(self) -> int:
        body = self.request("GET", f"/{self.user_id}", params={"fields": "followers_count"})
        return int(body.get("followers_count") or 0)

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        del idempotency_key
        if not post.images:
            raise PermanentError(
                N_("Instagram ne publie pas de texte seul : ajoutez au moins une image."),
                network=self.network,
            )
        if any(image.url is None for image in post.images):
            raise PermanentError(
                N_(
                    "Instagram télécharge lui-même les images : elles doivent avoir une adresse "
                    "publique (vérifiez BEFFROI_PUBLIC_URL)."
                ),
                network=self.network,
            )
        self._check_quota()
        caption = post.text_with_link()
        if len(post.images) == 1:
            image = post.images[0]
            container = self._container(
                {"image_url": image.url, "caption": caption, "alt_text": image.alt}
            )
        else:
            children = [
                self._container(
                    {"image_url": image.url, "is_carousel_item": "true", "alt_text": image.alt}
                )
                for image in post.images
            ]
            container = self._container(
                {"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption}
            )
        self._wait(container)
        body = self.request(
            "POST", f"/{self.user_id}/media_publish", data={"creation_id": container}, write=True
        )
        media_id = str(body["id"])
        try:
            url = self.request("GET", f"/{media_id}", params={"fields": "permalink"}).get(
                "permalink"
            )
        except RetryableError:
            url = None
        return Published(remote_id=media_id, url=url)

    def _check_quota(self) -> None:
        body = self.request(
            "GET",
            f"/{self.user_id}/content_publishing_limit",
            params={"fields": "quota_usage,config"},
        )
        for item in body.get("data", []):
            total = (item.get("config") or {}).get("quota_total")
            if total is not None and int(item.get("quota_usage") or 0) >= int(total):
                raise RateLimited(
                    reset_at=clock.now() + timedelta(hours=1),
                    network=self.network,
                    network_message=f"quota_usage {item.get('quota_usage')}/{total} (24 h)",
                )

    def _container(self, data: dict[str, Any]) -> str:
        return str(self.request("POST", f"/{self.user_id}/media", data=data)["id"])

    def _wait(self, container: str) -> None:
        for _ in range(self.CONTAINER_POLLS):
            status = self.request("GET", f"/{container}", params={"fields": "status_code"}).get(
                "status_code"
            )
            if status in {"FINISHED", "PUBLISHED"}:
                return
            if status in {"ERROR", "EXPIRED"}:
                raise PermanentError(network=self.network, network_message=f"container {status}")
            time.sleep(self.CONTAINER_PAUSE)
        raise RetryableError(network=self.network, network_message="container still IN_PROGRESS")

    def delete(self, remote_id: str) -> None:
        del remote_id
        raise Unsupported(
            N_(
                "Instagram ne permet pas de supprimer une publication par son API : supprimez-la "
                "depuis l'application Instagram."
            ),
            network=self.network,
        )

    def metrics(self, remote_id: str) -> PostMetrics:
        body = self.request("GET", f"/{remote_id}", params={"fields": "like_count,comments_count"})
        raw: dict[str, Any] = {"media": body}
        values: dict[str, Any] = {}
        try:
            insights = self.request(
                "GET",
                f"/{remote_id}/insights",
                params={"metric": "views,reach,shares,saved,total_interactions"},
            )
            values = {item["name"]: item["values"][0]["value"] for item in insights.get("data", [])}
            raw["insights"] = values
        except PermanentError as error:
            raw["insights_error"] = error.network_message
        return PostMetrics(
            impressions=values.get("views"),
            likes=body.get("like_count"),
            reposts=values.get("shares"),
            replies=body.get("comments_count"),
            clicks=None,
            raw=raw,
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        body = self.request(
            "GET",
            f"/{self.user_id}/media",
            params={"fields": "id,caption,timestamp,permalink", "limit": min(100, limit)},
        )
        return [
            RemotePost(
                remote_id=str(item["id"]),
                url=item.get("permalink"),
                text=str(item.get("caption", "")),
                created_at=http.parse_time(item.get("timestamp")),
            )
            for item in body.get("data", [])[:limit]
        ]

    def refresh(self) -> RefreshedCredentials | None:
        # Long-lived Instagram tokens last 60 days and are renewed by this call.
        try:
            response = httpx.get(
                f"{self.config.api_url}/refresh_access_token",
                params={"grant_type": "ig_refresh_token", "access_token": self.token},
                timeout=self.config.timeout,
                headers={"User-Agent": http.USER_AGENT},
            )
        except httpx.HTTPError as error:
            transport_error(error, self.network, write=False)
        raise_for_error(response, self.network)
        body = response.json()
        return _credentials(
            {**self.config.credentials, "access_token": body["access_token"]},
            body.get("expires_in"),
        )


def _credentials(credentials: dict[str, Any], expires_in: Any) -> RefreshedCredentials:
    redact.register(credentials.get("access_token"))
    return RefreshedCredentials(
        credentials={k: str(v) for k, v in credentials.items()},
        expires_at=clock.now() + timedelta(seconds=int(expires_in)) if expires_in else None,
    )


# --- OAuth ----------------------------------------------------------------------------------------


def _get(url: str, params: dict[str, Any], network: Network, timeout: float) -> Any:
    try:
        response = httpx.get(
            url, params=params, timeout=timeout, headers={"User-Agent": http.USER_AGENT}
        )
    except httpx.HTTPError as error:
        transport_error(error, network, write=False)
    raise_for_error(response, network)
    return response.json()


def facebook_authorization_url(config: AdapterConfig, *, redirect_uri: str, state: str) -> str:
    query = httpx.QueryParams(
        {
            "client_id": config.client_id or "",
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(FACEBOOK_SCOPES),
        }
    )
    return f"{config.urls.get('dialog', 'https://www.facebook.com')}/{config.version}/dialog/oauth?{query}"


def facebook_pages(config: AdapterConfig, *, redirect_uri: str, code: str) -> list[dict[str, str]]:
    """Exchange the code for a long-lived user token, then list the Pages it manages with their
    Page tokens (which do not expire)."""
    base = f"{config.api_url}/{config.version}"
    app = {"client_id": config.client_id, "client_secret": config.client_secret}
    short = _get(
        f"{base}/oauth/access_token",
        {**app, "redirect_uri": redirect_uri, "code": code},
        Network.facebook,
        config.timeout,
    )
    redact.register(short.get("access_token"))
    long = _get(
        f"{base}/oauth/access_token",
        {**app, "grant_type": "fb_exchange_token", "fb_exchange_token": short["access_token"]},
        Network.facebook,
        config.timeout,
    )
    redact.register(long.get("access_token"))
    pages = _get(
        f"{base}/me/accounts",
        {"access_token": long["access_token"], "fields": "id,name,username,access_token"},
        Network.facebook,
        config.timeout,
    )
    found = []
    for page in pages.get("data", []):
        redact.register(page.get("access_token"))
        found.append(
            {
                "id": str(page["id"]),
                "name": str(page.get("name", "")),
                "handle": str(page.get("username") or page["id"]),
                "access_token": str(page["access_token"]),
            }
        )
    return found


def instagram_authorization_url(config: AdapterConfig, *, redirect_uri: str, state: str) -> str:
    query = httpx.QueryParams(
        {
            "client_id": config.client_id or "",
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(INSTAGRAM_SCOPES),
        }
    )
    return f"{config.urls.get('authorize', 'https://www.instagram.com')}/oauth/authorize?{query}"


def instagram_exchange(
    config: AdapterConfig, *, redirect_uri: str, code: str
) -> RefreshedCredentials:
    """Code → short-lived token (1 h) → long-lived token (60 days, refreshable)."""
    network = Network.instagram
    try:
        response = httpx.post(
            f"{config.urls.get('oauth', 'https://api.instagram.com')}/oauth/access_token",
            data={
                "client_id": config.client_id,
                "client_secret": config.client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
            timeout=config.timeout,
            headers={"User-Agent": http.USER_AGENT},
        )
    except httpx.HTTPError as error:
        transport_error(error, network, write=False)
    body = http.json_body(response.content)
    if not response.is_success or not isinstance(body, dict):
        message = (
            str((body or {}).get("error_message") or response.text[:300])
            if isinstance(body, dict | None)
            else response.text[:300]
        )
        raise AuthExpired(network=network, network_message=message, status=response.status_code)
    if isinstance(body.get("data"), list) and body["data"]:
        body = body["data"][0]
    redact.register(body.get("access_token"))
    long = _get(
        f"{config.api_url}/access_token",
        {
            "grant_type": "ig_exchange_token",
            "client_secret": config.client_secret,
            "access_token": body["access_token"],
        },
        network,
        config.timeout,
    )
    return _credentials(
        {"access_token": long["access_token"], "user_id": str(body["user_id"])},
        long.get("expires_in"),
    )
