"""The memory of the sandboxes: accounts, what they received, and the fault knobs.

One `Sandbox` serves every network. It lives in memory behind a lock: the servers (async, on the
event loop) and the tests (another thread) read and change it at the same time. Tests and the
engine's tests read what an account received through `account()`, `posts()` and
`received()`, and switch faults on with `set_knobs()`.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from core import clock as core_clock
from networks.sandbox import tokens

NETWORKS = ("x", "linkedin", "facebook", "instagram", "mastodon", "bluesky")
# Publications per rolling 24 hours when no knob says otherwise (X's Basic tier, Instagram's
# documented quota); None: no daily limit.
DEFAULT_DAILY_QUOTA: dict[str, int | None] = {"x": 100, "instagram": 100}
MAX_POSTS_PER_ACCOUNT = 1000


@dataclass
class Knobs:
    """Faults and delays, for one account or for every account (`Sandbox.knobs`)."""

    latency: float = 0.0  # seconds added before every answer
    error_rate: float = 0.0  # share of requests answered 503 before anything is done
    rate_limited: int = 0  # the next N requests are answered 429 (or the network's equivalent)
    rate_limit_reset: float = 60.0  # … announcing a reset this many seconds later
    timeouts: int = 0  # the next N requests get no answer for `hang` seconds
    hang: float = 30.0
    # The next N publications are stored, then answered with a 500 ("error") or not at all
    # ("timeout"): the caller cannot know that they went out.
    fail_after_commit: int = 0
    fail_after_commit_mode: Literal["error", "timeout"] = "error"
    # Statuses to answer to the next requests, one each (401, 403, 404, 500…), in the
    # network's own error format.
    fail_next: list[int] = field(default_factory=list)
    daily_quota: int | None = None


@dataclass
class SandboxImage:
    id: str
    mime: str
    data: bytes
    alt: str = ""
    width: int | None = None
    height: int | None = None


@dataclass
class SandboxPost:
    id: str
    network: str
    account_id: str
    text: str
    created_at: datetime
    images: list[SandboxImage] = field(default_factory=list)
    link: str | None = None
    idempotency_key: str | None = None
    deleted_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """One request an account sent, as the sandbox saw it."""

    at: datetime
    method: str
    path: str
    status: int
    query: str = ""


@dataclass
class SandboxAccount:
    network: str
    remote_id: str
    name: str
    handle: str
    created_at: datetime
    knobs: Knobs = field(default_factory=Knobs)
    posts: OrderedDict[str, SandboxPost] = field(default_factory=OrderedDict)
    media: dict[str, SandboxImage] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    idempotency: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    revoked_before: datetime | None = None
    windows: dict[str, list[datetime]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def live_posts(self) -> list[SandboxPost]:
        return [p for p in reversed(self.posts.values()) if p.deleted_at is None]


@dataclass
class AuthCode:
    network: str
    client_id: str
    redirect_uri: str
    scope: str
    account: dict[str, Any]
    expires_at: datetime
    code_challenge: str | None = None


@dataclass(frozen=True)
class Decision:
    kind: Literal["pass", "hang", "rate_limited", "fail", "error"]
    status: int = 200
    reset_at: datetime | None = None
    hang: float = 0.0


class Sandbox:
    """Every sandbox account, in memory. `secret` signs the sandbox's tokens; `clock` drives
    token expiry and the metrics that grow over time (tests may pass their own)."""

    def __init__(
        self,
        secret: str,
        *,
        clock: Callable[[], datetime] | None = None,
        seed: int | None = None,
    ) -> None:
        self.secret = secret
        self._clock = clock
        self.lock = threading.RLock()
        self.knobs = Knobs()
        self.accounts: dict[tuple[str, str], SandboxAccount] = {}
        self.codes: dict[str, AuthCode] = {}
        self.apps: dict[str, dict[str, Any]] = {}
        self.spent: set[str] = set()  # single-use tokens already used (refresh tokens, codes)
        self.random = random.Random(seed)
        self._issued: set[str] = set()

    # --- time and ids ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock() if self._clock else core_clock.now()

    def new_id(self, digits: int = 19) -> str:
        """A fresh numeric id, like the networks' own (never twice the same)."""
        with self.lock:
            while True:
                value = str(self.random.randrange(10 ** (digits - 1), 10**digits))
                if value not in self._issued:
                    self._issued.add(value)
                    return value

    # --- accounts -------------------------------------------------------------------------------

    def ensure_account(
        self, network: str, remote_id: str, *, name: str, handle: str
    ) -> SandboxAccount:
        with self.lock:
            account = self.accounts.get((network, remote_id))
            if account is None:
                account = SandboxAccount(
                    network=network,
                    remote_id=remote_id,
                    name=name or handle or remote_id,
                    handle=handle or remote_id,
                    created_at=self.now(),
                )
                self.accounts[(network, remote_id)] = account
            return account

    def account(self, network: str, remote_id: str) -> SandboxAccount | None:
        with self.lock:
            return self.accounts.get((network, remote_id))

    def find_by_handle(self, network: str, handle: str) -> SandboxAccount | None:
        with self.lock:
            for (net, _), account in self.accounts.items():
                if net == network and account.handle.lower() == handle.lower():
                    return account
        return None

    def accounts_of(self, network: str) -> list[SandboxAccount]:
        with self.lock:
            return [a for (net, _), a in self.accounts.items() if net == network]

    def posts(
        self, network: str, remote_id: str, *, include_deleted: bool = False
    ) -> list[SandboxPost]:
        """The account's publications, oldest first."""
        with self.lock:
            account = self.accounts.get((network, remote_id))
            if account is None:
                return []
            return [p for p in account.posts.values() if include_deleted or p.deleted_at is None]

    def received(self, network: str, remote_id: str) -> list[Received]:
        with self.lock:
            account = self.accounts.get((network, remote_id))
            return list(account.received) if account else []

    def revoke(self, network: str, remote_id: str) -> None:
        """Every token issued so far for the account stops working (401)."""
        with self.lock:
            account = self.accounts.get((network, remote_id))
            if account is not None:
                account.revoked_before = self.now()

    def set_knobs(
        self, network: str | None = None, remote_id: str | None = None, **changes: Any
    ) -> Knobs:
        """Change the knobs of one account (network and remote_id), or the global ones."""
        names = {f.name for f in fields(Knobs)}
        unknown = set(changes) - names
        if unknown:
            raise TypeError(f"unknown sandbox knobs: {sorted(unknown)}")
        with self.lock:
            if remote_id is None:
                self.knobs = replace(self.knobs, **changes)
                return self.knobs
            assert network is not None
            account = self.accounts.get((network, remote_id))
            if account is None:
                raise KeyError(f"no sandbox account {network}/{remote_id}")
            account.knobs = replace(account.knobs, **changes)
            return account.knobs

    def reset(self) -> None:
        with self.lock:
            self.knobs = Knobs()
            self.accounts.clear()
            self.codes.clear()
            self.apps.clear()
            self.spent.clear()

    # --- tokens ---------------------------------------------------------------------------------

    def issue(
        self,
        network: str,
        remote_id: str,
        *,
        name: str,
        handle: str,
        typ: str = "access",
        ttl: timedelta | None = None,
        **extra: Any,
    ) -> str:
        return issue_token(
            self.secret,
            network,
            remote_id,
            name=name,
            handle=handle,
            typ=typ,
            now=self.now(),
            ttl=ttl,
            **extra,
        )

    def verify(self, token: str, *, network: str, typ: str = "access") -> dict[str, Any] | None:
        """The payload of a valid, unexpired, unrevoked token of `network`, else None."""
        payload = tokens.decode(self.secret, token)
        if payload is None or payload.get("net") != network or payload.get("typ") != typ:
            return None
        now = self.now().timestamp()
        if payload.get("exp") is not None and float(payload["exp"]) <= now:
            return None
        with self.lock:
            account = self.accounts.get((network, str(payload.get("sub"))))
            if (
                account
                and account.revoked_before is not None
                and (
                    float(payload.get("t", payload.get("iat", 0)))
                    <= account.revoked_before.timestamp()
                )
            ):
                return None
        return payload

    def spend(self, marker: str) -> bool:
        """True the first time `marker` is spent (single-use codes and refresh tokens)."""
        with self.lock:
            if marker in self.spent:
                return False
            self.spent.add(marker)
            return True

    # --- faults ---------------------------------------------------------------------------------

    def decide(self, account: SandboxAccount | None) -> Decision:
        """What the knobs say about the next request (consuming one-shot faults)."""
        with self.lock:
            layers = [self.knobs] + ([account.knobs] if account else [])
            for knobs in layers:
                if knobs.timeouts > 0:
                    knobs.timeouts -= 1
                    return Decision("hang", status=504, hang=knobs.hang)
            for knobs in layers:
                if knobs.rate_limited > 0:
                    knobs.rate_limited -= 1
                    reset = self.now() + timedelta(seconds=knobs.rate_limit_reset)
                    return Decision("rate_limited", status=429, reset_at=reset)
            for knobs in layers:
                if knobs.fail_next:
                    return Decision("fail", status=knobs.fail_next.pop(0))
            rate = max(k.error_rate for k in layers)
            if rate and self.random.random() < rate:
                return Decision("error", status=503)
        return Decision("pass")

    def latency(self, account: SandboxAccount | None) -> float:
        with self.lock:
            return self.knobs.latency + (account.knobs.latency if account else 0.0)

    def after_commit(self, account: SandboxAccount) -> Decision:
        with self.lock:
            for knobs in (self.knobs, account.knobs):
                if knobs.fail_after_commit > 0:
                    knobs.fail_after_commit -= 1
                    if knobs.fail_after_commit_mode == "timeout":
                        return Decision("hang", status=504, hang=knobs.hang)
                    return Decision("fail", status=500)
        return Decision("pass")

    def consume(
        self, account: SandboxAccount, bucket: str, *, limit: int, period: timedelta
    ) -> tuple[bool, int, datetime]:
        """Count one request of `bucket` in a sliding window: (allowed, remaining, reset_at)."""
        now = self.now()
        with self.lock:
            stamps = [t for t in account.windows.get(bucket, []) if t > now - period]
            allowed = len(stamps) < limit
            if allowed:
                stamps.append(now)
            account.windows[bucket] = stamps
            reset = (stamps[0] + period) if stamps else now + period
            return allowed, max(0, limit - len(stamps)), reset

    def daily_quota(self, account: SandboxAccount) -> int | None:
        with self.lock:
            for knobs in (account.knobs, self.knobs):
                if knobs.daily_quota is not None:
                    return knobs.daily_quota
        return DEFAULT_DAILY_QUOTA.get(account.network)

    # --- storing --------------------------------------------------------------------------------

    def store_post(self, account: SandboxAccount, post: SandboxPost) -> SandboxPost:
        with self.lock:
            account.posts[post.id] = post
            while len(account.posts) > MAX_POSTS_PER_ACCOUNT:
                account.posts.popitem(last=False)
            return post

    def find_post(self, post_id: str) -> SandboxPost | None:
        with self.lock:
            for account in self.accounts.values():
                post = account.posts.get(post_id)
                if post is not None:
                    return post
        return None

    def record(
        self, account: SandboxAccount, method: str, path: str, status: int, query: str = ""
    ) -> None:
        with self.lock:
            account.received.append(Received(self.now(), method, path, status, query))
            del account.received[:-2000]

    # --- what grows over time -------------------------------------------------------------------

    def metrics(self, post: SandboxPost) -> dict[str, int]:
        """Reach that grows with the post's age (on the sandbox clock), the same for everyone
        who asks at the same moment."""
        minutes = max(0.0, (self.now() - post.created_at).total_seconds() / 60)
        seed = int(hashlib.sha256(post.id.encode()).hexdigest()[:6], 16)
        impressions = int((40 + seed % 60) * math.log1p(minutes) + minutes * (1 + seed % 3) / 4)
        return {
            "impressions": impressions,
            "likes": impressions // 18,
            "reposts": impressions // 70,
            "replies": impressions // 110,
            "clicks": impressions // 25,
            "quotes": impressions // 400,
            "bookmarks": impressions // 300,
        }

    def followers(self, account: SandboxAccount) -> int:
        seed = int(hashlib.sha256(account.remote_id.encode()).hexdigest()[:6], 16)
        days = max(0.0, (self.now() - account.created_at).total_seconds() / 86400)
        with self.lock:
            published = len(account.posts)
        return 150 + seed % 2500 + int(days * 4) + 3 * published


def issue_token(
    secret: str,
    network: str,
    remote_id: str,
    *,
    name: str,
    handle: str,
    typ: str = "access",
    now: datetime,
    ttl: timedelta | None = None,
    **extra: Any,
) -> str:
    payload: dict[str, Any] = {
        "net": network,
        "sub": remote_id,
        "nm": name,
        "h": handle,
        "typ": typ,
        "iat": int(now.timestamp()),
        # The precise moment, for revocation (`iat` is whole seconds, as JWT readers require).
        "t": now.timestamp(),
        **extra,
    }
    if ttl is not None:
        payload["exp"] = int((now + ttl).timestamp())
    return tokens.encode(secret, payload)
