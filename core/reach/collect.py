"""Collecting metrics and follower counts through the network adapters (the worker's jobs call
`collect_metrics` and `collect_followers`).

- Each published publication is read on a decaying schedule: 1 h, 6 h, 24 h, 3 days, 7 days and
  30 days after it went out (`SCHEDULE`). A step that was missed (worker stopped) is not caught up
  step by step: the latest step due is read once, since a network only tells the figures of now.
- Each connected account's follower count is read once a day (UTC day).
- Network calls happen outside any database transaction; each snapshot is written in its own
  short transaction, with an insert that does nothing when the (publication, step) or
  (account, day) row exists already: several workers may collect at once, one row is kept.
- One account's failure never stops the others. A rate limit (`RateLimited`) pauses the account
  until the network's reset time for every worker and for the publishing engine alike
  (`AccountPause`); expired credentials skip
  the account until someone reconnects it (the publishing engine and the token refresh report
  it); a publication deleted on the network gets an empty snapshot for the step (figures
  unknown), so that it is not asked for again at every tick.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import clock
from core.accounts import service as accounts
from core.accounts.models import Account, Network
from core.config import Settings
from core.db import session_scope
from core.posts.models import Publication, PublicationStatus
from core.publishing.engine import pause_account, paused_accounts
from core.reach.models import AccountSnapshot, LatestSnapshot, MetricSnapshot
from networks import registry
from networks.base import (
    AuthExpired,
    NetworkAdapter,
    NetworkError,
    PostMetrics,
    RateLimited,
    RemoteNotFound,
)

log = logging.getLogger(__name__)

# When each publication is read, counted from its `published_at`.
SCHEDULE: tuple[timedelta, ...] = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
STEP_LABELS = ("1 h", "6 h", "24 h", "3 j", "7 j", "30 j")
# A publication whose last step was missed by more than this is not read any more.
GRACE = timedelta(days=7)


@dataclass
class Outcome:
    """What one run did, for the logs and the tests."""

    collected: int = 0
    failed: int = 0
    # Accounts left alone in this run: paused (rate limit), not connected, refused credentials.
    skipped_accounts: set[int] = field(default_factory=set)


def due_step(published_at: datetime, now: datetime) -> int | None:
    """The latest step of the schedule that has come for a publication, or None before 1 h."""
    age = now - published_at
    steps = [i for i, delay in enumerate(SCHEDULE) if age >= delay]
    return steps[-1] if steps else None


@dataclass(frozen=True)
class _Due:
    publication_id: int
    authority_id: int
    account_id: int
    remote_id: str
    step: int


def _collectable_accounts() -> Any:
    return select(Account.id).where(
        col(Account.network) != Network.manual,
        col(Account.credentials_encrypted).is_not(None),
    )


def due_metrics(session: Session, *, now: datetime) -> list[_Due]:
    """The publications whose next step has come and that no worker has read for it yet."""
    stmt = (
        sa.select(
            col(Publication.id),
            col(Publication.authority_id),
            col(Publication.account_id),
            col(Publication.remote_id),
            col(Publication.published_at),
            col(LatestSnapshot.step),
        )
        # The latest step read, from the one-row-per-publication copy (not from the history).
        .outerjoin(LatestSnapshot, col(LatestSnapshot.publication_id) == col(Publication.id))
        .where(
            col(Publication.status) == PublicationStatus.published,
            col(Publication.remote_id).is_not(None),
            col(Publication.published_at) <= now - SCHEDULE[0],
            col(Publication.published_at) > now - SCHEDULE[-1] - GRACE,
            col(Publication.account_id).in_(_collectable_accounts()),
        )
    )
    paused = paused_accounts(session, now)
    found = []
    for pub_id, authority_id, account_id, remote_id, published_at, last in session.execute(stmt):
        if account_id in paused or published_at is None:
            continue
        step = due_step(published_at, now)
        if step is None or (last is not None and last >= step):
            continue
        found.append(_Due(pub_id, authority_id, account_id, remote_id, step))
    return found


def _insert_ignoring_duplicates(session: Session, model: Any, values: dict[str, Any]) -> bool:
    """Insert one row unless the unique constraint already holds one; True when inserted."""
    dialect = session.get_bind().dialect.name
    insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(model)
    # RETURNING rather than rowcount: the drivers do not all report a row count here.
    key = sa.inspect(model).primary_key[0]
    statement = insert.values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None


def record(session: Session, values: dict[str, Any]) -> bool:
    """Keep one snapshot (a dict of MetricSnapshot's columns) unless its step was recorded
    already, and bring the publication's `LatestSnapshot` up to it. True when recorded."""
    if not _insert_ignoring_duplicates(session, MetricSnapshot, values):
        return False
    dialect = session.get_bind().dialect.name
    insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(LatestSnapshot)
    figures = {k: values.get(k) for k in ("impressions", "likes", "reposts", "replies", "clicks")}
    latest = {**figures, "step": values["step"], "collected_at": values["collected_at"]}
    statement = insert.values(
        publication_id=values["publication_id"], authority_id=values["authority_id"], **latest
    ).on_conflict_do_update(
        index_elements=["publication_id"],
        set_={name: getattr(insert.excluded, name) for name in latest},
        # Two workers may record two steps in any order: the highest step wins.
        where=col(LatestSnapshot.step) < insert.excluded.step,
    )
    session.execute(statement)
    return True


def _pause(engine: Engine, account_id: int, error: RateLimited) -> None:
    """The same pause as the publishing engine's: nothing reaches the account before the reset."""
    with session_scope(engine) as session:
        pause_account(session, account_id=account_id, until=error.reset_at, reason=error.message)


def _paused(engine: Engine, account_id: int) -> bool:
    """Checked right before each call to the network, as the engine does."""
    with session_scope(engine) as session:
        return account_id in paused_accounts(session, clock.now())


def _adapter(engine: Engine, settings: Settings, account_id: int) -> NetworkAdapter | None:
    """The account's adapter, or None when it cannot be read now (gone, paused since the due
    list was made by another worker's 429, or not connected)."""
    with session_scope(engine) as session:
        account = session.get(Account, account_id)
        if account is None or account_id in paused_accounts(session, clock.now()):
            return None
        try:
            return registry.adapter_for(account, settings)
        except RateLimited as error:
            pause_account(
                session, account_id=account_id, until=error.reset_at, reason=error.message
            )
            return None
        except NetworkError as error:
            log.warning("Compte %s : collecte impossible (%s)", account_id, error.message)
            return None


def _save_credentials(engine: Engine, settings: Settings, account_id: int, adapter: Any) -> None:
    """Bluesky renews its session during the calls: keep the new one, as the engine does."""
    updated = adapter.updated_credentials()
    if updated is None:
        return
    with session_scope(engine) as session:
        account = session.get(Account, account_id)
        if account is not None:
            accounts.store_credentials(
                session,
                settings,
                account=account,
                credentials=updated,
                expires_at=account.token_expires_at,
            )


def _snapshot_values(item: _Due, metrics: PostMetrics, now: datetime) -> dict[str, Any]:
    return {
        "authority_id": item.authority_id,
        "publication_id": item.publication_id,
        "step": item.step,
        "collected_at": now,
        "impressions": metrics.impressions,
        "likes": metrics.likes,
        "reposts": metrics.reposts,
        "replies": metrics.replies,
        "clicks": metrics.clicks,
    }


def _collect_account(
    engine: Engine, settings: Settings, account_id: int, items: Sequence[_Due], outcome: Outcome
) -> None:
    adapter = _adapter(engine, settings, account_id)
    if adapter is None:
        outcome.skipped_accounts.add(account_id)
        return
    try:
        for item in items:
            if _paused(engine, account_id):
                # A 429 met meanwhile by another worker (publishing or collecting) on this
                # account, possibly while this adapter was logging in: nothing more reaches it.
                outcome.skipped_accounts.add(account_id)
                return
            try:
                metrics = adapter.metrics(item.remote_id)
            except RateLimited as error:
                _pause(engine, account_id, error)
                outcome.skipped_accounts.add(account_id)
                return
            except AuthExpired:
                outcome.skipped_accounts.add(account_id)
                return
            except RemoteNotFound:
                # Deleted on the network: an empty snapshot marks the step as done, so that the
                # next ticks do not ask again; its figures stay unknown.
                outcome.failed += 1
                metrics = PostMetrics()
            except NetworkError as error:
                log.warning("Publication %s : %s", item.publication_id, error.message)
                outcome.failed += 1
                continue
            with session_scope(engine) as session:
                if record(session, _snapshot_values(item, metrics, clock.now())):
                    outcome.collected += 1
    finally:
        _save_credentials(engine, settings, account_id, adapter)


def collect_metrics(engine: Engine, settings: Settings) -> Outcome:
    """Read every publication whose next step of the schedule has come."""
    now = clock.now()
    with session_scope(engine) as session:
        due = due_metrics(session, now=now)
    per_account: dict[int, list[_Due]] = defaultdict(list)
    for item in due:
        per_account[item.account_id].append(item)
    outcome = Outcome()
    for account_id, items in per_account.items():
        try:
            _collect_account(engine, settings, account_id, items, outcome)
        except Exception:
            # A bug or an unexpected answer for one account must not stop the others.
            log.exception("Collecte des métriques du compte %s interrompue", account_id)
            outcome.failed += 1
    return outcome


def due_followers(session: Session, *, today: date, now: datetime) -> list[tuple[int, int]]:
    """(account id, authority id) of the connected accounts not read today."""
    read_today = select(AccountSnapshot.account_id).where(AccountSnapshot.day == today)
    stmt = select(Account.id, Account.authority_id).where(
        col(Account.id).in_(_collectable_accounts()),
        col(Account.id).not_in(read_today),
    )
    paused = paused_accounts(session, now)
    return [
        (account_id, authority_id)
        for account_id, authority_id in session.exec(stmt)
        if account_id is not None and account_id not in paused
    ]


def collect_followers(engine: Engine, settings: Settings) -> Outcome:
    """Read the follower count of every connected account not read yet today."""
    now = clock.now()
    today = now.date()
    with session_scope(engine) as session:
        due = due_followers(session, today=today, now=now)
    outcome = Outcome()
    for account_id, authority_id in due:
        adapter = _adapter(engine, settings, account_id)
        if adapter is None:
            outcome.skipped_accounts.add(account_id)
            continue
        try:
            if _paused(engine, account_id):  # paused while the adapter was logging in
                outcome.skipped_accounts.add(account_id)
                continue
            followers = adapter.followers()
        except RateLimited as error:
            _pause(engine, account_id, error)
            outcome.skipped_accounts.add(account_id)
            continue
        except NetworkError as error:
            log.warning("Compte %s : abonnés non lus (%s)", account_id, error.message)
            outcome.failed += 1
            continue
        except Exception:
            log.exception("Lecture des abonnés du compte %s interrompue", account_id)
            outcome.failed += 1
            continue
        finally:
            _save_credentials(engine, settings, account_id, adapter)
        with session_scope(engine) as session:
            values = {
                "authority_id": authority_id,
                "account_id": account_id,
                "day": today,
                "followers": max(0, followers),
                "collected_at": clock.now(),
            }
            if _insert_ignoring_duplicates(session, AccountSnapshot, values):
                outcome.collected += 1
    return outcome
