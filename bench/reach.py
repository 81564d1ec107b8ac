"""Benchmark: the reach endpoint for a year, by pillar, on an authority with three years of
publications and daily snapshots.

    .venv/bin/python bench/reach.py [--years 3] [--posts-per-day 4] [--accounts 6] [--runs 100]
        [--database postgresql|sqlite|both] [--postgres-url URL]

Seeds one authority with `--accounts` accounts (one per network), six pillars, three objectives,
three audiences and campaigns; `--posts-per-day` posts a day for `--years` years, each on two or
three accounts, every publication with its six snapshots (1 h … 30 d) and every account with one
follower count a day. The schema comes from the migrations. Then the application is served by
uvicorn on loopback and `GET /api/v1/authorities/{slug}/reach?from=…&to=…&by=pillar` for the last
year is fetched `--runs` times over real HTTP (p50, p95), after five warm-up calls; then the same
report is built `--runs` times in process, timing the wall clock and the CPU time of the thread
(the difference is the wait for a core on a loaded machine).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import harness
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.accounts.models import Account, Network
from core.authorities.models import Authority, Membership, Role
from core.config import Settings
from core.editorial.models import Audience, Campaign, KpiMetric, KpiPeriod, Objective, Pillar
from core.posts.models import (
    Post,
    PostAudience,
    PostObjective,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.reach import report as reach
from core.reach.collect import SCHEDULE
from core.reach.models import AccountSnapshot, LatestSnapshot, MetricSnapshot
from core.users import service as users
from core.users.models import TokenKind, User

END = date(2026, 11, 1)
NETWORKS = [Network.x, Network.linkedin, Network.facebook, Network.instagram, Network.mastodon,
            Network.bluesky]  # fmt: skip
WITHOUT_IMPRESSIONS = {Network.mastodon, Network.bluesky}


def seed(engine: Engine, args: argparse.Namespace) -> tuple[str, str, dict[str, int]]:
    """Returns the authority's slug, an API token of its editor, and row counts."""
    rng = random.Random(9)
    days = int(365.25 * args.years)
    start = END - timedelta(days=days)
    with Session(engine) as session:
        town = Authority(name="Ville de Bench", slug="ville-de-bench")
        session.add(town)
        session.flush()
        assert town.id is not None
        user = User(email="com@bench.example.org", name="Com", password_hash="x")
        session.add(user)
        session.flush()
        session.add(Membership(authority_id=town.id, user_id=user.id, roles=[Role.editor.value]))  # type: ignore[arg-type]
        accounts = [
            Account(authority_id=town.id, network=n, name=f"Ville sur {n.label}", remote_id=str(i))
            for i, n in enumerate(NETWORKS[: args.accounts])
        ]
        pillars = [
            Pillar(authority_id=town.id, name=f"Thématique {i}", color="#2a9d8f", target_share=16)
            for i in range(6)
        ]
        objectives = [
            Objective(authority_id=town.id, name=f"Objectif {i}", kpi_metric=metric,
                      kpi_target=1000, kpi_period=KpiPeriod.quarter)
            for i, metric in enumerate([KpiMetric.clicks, KpiMetric.engagements, KpiMetric.posts])
        ]  # fmt: skip
        audiences = [Audience(authority_id=town.id, name=f"Cible {i}") for i in range(3)]
        session.add_all([*accounts, *pillars, *objectives, *audiences])
        session.flush()
        campaigns = [
            Campaign(authority_id=town.id, name=f"Campagne {i}", objective_id=objectives[0].id,
                     starts_on=start + timedelta(days=60 * i),
                     ends_on=start + timedelta(days=60 * i + 30))
            for i in range(days // 60)
        ]  # fmt: skip
        session.add_all(campaigns)
        session.flush()
        raw, _ = users.issue_token(session, user=user, kind=TokenKind.api, ttl=timedelta(days=1))
        session.commit()
        ids = {
            "town": town.id,
            "accounts": [(a.id, Network(a.network)) for a in accounts],
            "pillars": [p.id for p in pillars],
            "objectives": [o.id for o in objectives],
            "audiences": [a.id for a in audiences],
            "campaigns": [c.id for c in campaigns],
        }
    counts = {"posts": 0, "publications": 0, "metric_snapshots": 0, "account_snapshots": 0}
    town_id = ids["town"]
    with engine.begin() as conn:
        for offset in range(days):
            day = start + timedelta(days=offset)
            posts, links_o, links_a, pubs = [], [], [], []
            for n in range(args.posts_per_day):
                at = datetime(day.year, day.month, day.day, 8 + 3 * n, tzinfo=UTC)
                campaign = rng.choice(ids["campaigns"]) if rng.random() < 0.2 else None
                posts.append({
                    "authority_id": town_id, "text": f"Message du {day} numéro {n}",
                    "status": PostStatus.published, "pillar_id": rng.choice(ids["pillars"]),
                    "campaign_id": campaign, "scheduled_at": at, "version": 1,
                    "content_hash": "", "urgent_without_approval": False, "acknowledged": [],
                    "created_at": at, "updated_at": at,
                })  # fmt: skip
            post_ids = [
                row[0]
                for row in conn.execute(
                    sa.insert(Post).returning(Post.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
                    posts,
                )
            ]
            for post_id, post in zip(post_ids, posts, strict=True):
                if rng.random() < 0.5:
                    links_o.append(
                        {"post_id": post_id, "objective_id": rng.choice(ids["objectives"])}
                    )
                links_a.append({"post_id": post_id, "audience_id": rng.choice(ids["audiences"])})
                for account_id, network in rng.sample(ids["accounts"], rng.choice([2, 3])):
                    pubs.append(({
                        "authority_id": town_id, "post_id": post_id, "account_id": account_id,
                        "status": PublicationStatus.published, "due_at": post["scheduled_at"],
                        "published_at": post["scheduled_at"],
                        "remote_id": f"r{post_id}-{account_id}",
                        "attempts": 1, "updated_at": post["scheduled_at"],
                    }, network))  # fmt: skip
            if links_o:
                conn.execute(sa.insert(PostObjective), links_o)
            conn.execute(sa.insert(PostAudience), links_a)
            pub_ids = [
                row[0]
                for row in conn.execute(
                    sa.insert(Publication).returning(Publication.id, sort_by_parameter_order=True),  # type: ignore[arg-type]
                    [p for p, _ in pubs],
                )
            ]
            snapshots = []
            for pub_id, (pub, network) in zip(pub_ids, pubs, strict=True):
                base = rng.randint(50, 3000)
                for step, delay in enumerate(SCHEDULE):
                    seen = base * (step + 1)
                    snapshots.append({
                        "authority_id": town_id, "publication_id": pub_id, "step": step,
                        "collected_at": pub["published_at"] + delay,
                        "impressions": None if network in WITHOUT_IMPRESSIONS else seen,
                        "likes": seen // 20, "reposts": seen // 70, "replies": seen // 110,
                        "clicks": None if network in WITHOUT_IMPRESSIONS else seen // 30,
                    })  # fmt: skip
            conn.execute(sa.insert(MetricSnapshot), snapshots)
            # What core.reach.collect.record keeps beside: each publication's latest snapshot.
            latest = [
                {k: v for k, v in snap.items() if k != "id"}
                for snap in snapshots
                if snap["step"] == len(SCHEDULE) - 1
            ]
            conn.execute(sa.insert(LatestSnapshot), latest)
            conn.execute(
                sa.insert(AccountSnapshot),
                [
                    {"authority_id": town_id, "account_id": account_id, "day": day,
                     "followers": 1000 + 3 * offset + account_id,
                     "collected_at": datetime(day.year, day.month, day.day, 3, tzinfo=UTC)}
                    for account_id, _ in ids["accounts"]
                ],
            )  # fmt: skip
            counts["posts"] += len(posts)
            counts["publications"] += len(pubs)
            counts["metric_snapshots"] += len(snapshots)
            counts["account_snapshots"] += len(ids["accounts"])
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    return "ville-de-bench", raw, counts


def measure(settings: Settings, engine: Engine, slug: str, token: str, runs: int) -> dict[str, Any]:
    first = END - timedelta(days=365)
    url = f"/api/v1/authorities/{slug}/reach?from={first}&to={END - timedelta(days=1)}&by=pillar"
    with harness.client(settings, engine, token) as http:
        body = harness.warm_up(http, url).json()
        times = harness.durations(lambda: http.get(url).raise_for_status(), runs)
    # The same report in process, with the CPU time of this thread beside the wall time: on a
    # loaded machine the wall time mostly measures the wait for a core.
    walls, cpus = [], []
    with Session(engine) as session:
        town = session.exec(select(Authority).where(Authority.slug == slug)).one()
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.thread_time()
            reach.reach(
                session,
                authority=town,
                from_date=first,
                to_date=END - timedelta(days=1),
                by=reach.GroupBy.pillar,
            ).model_dump_json()
            cpus.append((time.thread_time() - cpu) * 1000)
            walls.append((time.perf_counter() - started) * 1000)
            session.rollback()
    return {
        "publications_in_year": body["total"]["publications"],
        "p50": statistics.median(times),
        "p95": harness.percentile(times, 95),
        "service_p50": statistics.median(walls),
        "service_p95": harness.percentile(walls, 95),
        "cpu_p50": statistics.median(cpus),
        "cpu_p95": harness.percentile(cpus, 95),
        "load": os.getloadavg()[0],
    }


def run(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    with harness.migrated(database, url) as (settings, engine):
        started = time.perf_counter()
        slug, token, counts = seed(engine, args)
        harness.log(f"  seeded in {time.perf_counter() - started:.0f} s: {counts}")
        result = measure(settings, engine, slug, token, args.runs)
    harness.log(
        f"  {result['publications_in_year']} publications in the year; "
        f"HTTP p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms; "
        f"in process p50 {result['service_p50']:.1f} ms, p95 {result['service_p95']:.1f} ms; "
        f"CPU of the thread p50 {result['cpu_p50']:.1f} ms, p95 {result['cpu_p95']:.1f} ms; "
        f"load average {result['load']:.1f}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--posts-per-day", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=6, choices=range(2, 7))
    parser.add_argument("--runs", type=int, default=100)
    harness.add_database_options(parser, default="postgresql", postgres="bench_reach")
    args = parser.parse_args()
    harness.log(
        f"Python {sys.version.split()[0]}; {args.years} years, {args.posts_per_day} posts a day, "
        f"{args.accounts} accounts; {args.runs} runs"
    )
    for database, url in harness.databases(args.database, args.postgres_url):
        run(database, url, args)


if __name__ == "__main__":
    main()
