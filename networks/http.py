"""HTTP plumbing shared by the adapters: base-URL redirection for libraries whose hosts are
hard-coded, timeouts for libraries that set none, and the usual reading of error answers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters

from core import clock

USER_AGENT = "Beffroi/0.1 (+https://beffroi.invalid)"

# A connection idle for longer than this is not used again. Servers close idle keep-alive
# connections (after 5 s for Apache and uvicorn, 75 s for nginx); a request sent as the server
# closes one is lost without an answer, so that the engine has to read the account back before
# it may send the post again. httpx expires idle connections after 5 s; a little less stays
# clear of the servers that close at 5.
KEEPALIVE_EXPIRY = 4.0


class BaseUrlAdapter(requests.adapters.HTTPAdapter):
    """Sends the requests of a `requests.Session` to another base URL, and gives them a timeout.

    tweepy hard-codes https://api.twitter.com: mounting this adapter on the library's own session
    points it at a configured host (or a sandbox) without patching the library. Authentication
    runs before `send`, so OAuth 1.0a signatures are computed on the official URL, as the network
    expects."""

    def __init__(self, target: str | None, *, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.target = urlsplit(target) if target else None
        self.timeout = timeout
        self._idle_since = float("inf")
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.target is not None and request.url:
            parts = urlsplit(request.url)
            path = self.target.path.rstrip("/") + parts.path
            request.url = urlunsplit(
                (self.target.scheme, self.target.netloc, path, parts.query, "")
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        with self._lock:
            if time.monotonic() - self._idle_since > KEEPALIVE_EXPIRY:
                # Closes the idle connections; one in use elsewhere is closed when given back.
                self.poolmanager.clear()
        try:
            return super().send(request, **kwargs)
        finally:
            with self._lock:
                self._idle_since = time.monotonic()


def session(
    *, timeout: float, redirects: Mapping[str, str | None] | None = None
) -> requests.Session:
    """A requests session with a default timeout; `redirects` maps official base URLs to the
    configured ones (None or equal: no redirection)."""
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    plain = BaseUrlAdapter(None, timeout=timeout)
    s.mount("https://", plain)
    s.mount("http://", plain)
    for official, target in (redirects or {}).items():
        if target and target.rstrip("/") != official.rstrip("/"):
            s.mount(official, BaseUrlAdapter(target, timeout=timeout))
    return s


def mount(s: requests.Session, *, timeout: float, redirects: Mapping[str, str | None]) -> None:
    """Give a library's own session the same treatment as `session()`."""
    plain = BaseUrlAdapter(None, timeout=timeout)
    s.mount("https://", plain)
    s.mount("http://", plain)
    for official, target in redirects.items():
        if target and target.rstrip("/") != official.rstrip("/"):
            s.mount(official, BaseUrlAdapter(target, timeout=timeout))


def json_body(content: bytes | str | None) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return None


def epoch(value: str | int | float | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def retry_after(headers: Any, default_seconds: int = 60) -> datetime:
    """When to try again after a 429: Retry-After (seconds or HTTP date), or `default_seconds`."""
    from datetime import timedelta

    value = headers.get("retry-after") if headers is not None else None
    if value:
        try:
            return clock.now() + timedelta(seconds=int(value))
        except ValueError:
            try:
                return parsedate_to_datetime(value).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    return clock.now() + timedelta(seconds=default_seconds)


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
