"""Taking due publications, holding them, and giving them back.

A claim is one conditional `UPDATE … RETURNING`: of two workers asking at once, each row goes to
one of them ("losers see 0 rows"). On PostgreSQL the candidates are locked `FOR UPDATE SKIP
LOCKED`, so that workers do not queue behind each other's rows; SQLite serialises writers itself
(transactions begin IMMEDIATE, core.db).

Politeness is part of the claim: at most one publication per account is in flight (across every
worker), and nothing is claimed for an account a network asked to leave alone (`AccountPause`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.db import UTCDateTime
from core.posts.models import Publication, PublicationStatus
from core.publishing.models import AccountPause, AttemptOutcome, PublicationAttempt

# A manual channel's publication waits for a person: claimed, without a lease.
MANUAL_CLAIM = "manual"


def claim(
    engine: Engine,
    *,
    worker: str,
    lease: timedelta,
    limit: int,
    network: Network | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Claim up to `limit` due publications (of `network`, when given) for `worker`; returns
    their ids, earliest due first."""
    claimed = claim_with_networks(
        engine, worker=worker, lease=lease, limit=limit, network=network, now=now
    )
    return [publication_id for publication_id, _ in claimed]


def claim_with_networks(
    engine: Engine,
    *,
    worker: str,
    lease: timedelta,
    limit: int,
    network: Network | None = None,
    now: datetime | None = None,
) -> list[tuple[int, Network]]:
    """`claim`, with each publication's network (for the dispatcher's per-network slots)."""
    if limit <= 0:
        return []
    now = now or clock.now()
    params: dict[str, object] = {
        "now": now,
        "lease_until": now + lease,
        "worker": worker,
        "limit": limit,
    }
    if network is not None:
        params["network"] = network.value
    stmt = _claim_statement(engine.dialect.name, by_network=network is not None)
    with engine.begin() as connection:
        rows = connection.execute(stmt, params).all()
    return [
        (int(str(row[0])), Network(row[2])) for row in sorted(rows, key=lambda r: (r[1], r[0] or 0))
    ]


