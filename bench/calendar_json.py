"""Benchmark: the monthly calendar endpoint on a large database, on SQLite and PostgreSQL.

    .venv/bin/python bench/calendar_json.py [--posts 1000000] [--authorities 500] [--heavy 20000]
        [--runs 100] [--database sqlite|postgresql|both] [--postgres-url URL]

Seeds `--posts` posts across `--authorities` authorities; one of them has five years of history
(`--heavy` posts, about 20 000) and a busy month (December 2026, inside the pre-electoral period
of municipal elections in March 2027, so the regularity figures are computed too). The schema
comes from the migrations, so the indexes measured are those of the migrations.

Then, for each database, the application is served by uvicorn on loopback and the calendar of the
busy month is fetched `--runs` times over real HTTP (p50 and p95). In the same run, in
alternation with those calls, the SQL statements that one request executed (captured from the
engine) are replayed alone through the driver: the ratio between the two is the cost of
everything that is not SQL (HTTP, authentication, building and serialising the answer).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import harness
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.accounts.models import Account, Network
from core.authorities.models import Authority, Membership, Role
from core.calendar.models import PostingSlot
from core.config import Settings
from core.editorial.models import Audience, Election, ElectionKind, Pillar
from core.posts.models import Post, PostAudience, PostStatus, Publication, PublicationStatus
from core.users import service as users
from core.users.models import TokenKind, User

BUSY_MONTH = date(2026, 12, 1)
HISTORY_START = datetime(2022, 1, 1, tzinfo=UTC)
HISTORY_END = datetime(2027, 1, 1, tzinfo=UTC)
BUSY_EXTRA = 600  # posts added to the heavy authority's busy month
BATCH = 20_000
NETWORKS = [Network.facebook, Network.x, Network.mastodon, Network.instagram, Network.linkedin]
STATUSES = [PostStatus.published] * 6 + [
    PostStatus.approved,
    PostStatus.draft,
    PostStatus.cancelled,
]


# --- seeding ------------------------------------------------------------------------------------


def seed(engine: Engine, *, posts: int, authorities: int, heavy: int) -> tuple[str, str]:
    """Seed the database; returns the heavy authority's slug and an API token of its editor."""
    rng = random.Random(42)
    with Session(engine) as session:
        towns = [Authority(name=f"Commune {n}", slug=f"commune-{n}") for n in range(authorities)]
        session.add_all(towns)
        session.flush()
        heavy_town = towns[0]
        accounts: dict[int, list[int]] = {}
        for town in towns:
            count = 6 if town is heavy_town else 3
            rows = [
                Account(
                    authority_id=town.id,  # type: ignore[arg-type]
                    network=NETWORKS[i % len(NETWORKS)],
                    name=f"Compte {i}",
                    created_at=HISTORY_START,
                )
                for i in range(count)
            ]
            session.add_all(rows)
            session.flush()
            accounts[town.id] = [a.id for a in rows]  # type: ignore[index,misc]
        pillars = [
            Pillar(
                authority_id=heavy_town.id,  # type: ignore[arg-type]
                name=name,
                color="#1d4e89",
                target_share=share,
            )
            for name, share in [("Travaux", 30), ("Culture", 30), ("Démarches", 20),
                                ("Alertes", 10), ("Réalisations", 10)]
        ]  # fmt: skip
        audiences = [
            Audience(authority_id=heavy_town.id, name=name)  # type: ignore[arg-type]
            for name in ("Familles", "Seniors", "Entreprises")
        ]
        session.add_all([*pillars, *audiences])
        session.add(
            Election(
                authority_id=heavy_town.id,  # type: ignore[arg-type]
                kind=ElectionKind.municipales,
                territory="Commune 0",
                first_round=date(2027, 3, 14),
                second_round=date(2027, 3, 21),
            )
        )
        for account_id in accounts[heavy_town.id]:  # type: ignore[index]
            for weekday in (1, 3):
                session.add(
                    PostingSlot(
                        authority_id=heavy_town.id,  # type: ignore[arg-type]
                        account_id=account_id,
                        weekday=weekday,
                        local_time=clock_time(12, 15),
                    )
                )
        editor = User(email="bench@mairie.example.org", name="Bench", password_hash="-")
        session.add(editor)
        session.flush()
        session.add(
            Membership(
                authority_id=heavy_town.id,  # type: ignore[arg-type]
                user_id=editor.id,  # type: ignore[arg-type]
                roles=[Role.editor.value],
            )
        )
        raw, _ = users.issue_token(session, user=editor, kind=TokenKind.api, ttl=timedelta(days=1))
        session.commit()
        pillar_ids = [p.id for p in pillars]
        audience_ids = [a.id for a in audiences]
        heavy_id = heavy_town.id
        slug = heavy_town.slug
        town_ids = [t.id for t in towns]

    span = (HISTORY_END - HISTORY_START).total_seconds()
    busy_start = datetime(2026, 11, 30, 23, tzinfo=UTC)

    def plan() -> Iterator[tuple[int, datetime]]:
        for _ in range(heavy - BUSY_EXTRA):
            yield heavy_id, HISTORY_START + timedelta(seconds=rng.random() * span)  # type: ignore[misc]
        for _ in range(BUSY_EXTRA):
            yield heavy_id, busy_start + timedelta(seconds=rng.random() * 31 * 86400)  # type: ignore[misc]
        others = town_ids[1:]
        for n in range(posts - heavy):
            yield others[n % len(others)], HISTORY_START + timedelta(seconds=rng.random() * span)  # type: ignore[misc]

    post_table = Post.__table__  # type: ignore[attr-defined]
    publication_table = Publication.__table__  # type: ignore[attr-defined]
    audience_table = PostAudience.__table__  # type: ignore[attr-defined]
    next_id = 1
    started = time.perf_counter()
    batch: list[tuple[int, datetime]] = []

    def flush(batch: list[tuple[int, datetime]], first_id: int) -> None:
        post_rows, publication_rows, audience_rows = [], [], []
        for offset, (town_id, at) in enumerate(batch):
            post_id = first_id + offset
            status = rng.choice(STATUSES)
            heavy_post = town_id == heavy_id
            post_rows.append(
                {
                    "id": post_id,
                    "authority_id": town_id,
                    "status": status.value,
                    "text": f"Publication {post_id} : travaux, culture et démarches en ligne.",
                    "pillar_id": rng.choice(pillar_ids) if heavy_post else None,
                    "scheduled_at": at,
                    "version": 1,
                    "content_hash": "",
                    "urgent_without_approval": False,
                    "acknowledged": [],
                    "created_at": at,
                    "updated_at": at,
                }
            )
            for account_id in rng.sample(accounts[town_id], 2 if heavy_post else 1):
                publication_rows.append(
                    {
                        "authority_id": town_id,
                        "post_id": post_id,
                        "account_id": account_id,
                        "status": _publication_status(status).value,
                        "due_at": at,
                        "attempts": 0,
                        "updated_at": at,
                    }
                )
            if heavy_post:
                audience_rows.append({"post_id": post_id, "audience_id": rng.choice(audience_ids)})
        with engine.begin() as conn:
            conn.execute(post_table.insert(), post_rows)
            conn.execute(publication_table.insert(), publication_rows)
            if audience_rows:
                conn.execute(audience_table.insert(), audience_rows)

    for item in plan():
        batch.append(item)
        if len(batch) == BATCH:
            flush(batch, next_id)
            next_id += len(batch)
            batch = []
            if next_id % 200_000 < BATCH:
                harness.log(f"  {next_id - 1} posts ({time.perf_counter() - started:.0f} s)")
    if batch:
        flush(batch, next_id)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setval('post_id_seq', (SELECT max(id) FROM post))"))
    # A database in service has been vacuumed by autovacuum: statistics, and the visibility map
    # that lets PostgreSQL answer counts from the index alone.
    vacuum = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(vacuum))
    harness.log(f"  seeded in {time.perf_counter() - started:.0f} s")
    return slug, raw


