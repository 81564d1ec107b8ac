"""Benchmark: what one claim of the publishing engine costs as the queue and the accounts'
history grow.

    .venv/bin/python bench/claim.py [--database sqlite|postgresql|both] [--postgres-url URL]
        [--accounts 1000] [--due 1000,10000,50000] [--history 0,20] [--limit 96] [--runs 30]

For each history size: `--accounts` accounts, each with `--history` publications already
published (older), then due publications added across the accounts, all due at the same second
(ties broken by id, the case where the order costs most), up to each `--due` size in turn; one
account in ten has a publication being sent. At each size the claim of `--limit` publications, as
the dispatcher runs it, is timed `--runs` times (each claim given back at once, untimed), and its
median and p95 are printed. The claim stops at its limit: its cost should barely move with the
size of the queue or of the history.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import harness
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.accounts.models import Account
from core.authorities.models import Authority
from core.db import single_statements
from core.posts.models import Post, Publication
from core.publishing import claim as claims

WORKER = "bench-claim"


def seed_accounts(engine: Engine, count: int) -> tuple[int, list[int]]:
    with engine.begin() as connection:
        authority_id = connection.execute(
            sa.insert(Authority).returning(Authority.id),  # type: ignore[arg-type]
            {"name": "Commune", "slug": "commune"},
        ).scalar_one()
        account_ids = list(
            connection.execute(
                sa.insert(Account).returning(Account.id),  # type: ignore[arg-type]
                [
                    {
                        "authority_id": authority_id,
                        "network": "mastodon",
                        "name": f"Compte {i}",
                        "kind": "institutional",
                        "handle": f"compte{i}",
                        "sandbox": True,
                        "remote_id": str(i),
                        "health": "ok",
                    }
                    for i in range(count)
                ],
            ).scalars()
        )
    return authority_id, account_ids


def add_round(
    engine: Engine, authority_id: int, account_ids: list[int], *, status: str, due: datetime
) -> int:
    """One post with a publication on every account (what a burst of the same message is)."""
    stamp = datetime.now(UTC)
    with engine.begin() as connection:
        post_id = connection.execute(
            sa.insert(Post).returning(Post.id),  # type: ignore[arg-type]
            harness.post_row(
                authority_id,
                "Conseil municipal jeudi à 19 h.",
                status="approved" if status == "scheduled" else "published",
                scheduled_at=due,
                stamp=stamp,
            ),
        ).scalar_one()
        connection.execute(
            sa.insert(Publication),
            [
                {
                    "authority_id": authority_id,
                    "post_id": post_id,
                    "account_id": account_id,
                    "status": status,
                    "due_at": due,
                    "attempts": 1 if status == "published" else 0,
                    "published_at": due if status == "published" else None,
                    "updated_at": stamp,
                }
                for account_id in account_ids
            ],
        )
    return int(post_id)


def measure(engine: Engine, limit: int, runs: int) -> tuple[float, float]:
    statements = single_statements(engine)
    lease = timedelta(minutes=1)

    def claim_and_give_back() -> float:
        started = time.perf_counter()
        claimed = claims.claim(statements, worker=WORKER, lease=lease, limit=limit)
        took = (time.perf_counter() - started) * 1000
        assert len(claimed) == limit, f"{len(claimed)} claimed, {limit} expected"
        claims.release(engine, worker=WORKER)
        return took

    durations = [claim_and_give_back() for _ in range(runs)]
    return harness.percentile(durations, 50), harness.percentile(durations, 95)


def run(database: str, url: str, args: argparse.Namespace, history: int) -> None:
    if database == "postgresql":
        harness.reset_postgres(url)
    with harness.migrated(f"{database}, history {history}", url) as (_settings, engine):
        authority_id, account_ids = seed_accounts(engine, args.accounts)
        now = datetime.now(UTC)
        for day in range(history):
            add_round(
                engine,
                authority_id,
                account_ids,
                status="published",
                due=now - timedelta(days=day + 1),
            )
        due_at = now - timedelta(seconds=1)
        first = add_round(engine, authority_id, account_ids, status="scheduled", due=due_at)
        # One account in ten has a publication being sent.
        with engine.begin() as connection:
            connection.execute(
                sa.update(Publication)
                .where(
                    Publication.post_id == first,  # type: ignore[arg-type]
                    Publication.account_id.in_(account_ids[::10]),  # type: ignore[attr-defined]
                )
                .values(status="publishing", claimed_by="other-worker")
            )
        rounds = 1
        for size in args.due:
            while rounds * len(account_ids) < size:
                add_round(engine, authority_id, account_ids, status="scheduled", due=due_at)
                rounds += 1
            with engine.begin() as connection:
                connection.execute(sa.text("ANALYZE"))
            p50, p95 = measure(engine, args.limit, args.runs)
            harness.log(
                f"{database}: {rounds * len(account_ids)} due, {history} published per account:"
                f" claim of {args.limit} p50 {p50:.1f} ms, p95 {p95:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_database_options(parser, default="both", postgres="bench_claim")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument(
        "--due", type=lambda v: [int(x) for x in v.split(",")], default=[1000, 10_000, 50_000]
    )
    parser.add_argument("--history", type=lambda v: [int(x) for x in v.split(",")], default=[0, 20])
    parser.add_argument("--limit", type=int, default=96)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    for history in args.history:
        for database, url in harness.databases(args.database, args.postgres_url):
            run(database, url, args, history)


if __name__ == "__main__":
    main()