@cache
def _claim_statement(dialect: str, *, by_network: bool) -> sa.Update:
    """The claim, built once per database kind (the dispatcher runs it several times a second),
    with the parameters `now`, `lease_until`, `worker`, `limit` and, `by_network`, `network`.

    The candidates are read in the order they go out, from the index (status, due time, id),
    and each is checked with lookups in (account, status, due time, id): the claim stops at its
    limit, whatever the length of the queue or of the accounts' history."""
    now = sa.bindparam("now", type_=UTCDateTime)
    p = Publication.__table__.alias("p")  # type: ignore[attr-defined]
    other = Publication.__table__.alias("other")  # type: ignore[attr-defined]
    pause = AccountPause.__table__  # type: ignore[attr-defined]
    account = Account.__table__  # type: ignore[attr-defined]
    checks = [
        # the account has a publication being sent
        sa.select(other.c.id).where(
            other.c.account_id == p.c.account_id,
            other.c.status == PublicationStatus.publishing.value,
        ),
        # an earlier publication of the same account goes first (due earlier, or at the same
        # time and created earlier; it is due too, since this one is)
        sa.select(other.c.id).where(
            other.c.account_id == p.c.account_id,
            other.c.status == PublicationStatus.scheduled.value,
            sa.tuple_(other.c.due_at, other.c.id) < sa.tuple_(p.c.due_at, p.c.id),
        ),
        # a network asked to leave the account alone
        sa.select(pause.c.account_id).where(
            pause.c.account_id == p.c.account_id, pause.c.until_at > now
        ),
    ]
    if dialect == "postgresql":
        # OFFSET 0 keeps each check a lookup per candidate: flattened into anti-joins, they
        # made PostgreSQL read every due publication and every one of their accounts' (40 ms
        # a claim with a few months of history), where the claim needs its first few.
        checks = [check.offset(0) for check in checks]
    candidates = (
        sa.select(p.c.id)
        .where(
            p.c.status == PublicationStatus.scheduled.value,
            p.c.due_at <= now,
            *(~check.exists() for check in checks),
        )
        .order_by(p.c.due_at, p.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )
    if by_network:
        candidates = candidates.where(
            sa.exists().where(
                account.c.id == p.c.account_id, account.c.network == sa.bindparam("network")
            )
        )
    stmt = sa.update(Publication)
    if dialect == "postgresql":
        # A CTE with FOR UPDATE is materialised once; inside `IN (…)` the planner may run the
        # subquery again and, skipping locked rows, return more than `limit` of them. Its ids
        # are then looked up by primary key (joined, the planner read every scheduled row).
        chosen = candidates.with_for_update(of=p, skip_locked=True).cte("chosen")
        stmt = stmt.where(
            col(Publication.status) == PublicationStatus.scheduled,
            col(Publication.id) == sa.any_(sa.func.array(sa.select(chosen.c.id).scalar_subquery())),
        )
    else:
        # The candidates are still scheduled when they are updated: SQLite lets no other writer
        # in between one statement's reads and its writes. (A condition on the status here
        # made it walk every scheduled publication, a year of them included.)
        stmt = stmt.where(col(Publication.id).in_(candidates.scalar_subquery()))
    # Each publication's network comes back with it (the dispatcher counts its slots by network).
    of_account = account.alias("of_account")
    network_of = (
        sa.select(of_account.c.network)
        .where(of_account.c.id == col(Publication.account_id))
        .scalar_subquery()
    )
    return stmt.values(
        status=PublicationStatus.publishing,
        claimed_by=sa.bindparam("worker"),
        lease_until=sa.bindparam("lease_until", type_=UTCDateTime),
        updated_at=now,
    ).returning(col(Publication.id), col(Publication.due_at), network_of)


def extend(session: Session, *, publication_id: int, worker: str, lease: timedelta) -> bool:
    """Renew the lease before a network call; False when the publication is no longer ours."""
    now = clock.now()
    result = session.execute(
        sa.update(Publication)
        .where(
            col(Publication.id) == publication_id,
            col(Publication.status) == PublicationStatus.publishing,
            col(Publication.claimed_by) == worker,
        )
        .values(lease_until=now + lease, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(engine: Engine, *, worker: str, ids: list[int] | None = None) -> int:
    """Give back publications claimed by `worker` (graceful shutdown): due again at once, for
    another worker. An attempt already under way keeps its row, so the next worker reconciles
    it before sending anything."""
    stmt = sa.update(Publication).where(
        col(Publication.status) == PublicationStatus.publishing,
        col(Publication.claimed_by) == worker,
    )
    if ids is not None:
        stmt = stmt.where(col(Publication.id).in_(ids))
    with engine.begin() as connection:
        result = connection.execute(
            stmt.values(
                status=PublicationStatus.scheduled,
                claimed_by=None,
                lease_until=None,
                updated_at=clock.now(),
            )
        )
    return int(result.rowcount)


def recover_leases(engine: Engine, *, now: datetime | None = None) -> int:
    """Publications whose worker died (lease passed) are due again. Their last attempt, if it was
    under way, is reconciled by the next worker before anything is sent again."""
    now = now or clock.now()
    with engine.begin() as connection:
        result = connection.execute(
            sa.update(Publication)
            .where(
                col(Publication.status) == PublicationStatus.publishing,
                col(Publication.lease_until).is_not(None),
                col(Publication.lease_until) < now,
            )
            .values(
                status=PublicationStatus.scheduled,
                claimed_by=None,
                lease_until=None,
                updated_at=now,
            )
        )
    return int(result.rowcount)


def next_due_at(session: Session) -> datetime | None:
    """When the next scheduled publication is due (the dispatcher wakes up then)."""
    return session.exec(
        select(sa.func.min(Publication.due_at)).where(
            col(Publication.status) == PublicationStatus.scheduled
        )
    ).one()


def last_attempt(session: Session, publication_id: int) -> PublicationAttempt | None:
    return session.exec(
        select(PublicationAttempt)
        .where(PublicationAttempt.publication_id == publication_id)
        .order_by(col(PublicationAttempt.number).desc())
        .limit(1)
    ).first()


def outcome_unknown(attempt: PublicationAttempt | None) -> bool:
    return attempt is not None and attempt.outcome in (
        AttemptOutcome.started,
        AttemptOutcome.unknown,
    )
