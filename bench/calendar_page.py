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
import re
import statistics
from typing import Any

import calendar_json
import harness
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core import security
from core.config import Settings

PASSWORD = "bench-mot-de-passe"


def measure(settings: Settings, engine: Engine, slug: str, token: str, runs: int) -> dict[str, Any]:
    month = f"{calendar_json.BUSY_MONTH:%Y-%m}"
    page_url = f"/a/{slug}/calendar?month={month}"
    json_url = f"/api/v1/authorities/{slug}/calendar?month={month}"
    bearer = {"Authorization": f"Bearer {token}"}
    with engine.begin() as conn:
        conn.execute(
            sa.text('UPDATE "user" SET password_hash = :hash WHERE email = :email'),
            {"hash": security.hash_password(PASSWORD), "email": "bench@mairie.example.org"},
        )
    with harness.client(settings, engine) as http:
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
        page = harness.warm_up(http, page_url)  # and the templates' compilation
        harness.warm_up(http, json_url, headers=bearer)
        page_times, json_times = [], []
        for _ in range(runs):  # alternately, so that both see the same load
            page_times.append(harness.timed(lambda: http.get(page_url).raise_for_status()))
            json_times.append(
                harness.timed(lambda: http.get(json_url, headers=bearer).raise_for_status())
            )
    return {
        "posts_shown": page.text.count('class="cal-post '),
        "page_bytes": len(page.content),
        "page_p50": statistics.median(page_times),
        "page_p95": harness.percentile(page_times, 95),
        "json_p50": statistics.median(json_times),
        "json_p95": harness.percentile(json_times, 95),
    }


def run(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    with harness.migrated(database, url, public_url="http://127.0.0.1") as (settings, engine):
        slug, token = calendar_json.seed(
            engine, posts=args.posts, authorities=args.authorities, heavy=args.heavy
        )
        result = measure(settings, engine, slug, token, args.runs)
    harness.log(
        f"  {result['posts_shown']} posts on the page ({result['page_bytes'] // 1024} KiB); "
        f"page p50 {result['page_p50']:.1f} ms, p95 {result['page_p95']:.1f} ms; "
        f"JSON p50 {result['json_p50']:.1f} ms, p95 {result['json_p95']:.1f} ms; "
        f"page minus JSON p50 {result['page_p50'] - result['json_p50']:.1f} ms"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    calendar_json.add_size_options(parser, posts=200_000, runs=50)
    harness.add_database_options(parser, default="both", postgres="bench_calendar_page")
    args = parser.parse_args()
    calendar_json.announce(args)
    for database, url in harness.databases(args.database, args.postgres_url):
        run(database, url, args)


if __name__ == "__main__":
    main()
