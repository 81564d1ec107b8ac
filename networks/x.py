"""X through tweepy: API v2 `create_tweet` with an OAuth 2.0 user token, images through the v2
media upload (tweepy's Client has no media methods; the calls go through tweepy's own session, as
reference/networks.md §1.2 explains), alt text through /2/media/metadata.

tweepy hard-codes https://api.twitter.com: a transport adapter mounted on its session sends the
requests to `BEFFROI_X_API_URL` (or the sandbox) instead.
"""

from __future__ import annotations

import mimetypes
from datetime import timedelta
from typing import Any, ClassVar, NoReturn

import requests
import tweepy
from requests_oauthlib import OAuth2Session

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

OFFICIAL_API = "https://api.twitter.com"
OFFICIAL_AUTHORIZE = "https://twitter.com"
TOKEN_URL = f"{OFFICIAL_API}/2/oauth2/token"
SCOPES = ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]


def _messages(error: tweepy.HTTPException) -> str:
    return "; ".join(str(m) for m in error.api_messages) or str(error)


def map_error(error: Exception, *, write: bool = False) -> NoReturn:
    """Raise the domain error for whatever tweepy or requests raised."""
    net = Network.x
    if isinstance(error, tweepy.TooManyRequests):
        reset = http.epoch(error.response.headers.get("x-rate-limit-reset"))
        raise RateLimited(
            reset_at=reset or clock.now() + timedelta(minutes=15),
            network=net,
            network_message=_messages(error),
            status=429,
        ) from error
    if isinstance(error, tweepy.Unauthorized):
        raise AuthExpired(network=net, network_message=_messages(error), status=401) from error
    if isinstance(error, tweepy.Forbidden):
        message = _messages(error)
        if "duplicate" in message.lower():
            raise Duplicate(network=net, network_message=message, status=403) from error
        raise Forbidden(network=net, network_message=message, status=403) from error
    if isinstance(error, tweepy.NotFound):
        raise RemoteNotFound(network=net, network_message=_messages(error), status=404) from error
    if isinstance(error, tweepy.TwitterServerError):
        raise RetryableError(
            network=net,
            network_message=_messages(error),
            status=error.response.status_code,
            outcome_unknown=write,
        ) from error
    if isinstance(error, tweepy.HTTPException):
        raise PermanentError(
            network=net, network_message=_messages(error), status=error.response.status_code
        ) from error
    if isinstance(error, requests.exceptions.ConnectTimeout):
        raise RetryableError(
            network=net, network_message="connexion impossible (délai dépassé)"
        ) from error
    if isinstance(error, requests.exceptions.RequestException):
        raise RetryableError(
            network=net, network_message=type(error).__name__, outcome_unknown=write
        ) from error
    raise error


