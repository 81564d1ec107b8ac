"""HTTP plumbing shared by the adapters: connections shared by the accounts of a process, base-URL
redirection for libraries whose hosts are hard-coded, timeouts for libraries that set none, and
the usual reading of error answers."""

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
import urllib3

from core import clock

USER_AGENT = "Beffroi/0.1 (+https://beffroi.invalid)"

# A connection idle for longer than this is not used again. Servers close idle keep-alive
# connections (after 5 s for Apache and uvicorn, 75 s for nginx); a request sent as the server
# closes one is lost without an answer, so that the engine has to read the account back before
# it may send the post again. httpx expires idle connections after 5 s; a little less stays
# clear of the servers that close at 5.
KEEPALIVE_EXPIRY = 4.0

# The connections kept per host, for all the accounts of a process: as many as it sends at once.
POOL_MAXSIZE = 256
# The hosts whose connections are kept (Mastodon accounts live on many instances).
POOL_HOSTS = 64


class _Expiring:
    """A urllib3 connection pool that does not use again a connection idle past
    `KEEPALIVE_EXPIRY`: it is closed and opened anew. Each connection counts its own idle time,
    since a busy pool can still hold one that waited long at the bottom of its stack."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        idle_since = getattr(conn, "beffroi_idle_since", None)
        if idle_since is not None and time.monotonic() - idle_since > KEEPALIVE_EXPIRY:
            conn.close()
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            conn.beffroi_idle_since = time.monotonic()
        super()._put_conn(conn)  # type: ignore[misc]


class _ExpiringHTTPPool(_Expiring, urllib3.HTTPConnectionPool):
    pass


class _ExpiringHTTPSPool(_Expiring, urllib3.HTTPSConnectionPool):
    pass


_EXPIRING_POOLS = {"http": _ExpiringHTTPPool, "https": _ExpiringHTTPSPool}


class BaseUrlAdapter(requests.adapters.HTTPAdapter):
    """Sends the requests of a `requests.Session` to another base URL, and gives them a timeout.

    tweepy hard-codes https://api.twitter.com: mounting this adapter on the library's own session
    points it at a configured host (or a sandbox) without patching the library. Authentication
    runs before `send`, so OAuth 1.0a signatures are computed on the official URL, as the network
    expects.

    One adapter per base URL and timeout serves every session of the process (`adapter()`): the
    accounts of a network share its connections, so that a publication finds one open instead of
    opening its own (and, in production, negotiating TLS again). A connection holds nothing of an
    account: each request carries its own credentials."""

    def __init__(self, target: str | None, *, timeout: float) -> None:
        super().__init__(max_retries=0, pool_connections=POOL_HOSTS, pool_maxsize=POOL_MAXSIZE)
        self.target = urlsplit(target) if target else None
        self.timeout = timeout

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _EXPIRING_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # Behind an HTTP proxy (HTTPS_PROXY, as many local authorities have), the connections
        # kept are the proxy's: they expire the same way. A SOCKS proxy keeps its own pools.
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = _EXPIRING_POOLS
        return manager

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.target is not None and request.url:
            parts = urlsplit(request.url)
            path = self.target.path.rstrip("/") + parts.path
            request.url = urlunsplit(
                (self.target.scheme, self.target.netloc, path, parts.query, "")
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)

    def close(self) -> None:
        """Kept open when a session closes: other sessions use the same connections. An idle one
        stays in its pool (the server may close its end) until it is taken again, past its
        expiry, and closed then, or until the process ends."""


_adapters: dict[tuple[str | None, float], BaseUrlAdapter] = {}
_adapters_lock = threading.Lock()


def adapter(target: str | None, *, timeout: float) -> BaseUrlAdapter:
    """The process's adapter for this base URL (None: the request's own) and timeout."""
    key = (target.rstrip("/") if target else None, timeout)
    with _adapters_lock:
        found = _adapters.get(key)
        if found is None:
            found = _adapters[key] = BaseUrlAdapter(target, timeout=timeout)
        return found


def session(
    *, timeout: float, redirects: Mapping[str, str | None] | None = None
) -> requests.Session:
    """A requests session with a default timeout; `redirects` maps official base URLs to the
    configured ones (None or equal: no redirection)."""
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    mount(s, timeout=timeout, redirects=redirects or {})
    return s


def mount(s: requests.Session, *, timeout: float, redirects: Mapping[str, str | None]) -> None:
    """Give a library's own session the same treatment as `session()`."""
    plain = adapter(None, timeout=timeout)
    s.mount("https://", plain)
    s.mount("http://", plain)
    for official, target in redirects.items():
        if target and target.rstrip("/") != official.rstrip("/"):
            s.mount(official, adapter(target, timeout=timeout))


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
