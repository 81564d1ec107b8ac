"""Benchmark: the month page of the calendar (server-rendered HTML) for a busy month, against the
JSON calendar of the same month measured in the same run, on SQLite and PostgreSQL.

    .venv/bin/python bench/calendar_page.py [--posts 200000] [--authorities 500] [--heavy 20000]
        [--runs 50] [--database sqlite|postgresql|both] [--postgres-url URL]

The database is seeded by `bench/calendar_json.py` (one authority with five years of history and a
busy December 2026 inside a pre-electoral period). The application is served by uvicorn on
loopback; an editor signs in through the sign-in page, then, alternately, the month page
(`/a/{slug}/calendar?month=2026-12`, session cookie) and the JSON calendar
(`/api/v1/authorities/{slug}/calendar?month=2026-12`, bearer token) are fetched `--runs` times
each over real HTTP: p50 and p95 of each, and the difference, which is the cost of the page
itself (reading the pillars, accounts and campaigns, building the days, rendering the template).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import calendar_json as bench
import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import Engine

from core import migrations, security
from core.config import Settings
from core.db import make_engine

PASSWORD = "bench-mot-de-passe"


def timed(http: httpx.Client, url: str, **kwargs: Any) -> float:
    started = time.perf_counter()
    response = http.get(url, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def measure(settings: Settings, engine: Engine, slug: str, token: str, runs: int) -> dict[str, Any]:
    month = f"{bench.BUSY_MONTH:%Y-%m}"
    page_url = f"/a/{slug}/calendar?month={month}"
    json_url = f"/api/v1/authorities/{slug}/calendar?month={month}"
    bearer = {"Authorization": f"Bearer {token}"}
    with engine.begin() as conn:
        conn.execute(
            sa.text('UPDATE "user" SET password_hash = :hash WHERE email = :email'),
            {"hash": security.hash_password(PASSWORD), "email": "bench@mairie.example.org"},
        )
    with bench.served(settings, engine) as base, httpx.Client(base_url=base) as http:
        login = http.get("/login")
        csrf = re.search(r'name="csrf-token" content="([0-9a-f]+)"', login.text)
        assert csrf, "no CSRF token on the sign-in page"
        signed = http.post(
            "/login",
            data={
                "email": "bench@mairie.example.org",
                "password": PASSWORD,
                "csrf_token": csrf.group(1),
            },
        )
        assert signed.status_code == 303, f"sign-in refused: {signed.status_code}"
        for _ in range(5):  # warm up: imports, template compilation, caches, connection pool
            timed(http, page_url)
            timed(http, json_url, headers=bearer)
        page = http.get(page_url)
        page_times, json_times = [], []
        for _ in range(runs):
            page_times.append(timed(http, page_url))
            json_times.append(timed(http, json_url, headers=bearer))
    return {
        "posts_shown": page.text.count('class="cal-post '),
        "page_bytes": len(page.content),
        "page_p50": statistics.median(page_times),
        "page_p95": bench.percentile(page_times, 95),
        "json_p50": statistics.median(json_times),
        "json_p95": bench.percentile(json_times, 95),
    }


def run(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    bench.log(f"{database}: {url}")
    if database == "postgresql":
        bench.reset_postgres(url)
    migrations.upgrade(url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        database_url=url,
        secret_key="bench-secret-key-" + "x" * 32,
        encryption_key=Fernet.generate_key().decode(),
        smtp_host=None,
        public_url="http://127.0.0.1",
    )
    engine = make_engine(url)
    try:
        slug, token = bench.seed(
            engine, posts=args.posts, authorities=args.authorities, heavy=args.heavy
        )
        result = measure(settings, engine, slug, token, args.runs)
    finally:
        engine.dispose()
    bench.log(
        f"  {result['posts_shown']} posts on the page ({result['page_bytes'] // 1024} KiB); "
        f"page p50 {result['page_p50']:.1f} ms, p95 {result['page_p95']:.1f} ms; "
        f"JSON p50 {result['json_p50']:.1f} ms, p95 {result['json_p95']:.1f} ms; "
        f"page minus JSON p50 {result['page_p50'] - result['json_p50']:.1f} ms"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--authorities", type=int, default=500)
    parser.add_argument("--heavy", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BEFFROI_BENCH_POSTGRES_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/bench_calendar_page",
        ),
    )
    args = parser.parse_args()
    if args.heavy >= args.posts or args.heavy <= bench.BUSY_EXTRA:
        sys.exit("--heavy must be between 600 and --posts")
    bench.log(f"Python {sys.version.split()[0]}; {args.posts} posts, {args.authorities} "
              f"authorities, heavy authority {args.heavy} posts; {args.runs} runs")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        if args.database in ("sqlite", "both"):
            run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
        if args.database in ("postgresql", "both"):
            run("postgresql", args.postgres_url, args)


if __name__ == "__main__":
    main()