class XAdapter:
    network: ClassVar[Network] = Network.x
    max_images: ClassVar[int] = 4

    def __init__(self, config: AdapterConfig) -> None:
        self.config = config
        self.token = str(config.credentials.get("access_token", ""))
        redact.register(self.token, config.credentials.get("refresh_token"))
        self.client = tweepy.Client(bearer_token=self.token, wait_on_rate_limit=False)
        self.redirects = {OFFICIAL_API: config.api_url}
        http.mount(self.client.session, timeout=config.timeout, redirects=self.redirects)

    # --- reading ----------------------------------------------------------------------------------

    def verify(self) -> Profile:
        try:
            response = self.client.get_me(
                user_auth=False, user_fields=["public_metrics", "username", "name"]
            )
        except Exception as error:
            map_error(error)
        user = response.data
        metrics = user.public_metrics or {}
        return Profile(
            remote_id=str(user.id),
            handle=str(user.username),
            name=str(user.name),
            url=f"{self.config.web_url}/{user.username}",
            followers=metrics.get("followers_count"),
        )

    def followers(self) -> int:
        followers = self.verify().followers
        return int(followers or 0)

    def metrics(self, remote_id: str) -> PostMetrics:
        fields = ["public_metrics", "non_public_metrics"]
        try:
            try:
                response = self.client.get_tweet(remote_id, tweet_fields=fields, user_auth=False)
            except tweepy.Forbidden:
                # Non-public metrics exist for recent posts of the account only.
                response = self.client.get_tweet(
                    remote_id, tweet_fields=["public_metrics"], user_auth=False
                )
        except Exception as error:
            map_error(error)
        if response.data is None:
            detail = "; ".join(str(e.get("detail", "")) for e in response.errors or [])
            raise RemoteNotFound(network=Network.x, network_message=detail, status=404)
        public = response.data.public_metrics or {}
        private = response.data.non_public_metrics or {}
        return PostMetrics(
            impressions=public.get("impression_count", private.get("impression_count")),
            likes=public.get("like_count"),
            reposts=(public.get("retweet_count") or 0) + (public.get("quote_count") or 0),
            replies=public.get("reply_count"),
            clicks=private.get("url_link_clicks"),
            raw={"public_metrics": dict(public), "non_public_metrics": dict(private)},
        )

    def recent_posts(self, *, limit: int = 20) -> list[RemotePost]:
        try:
            response = self.client.get_users_tweets(
                self.config.remote_id,
                max_results=max(5, min(100, limit)),
                tweet_fields=["created_at"],
                user_auth=False,
            )
        except Exception as error:
            map_error(error)
        return [
            RemotePost(
                remote_id=str(tweet.id),
                url=self._url(str(tweet.id)),
                text=str(tweet.text),
                created_at=tweet.created_at,
            )
            for tweet in (response.data or [])[:limit]
        ]

    # --- writing ----------------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, *, idempotency_key: str) -> Published:
        # X has no idempotency key: a retry of an attempt whose outcome is unknown must first
        # look for the post with `recent_posts`.
        del idempotency_key
        media_ids = [self._upload(image.data, image.mime, image.alt) for image in post.images]
        try:
            response = self.client.create_tweet(
                text=post.text_with_link(), media_ids=media_ids or None, user_auth=False
            )
        except Exception as error:
            map_error(error, write=True)
        tweet_id = str(response.data["id"])
        return Published(remote_id=tweet_id, url=self._url(tweet_id))

    def _upload(self, data: bytes, mime: str, alt: str) -> str:
        extension = mimetypes.guess_extension(mime) or ".bin"
        try:
            response = self.client.session.post(
                f"{OFFICIAL_API}/2/media/upload",
                files={"media": (f"image{extension}", data, mime)},
                data={"media_category": "tweet_image", "media_type": mime},
                headers=self._headers(),
            )
            self._check(response)
            media_id = str(response.json()["data"]["id"])
            if alt:
                response = self.client.session.post(
                    f"{OFFICIAL_API}/2/media/metadata",
                    json={"id": media_id, "metadata": {"alt_text": {"text": alt[:1000]}}},
                    headers=self._headers(),
                )
                self._check(response)
        except (KeyError, ValueError, TypeError) as error:
            raise PermanentError(
                network=Network.x, network_message=f"réponse inattendue : {error}"
            ) from error
        except Exception as error:
            map_error(error)
        return media_id

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "User-Agent": self.client.user_agent}

    @staticmethod
    def _check(response: requests.Response) -> None:
        # The same classes tweepy raises for its own calls, so one mapping serves both.
        status = response.status_code
        if 200 <= status < 300:
            return
        classes: dict[int, type[tweepy.HTTPException]] = {
            400: tweepy.BadRequest,
            401: tweepy.Unauthorized,
            403: tweepy.Forbidden,
            404: tweepy.NotFound,
        }
        if status == 429:
            raise tweepy.TooManyRequests(response)
        if status >= 500:
            raise tweepy.TwitterServerError(response)
        raise classes.get(status, tweepy.HTTPException)(response)

    def delete(self, remote_id: str) -> None:
        try:
            response = self.client.delete_tweet(remote_id, user_auth=False)
        except Exception as error:
            map_error(error)
        if not (response.data or {}).get("deleted"):
            raise RemoteNotFound(network=Network.x, network_message="deleted: false", status=200)

    # --- tokens -----------------------------------------------------------------------------------

    def refresh(self) -> RefreshedCredentials | None:
        refresh_token = self.config.credentials.get("refresh_token")
        if not refresh_token:
            return None
        handler = oauth_handler(self.config, redirect_uri="")
        try:
            token = handler.refresh_token(
                TOKEN_URL,
                refresh_token=refresh_token,
                auth=handler.auth,
                client_id=handler.client_id,
            )
        except Exception as error:
            raise oauth_error(error) from error
        return refreshed(token, previous=self.config.credentials)

    def find(self, idempotency_key: str) -> RemotePost | None:
        # The network keeps no trace of Beffroi's key: compare `recent_posts` instead.
        del idempotency_key
        return None

    def updated_credentials(self) -> dict[str, Any] | None:
        return None

    def _url(self, tweet_id: str) -> str:
        return f"{self.config.web_url}/{self.config.handle or 'i'}/status/{tweet_id}"


