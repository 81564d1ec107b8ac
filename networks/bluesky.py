"""Bluesky through atproto: handle and app password (the session is kept, encrypted, to spare
createSession's limits), posts in French with facets for links and hashtags, images with alt
text, and a record key derived from the caller's idempotency key, so that a retried attempt
collides with itself instead of publishing twice.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlsplit

from atproto import Client, models
from atproto_client.client.session import SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request
from atproto_client.utils import facet_detection
from atproto_core.exceptions import AtProtocolError
from atproto_core.uri import AtUri

from core.accounts.models import Network
from networks import http, redact
from networks.base import (
    AuthExpired,
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

POST = "app.bsky.feed.post"
S32 = "234567abcdefghijklmnopqrstuvwxyz"
# Record keys are TIDs (a timestamp in microseconds and a clock id): Beffroi's are derived from
# the idempotency key, with a timestamp after this moment so they sort like real ones.
TID_EPOCH_US = 1_600_000_000_000_000


def record_key(idempotency_key: str) -> str:
    """The TID Beffroi uses as record key for an attempt: always the same for the same key."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    timestamp = TID_EPOCH_US + (digest >> 14) % (1 << 50)
    value = (timestamp << 10) | (digest & 0x3FF)
    value &= (1 << 63) - 1
    return "".join(S32[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _error_name(error: RequestErrorBase) -> tuple[str, str]:
    content = error.response.content if error.response is not None else None
    name = getattr(content, "error", None) or ""
    message = getattr(content, "message", None) or ""
    if not name and isinstance(content, bytes | str):
        message = str(content)[:300]
    return str(name), str(message)


def map_error(error: Exception, *, write: bool = False) -> NoReturn:
    net = Network.bluesky
    if isinstance(error, RateLimitExceededError):
        headers = error.response.headers if error.response is not None else {}
        reset = http.epoch(headers.get("ratelimit-reset")) or http.retry_after(headers, 300)
        raise RateLimited(
            reset_at=reset, network=net, network_message=str(error), status=429
        ) from error
    if isinstance(error, InvokeTimeoutError):
        raise RetryableError(
            network=net, network_message="timeout", outcome_unknown=write
        ) from error
    if isinstance(error, LoginRequiredError):
        raise AuthExpired(network=net, network_message=str(error)) from error
    if isinstance(error, RequestErrorBase):
        status = error.response.status_code if error.response is not None else None
        name, message = _error_name(error)
        text = f"{name}: {message}".strip(": ") or str(error)
        if isinstance(error, UnauthorizedError):
            if status == 403:
                raise Forbidden(network=net, network_message=text, status=status) from error
            raise AuthExpired(network=net, network_message=text, status=status) from error
        if isinstance(error, BadRequestError):
            if name in {
                "ExpiredToken",
                "InvalidToken",
                "AuthenticationRequired",
                "AccountTakedown",
            }:
                raise AuthExpired(network=net, network_message=text, status=status) from error
            if name in {"RecordNotFound", "NotFound", "RepoNotFound"}:
                raise RemoteNotFound(network=net, network_message=text, status=status) from error
            raise PermanentError(network=net, network_message=text, status=status) from error
        if status is None or status >= 500 or (isinstance(error, NetworkError) and status == 502):
            raise RetryableError(
                network=net, network_message=text, status=status, outcome_unknown=write
            ) from error
        if status == 404:
            raise RemoteNotFound(network=net, network_message=text, status=status) from error
        raise PermanentError(network=net, network_message=text, status=status) from error
    if isinstance(error, AtProtocolError):
        raise PermanentError(network=net, network_message=str(error)) from error
    raise error


class BlueskyAdapter:
    network: ClassVar[Network] = Network.bluesky
    max_images: ClassVar[int] = 4

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        credentials = config.credentials
        self.identifier = str(credentials.get("identifier") or credentials.get("handle") or "")
        self.password = str(credentials.get("app_password") or "")
        self.session = credentials.get("session")
        redact.register(self.password)
        if self.session:
            # handle:::did:::access JWT:::refresh JWT:::PDS URL; only the tokens are secret.
            redact.register(*str(self.session).split(":::")[2:4])
        self.client = Client(base_url=config.api_url, request=Request(timeout=config.timeout))
        self.client.on_session_change(self._session_changed)
        self._changed: str | None = None
        self._did: str | None = None
        self._handle: str | None = None

    def _session_changed(self, event: SessionEvent, session: Any) -> None:
        if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
            value = session.export()
            redact.register(session.access_jwt, session.refresh_jwt)
            self._changed = value

    def _login(self, *, fresh: bool = False) -> None:
        if self._did and not fresh:
            return
        try:
            if self.session and not fresh:
                self.client.login(session_string=str(self.session), fetch_bsky_profile=False)
            else:
                self.client.login(self.identifier, self.password, fetch_bsky_profile=False)
        except Exception as error:
            # A stored session refused: log in again with the app password, once. Not after a
            # rate limit, which would only be met again.
            if (
                self.session
                and not fresh
                and isinstance(error, RequestErrorBase)
                and not isinstance(error, RateLimitExceededError)
            ):
                self.session = None
                return self._login(fresh=True)
            map_error(error)
        session = self.client._session
        assert session is not None
        self._did, self._handle = session.did, session.handle

    def _call(self, fn: Any, *, write: bool = False) -> Any:
        """Run `fn` logged in; a stored session the server no longer accepts is replaced by a new
        one (app password) once."""
        self._login()
        try:
            return fn()
        except (UnauthorizedError, BadRequestError) as error:
            name, _ = _error_name(error)
            if self.session and name in {"ExpiredToken", "InvalidToken"}:
                self.session = None
                self._login(fresh=True)
                try:
                    return fn()
                except Exception as retry_error:
                    map_error(retry_error, write=write)
            map_error(error, write=write)
        except Exception as error:
            map_error(error, write=write)

    @property
    def did(self) -> str:
        self._login()
        assert self._did is not None
        return self._did

    # --- reading ----------------------------------------------------------------------------------

    def verify(self) -> Profile:
        profile = self._call(lambda: self.client.get_profile(self.did))
        return Profile(
            remote_id=str(profile.did),
            handle=str(profile.handle),
            name=str(profile.display_name or profile.handle),
            url=f"{self.config.web_url}/profile/{profile.handle}",
            followers=profile.followers_count,
        )

    def followers(self) -> int:
        return int(self.verify().followers or 0)

    def metrics(self, remote_id: str) -> PostMetrics:
        response = self._call(lambda: self.client.get_posts([remote_id]))
        if not response.posts:
            raise RemoteNotFound(network=self.network, network_message=remote_id)
        post = response.posts[0]
        return PostMetrics(
            impressions=None,
            likes=post.like_count,
            reposts=(post.repost_count or 0) + (post.quote_count or 0),
            replies=post.reply_count,
            clicks=None,
            raw={
                "likeCount": post.like_count,
                "repostCount": post.repost_count,
                "replyCount": post.reply_count,
                "quoteCount": post.quote_count,
            },
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        # The author feed is in time order (Beffroi's record keys are not: they derive from the
        # idempotency keys, so the repository's own listing would not be).
        response = self._call(
            lambda: self.client.get_author_feed(
                self.did, filter="posts_no_replies", limit=min(100, limit)
            )
        )
        posts = []
        for item in response.feed[:limit]:
            post = item.post
            if post.author.did != self.did:
                continue  # a repost
            rkey = AtUri.from_str(post.uri).rkey
            posts.append(
                RemotePost(
                    remote_id=post.uri,
                    url=self._url(rkey),
                    text=str(getattr(post.record, "text", "")),
                    created_at=http.parse_time(getattr(post.record, "created_at", None)),
                    marker=rkey,
                )
            )
        return posts

    def find(self, idempotency_key: str) -> RemotePost | None:
        rkey = record_key(idempotency_key)
        try:
            record = self._call(lambda: self.client.app.bsky.feed.post.get(self.did, rkey))
        except RemoteNotFound:
            return None
        return RemotePost(
            remote_id=str(record.uri),
            url=self._url(rkey),
            text=str(getattr(record.value, "text", "")),
            created_at=http.parse_time(getattr(record.value, "created_at", None)),
            marker=rkey,
        )

    # --- writing ----------------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        rkey = record_key(idempotency_key)
        text = post.text_with_link() if post.images else post.text
        embed: Any = None
        if post.images:
            images = []
            for image in post.images:
                blob = self._call(
                    lambda image=image: self.client.com.atproto.repo.upload_blob(
                        image.data, headers={"Content-Type": image.mime}
                    )
                ).blob
                ratio = (
                    models.AppBskyEmbedDefs.AspectRatio(width=image.width, height=image.height)
                    if image.width and image.height
                    else None
                )
                images.append(
                    models.AppBskyEmbedImages.Image(alt=image.alt, image=blob, aspect_ratio=ratio)
                )
            embed = models.AppBskyEmbedImages.Main(images=images)
        elif post.link:
            embed = models.AppBskyEmbedExternal.Main(
                external=models.AppBskyEmbedExternal.External(
                    uri=post.link, title=urlsplit(post.link).netloc or post.link, description=""
                )
            )
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=self.client.get_current_time_iso(),
            langs=["fr"],
            facets=facet_detection.detect_facets(text) or None,
            embed=embed,
        )
        try:
            created = self._call(
                lambda: self.client.app.bsky.feed.post.create(self.did, record, rkey=rkey),
                write=True,
            )
        except PermanentError:
            # The record key may already be taken by this very attempt (its answer was lost):
            # then the post is out, and this is its success.
            existing = self._existing(idempotency_key)
            if existing is None:
                raise
            return existing
        return Published(remote_id=str(created.uri), url=self._url(rkey))

    def _existing(self, idempotency_key: str) -> Published | None:
        found = self.find(idempotency_key)
        return Published(remote_id=found.remote_id, url=found.url) if found else None

    def delete(self, remote_id: str) -> None:
        self._call(lambda: self.client.delete_post(remote_id))

    # --- tokens -----------------------------------------------------------------------------------

    def refresh(self) -> RefreshedCredentials | None:
        """A new session from the app password (which does not expire)."""
        self._login(fresh=True)
        credentials = self.updated_credentials() or dict(self.config.credentials)
        return RefreshedCredentials(credentials=credentials, expires_at=None)

    def updated_credentials(self) -> dict[str, Any] | None:
        if self._changed is None or self._changed == self.config.credentials.get("session"):
            return None
        return {
            "identifier": self.identifier,
            "app_password": self.password,
            "session": self._changed,
        }

    def _url(self, rkey: str) -> str:
        return f"{self.config.web_url}/profile/{self._handle or self.identifier}/post/{rkey}"