def _publication_status(status: PostStatus) -> PublicationStatus:
    return {
        PostStatus.published: PublicationStatus.published,
        PostStatus.approved: PublicationStatus.scheduled,
        PostStatus.cancelled: PublicationStatus.cancelled,
    }.get(status, PublicationStatus.pending)


# --- measuring ----------------------------------------------------------------------------------


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def before(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool
    ) -> None:
        if not many:
            statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def measure(settings: Settings, engine: Engine, slug: str, token: str, runs: int) -> dict[str, Any]:
    url = f"/api/v1/authorities/{slug}/calendar?month={BUSY_MONTH:%Y-%m}"
    http_times: list[float] = []
    sql_times: list[float] = []
    with harness.client(settings, engine, token) as http:
        body = harness.warm_up(http, url).json()
        with captured(engine) as statements:
            http.get(url).raise_for_status()
        raw = engine.raw_connection()

        def replay() -> None:
            cursor = raw.cursor()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.close()
            raw.rollback()

        try:
            # In alternation, call by call: both see the same machine (a shared one slows down
            # and speeds up over a run).
            for _ in range(runs):
                http_times.append(harness.timed(lambda: http.get(url).raise_for_status()))
                sql_times.append(harness.timed(replay))
        finally:
            raw.close()
    posts = sum(len(day["posts"]) for day in body["days"])
    return {
        "queries": len(statements),
        "posts_in_month": posts,
        "http_p50": statistics.median(http_times),
        "http_p95": harness.percentile(http_times, 95),
        "sql_p50": statistics.median(sql_times),
        "sql_p95": harness.percentile(sql_times, 95),
    }


def run(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    with harness.migrated(database, url) as (settings, engine):
        slug, token = seed(engine, posts=args.posts, authorities=args.authorities, heavy=args.heavy)
        result = measure(settings, engine, slug, token, args.runs)
    harness.log(
        f"  {result['posts_in_month']} posts in the month, {result['queries']} queries; "
        f"HTTP p50 {result['http_p50']:.1f} ms, p95 {result['http_p95']:.1f} ms; "
        f"SQL alone p50 {result['sql_p50']:.1f} ms, p95 {result['sql_p95']:.1f} ms; "
        f"ratio p95 {result['http_p95'] / result['sql_p95']:.2f}, "
        f"2 × SQL + 10 ms = {2 * result['sql_p95'] + 10:.1f} ms"
    )
    return result


def add_size_options(parser: argparse.ArgumentParser, *, posts: int, runs: int) -> None:
    parser.add_argument("--posts", type=int, default=posts)
    parser.add_argument("--authorities", type=int, default=500)
    parser.add_argument("--heavy", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=runs)


def announce(args: argparse.Namespace) -> None:
    if args.heavy >= args.posts or args.heavy <= BUSY_EXTRA:
        sys.exit("--heavy must be between 600 and --posts")
    harness.log(
        f"Python {sys.version.split()[0]}; {args.posts} posts, {args.authorities} authorities, "
        f"heavy authority {args.heavy} posts; {args.runs} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_size_options(parser, posts=1_000_000, runs=100)
    harness.add_database_options(parser, default="both", postgres="bench_calendar")
    args = parser.parse_args()
    announce(args)
    for database, url in harness.databases(args.database, args.postgres_url):
        run(database, url, args)


if __name__ == "__main__":
    main()