# --- OAuth 2.0 with PKCE ------------------------------------------------------------------------


def oauth_handler(config: AdapterConfig, *, redirect_uri: str) -> tweepy.OAuth2UserHandler:
    handler = tweepy.OAuth2UserHandler(
        client_id=config.client_id,
        redirect_uri=redirect_uri,
        scope=SCOPES,
        client_secret=config.client_secret or None,
    )
    http.mount(
        handler,
        timeout=config.timeout,
        redirects={OFFICIAL_API: config.api_url},
    )
    return handler


def refreshed(
    token: dict[str, Any], *, previous: dict[str, Any] | None = None
) -> RefreshedCredentials:
    credentials = {"access_token": str(token["access_token"])}
    refresh_token = token.get("refresh_token") or (previous or {}).get("refresh_token")
    if refresh_token:
        credentials["refresh_token"] = str(refresh_token)
    redact.register(*credentials.values())
    expires_in = token.get("expires_in")
    expires_at = clock.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    return RefreshedCredentials(credentials=credentials, expires_at=expires_at)


def oauth_error(error: Exception) -> Exception:
    """The domain error for a failed token request (oauthlib raises its own classes)."""
    from oauthlib.oauth2 import OAuth2Error

    if isinstance(error, OAuth2Error):
        message = f"{error.error}: {error.description or ''}".strip(": ")
        if error.status_code and error.status_code >= 500:
            return RetryableError(network=Network.x, network_message=message)
        return AuthExpired(network=Network.x, network_message=message, status=error.status_code)
    if isinstance(error, requests.exceptions.RequestException):
        return RetryableError(network=Network.x, network_message=type(error).__name__)
    return PermanentError(network=Network.x, network_message=str(error))


def authorization_url(config: AdapterConfig, *, redirect_uri: str, state: str) -> tuple[str, str]:
    """(URL to send the person to, PKCE code verifier to keep for the callback)."""
    handler = oauth_handler(config, redirect_uri=redirect_uri)
    verifier = handler._client.create_code_verifier(128)
    challenge = handler._client.create_code_challenge(verifier, "S256")
    # oauthlib insists on https: build the official URL, then point it at the configured host.
    url, _ = handler.authorization_url(
        f"{OFFICIAL_AUTHORIZE}/i/oauth2/authorize",
        state=state,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    base = config.urls.get("authorize", OFFICIAL_AUTHORIZE)
    return base + str(url).removeprefix(OFFICIAL_AUTHORIZE), str(verifier)


def exchange_code(
    config: AdapterConfig, *, redirect_uri: str, code: str, verifier: str
) -> RefreshedCredentials:
    handler = oauth_handler(config, redirect_uri=redirect_uri)
    try:
        # tweepy's own fetch_token wants the whole callback URL, and oauthlib wants it in https:
        # the parent method takes the code itself.
        token = OAuth2Session.fetch_token(
            handler,
            TOKEN_URL,
            code=code,
            auth=handler.auth if config.client_secret else None,
            include_client_id=True,
            code_verifier=verifier,
        )
    except Exception as error:
        raise oauth_error(error) from error
    return refreshed(token)
