"""Mastodon through Mastodon.py: `ratelimit_method="throw"` (never sleep in a worker),
Idempotency-Key on statuses, media v2 with alt text, language "fr".

Mastodon.py picks the media endpoint from the server version it believes in; it is told 4.3.0
with `version_check_mode="created"`, so that it uses /api/v2/media without asking first
(reference/networks.md §5.2).
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlsplit

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from core import clock
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

SCOPES = ["read", "write:statuses", "write:media"]
SERVER_VERSION = "4.3.0"
TAGS = re.compile(r"<[^>]+>")


def _message(error: MastodonError) -> str:
    args = [str(a) for a in error.args if a is not None]
    # ('Mastodon API returned error', status, reason, message)
    return args[-1] if len(args) >= 4 else "; ".join(args)


def map_error(error: Exception, api: Mastodon | None = None, *, write: bool = False) -> NoReturn:
    net = Network.mastodon
    if isinstance(error, MastodonRatelimitError):
        # Mastodon.py keeps the X-RateLimit-Reset it read (epoch seconds, local clock).
        reset = http.epoch(getattr(api, "ratelimit_reset", None)) if api is not None else None
        if reset is None or reset <= clock.now():
            reset = clock.now() + timedelta(minutes=5)
        raise RateLimited(
            reset_at=reset,
            network=net,
            network_message=_message(error),
            status=429,
        ) from error
    if isinstance(error, MastodonUnauthorizedError):
        raise AuthExpired(network=net, network_message=_message(error), status=401) from error
    if isinstance(error, MastodonNotFoundError):
        raise RemoteNotFound(network=net, network_message=_message(error), status=404) from error
    if isinstance(error, MastodonServerError):
        raise RetryableError(
            network=net, network_message=_message(error), outcome_unknown=write
        ) from error
    if isinstance(error, MastodonNetworkError):
        text = str(error)
        unknown = (
            write
            and "ConnectTimeout" not in text
            and "NewConnectionError" not in text
            and "Connection refused" not in text
        )
        raise RetryableError(
            network=net, network_message=type(error).__name__, outcome_unknown=unknown
        ) from error
    if isinstance(error, MastodonAPIError):
        status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
        if status == 403:
            raise Forbidden(network=net, network_message=_message(error), status=403) from error
        raise PermanentError(network=net, network_message=_message(error), status=status) from error
    if isinstance(error, MastodonIllegalArgumentError):
        raise AuthExpired(network=net, network_message=str(error)) from error
    if isinstance(error, MastodonError):
        raise PermanentError(network=net, network_message=str(error)) from error
    raise error


def client(config: AdapterConfig, **kwargs: Any) -> Mastodon:
    return Mastodon(
        api_base_url=config.api_url,
        ratelimit_method="throw",
        request_timeout=config.timeout,
        mastodon_version=SERVER_VERSION,
        version_check_mode="created",
        session=http.session(timeout=config.timeout),
        user_agent=http.USER_AGENT,
        **kwargs,
    )


def _text(content: str) -> str:
    return html.unescape(TAGS.sub("", content.replace("</p><p>", "\n\n").replace("<br>", "\n")))


class MastodonAdapter:
    network: ClassVar[Network] = Network.mastodon
    max_images: ClassVar[int] = 4
    MEDIA_POLLS = 10
    MEDIA_PAUSE = 0.5

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        token = str(config.credentials.get("access_token", ""))
        redact.register(token, config.credentials.get("client_secret"))
        self.api = client(config, access_token=token)

    def verify(self) -> Profile:
        return replace(self._me(), max_characters=self._max_characters())

    def _me(self) -> Profile:
        try:
            me = self.api.account_verify_credentials()
        except Exception as error:
            map_error(error, self.api)
        host = urlsplit(self.config.api_url).netloc
        return Profile(
            remote_id=str(me["id"]),
            handle=f"{me['acct']}@{host}" if "@" not in me["acct"] else str(me["acct"]),
            name=str(me.get("display_name") or me["username"]),
            url=me.get("url"),
            followers=me.get("followers_count"),
        )

    def _max_characters(self) -> int | None:
        """The instance's limit (`configuration.statuses.max_characters`); None when the
        instance does not say (the rules then use Mastodon's default, 500)."""
        try:
            instance = self.api.instance()
        except Exception as error:
            map_error(error, self.api)
        configuration = instance.get("configuration") or {}
        limit = (configuration.get("statuses") or {}).get("max_characters")
        return int(limit) if isinstance(limit, int) and limit > 0 else None

    def followers(self) -> int:
        return int(self._me().followers or 0)

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        media = []
        try:
            for image in post.images:
                attachment = self.api.media_post(
                    image.data, mime_type=image.mime, description=image.alt or None
                )
                media.append(self._processed(attachment))
            status = self.api.status_post(
                post.text_with_link(),
                media_ids=media or None,
                visibility="public",
                language="fr",
                idempotency_key=idempotency_key,
            )
        except (PermanentError, RetryableError):
            raise
        except Exception as error:
            map_error(error, self.api, write=True)
        return Published(remote_id=str(status["id"]), url=status.get("url"))

    def _processed(self, attachment: Any) -> Any:
        # Images are usually processed at once (200); a 202 comes back without a URL yet, and
        # a status attached to it would be refused until processing ends.
        for _ in range(self.MEDIA_POLLS):
            if attachment.get("url"):
                return attachment
            time.sleep(self.MEDIA_PAUSE)
            attachment = self.api.media(attachment)
        raise RetryableError(network=self.network, network_message="media still processing")

    def delete(self, remote_id: str) -> None:
        try:
            self.api.status_delete(remote_id)
        except Exception as error:
            map_error(error, self.api)

    def metrics(self, remote_id: str) -> PostMetrics:
        try:
            status = self.api.status(remote_id)
        except Exception as error:
            map_error(error, self.api)
        return PostMetrics(
            impressions=None,
            likes=status.get("favourites_count"),
            reposts=status.get("reblogs_count"),
            replies=status.get("replies_count"),
            clicks=None,
            raw={
                "favourites_count": status.get("favourites_count"),
                "reblogs_count": status.get("reblogs_count"),
                "replies_count": status.get("replies_count"),
            },
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        try:
            statuses = self.api.account_statuses(self.config.remote_id, limit=min(40, limit))
        except Exception as error:
            map_error(error, self.api)
        posts = []
        for status in statuses[:limit]:
            created = status.get("created_at")
            posts.append(
                RemotePost(
                    remote_id=str(status["id"]),
                    url=status.get("url"),
                    text=_text(str(status.get("content", ""))),
                    created_at=created.astimezone(UTC) if isinstance(created, datetime) else None,
                )
            )
        return posts

    def refresh(self) -> RefreshedCredentials | None:
        # Mastodon tokens last until revoked.
        return None

    def find(self, idempotency_key: str) -> RemotePost | None:
        # The network keeps no trace of Beffroi's key: compare `recent_posts` instead.
        del idempotency_key
        return None

    def updated_credentials(self) -> dict[str, Any] | None:
        return None


# --- app registration and OAuth ---------------------------------------------------------------


def register_app(
    config: AdapterConfig, *, redirect_uri: str, website: str, name: str
) -> tuple[str, str]:
    """Register Beffroi on the instance: (client_id, client_secret)."""
    try:
        client_id, client_secret = Mastodon.create_app(
            name,
            scopes=SCOPES,
            redirect_uris=redirect_uri,
            website=website,
            api_base_url=config.api_url,
            request_timeout=config.timeout,
            session=http.session(timeout=config.timeout),
            user_agent=http.USER_AGENT,
        )
    except KeyError as error:
        raise PermanentError(
            network=Network.mastodon,
            network_message=f"ce serveur n'a pas enregistré l'application ({error})",
        ) from error
    except Exception as error:
        map_error(error)
    redact.register(client_secret)
    return str(client_id), str(client_secret)


def authorization_url(
    config: AdapterConfig,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    state: str,
    allow_http: bool,
) -> str:
    api = client(config, client_id=client_id, client_secret=client_secret)
    try:
        return str(
            api.auth_request_url(
                redirect_uris=redirect_uri,
                scopes=SCOPES,
                state=state,
                lang="fr",
                allow_http=allow_http,
            )
        )
    except Exception as error:
        map_error(error, api)


def exchange_code(
    config: AdapterConfig,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    allow_http: bool,
) -> dict[str, str]:
    api = client(config, client_id=client_id, client_secret=client_secret)
    try:
        token = api.log_in(
            code=code, redirect_uri=redirect_uri, scopes=SCOPES, allow_http=allow_http
        )
    except Exception as error:
        map_error(error, api)
    redact.register(token)
    return {"access_token": str(token), "client_id": client_id, "client_secret": client_secret}
