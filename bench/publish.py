"""Benchmark: the publishing engine against the sandboxes, and the bare-loop baseline, in one run.

    .venv/bin/python bench/publish.py [--database sqlite|postgresql|both] [--postgres-url URL]
        [--rate 1000] [--minutes 5] [--burst 5000] [--authorities 1000] [--future 1000000]
        [--latency 0.15] [--concurrency 64] [--repeat 1] [--parts burst,steady,memory]

The issue's sizes are the defaults; smaller ones can be given (docs/benchmarks.md says which were
run). The sandboxes (every network's, one uvicorn server in this process) answer each call after
`--latency` seconds. Each authority has one Mastodon sandbox account.

- (a) steady: `--rate` publications per minute for `--minutes`, due at evenly spread instants;
- (b) burst: `--burst` publications due in the same second across `--authorities` authorities;
- baseline: the same client library (Mastodon.py through Beffroi's adapter) publishing the burst's
  texts to the same sandboxes from bare thread pools, no database, in as many processes as the
  engine has workers, each with the same concurrency as a worker;
- memory: `--future` publications due next year in the database, then the resident memory of a
  worker after it has run for a few seconds.

On a shared machine the ratio of the burst to its baseline moves from one run to the next:
`--repeat N` measures the baseline and the burst one after the other N times, prints each round's
ratio, and reports every round and, as the result, the round of the median ratio.

The engine runs as real `beffroi worker` processes: one on SQLite, two on PostgreSQL, publishing
only (`BEFFROI_COLLECT_REACH=false`). Lateness is
when the sandbox received the post minus its due time (p50, p99, max); throughput is publications
per second from the first due time to the last receipt. For the burst, the processor time per
publication is measured too: the baseline's sending, the workers', the local PostgreSQL
server's (all its processes) and the sandboxes' (this process), since on a machine of two cores
they share the same processors.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import harness
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlmodel import Session

from core import crypto, migrations
from core.accounts.models import Account, AccountHealth, Network
from core.authorities.models import Authority
from core.config import Settings
from core.db import make_engine
from core.posts.models import Post, Publication
from networks import registry
from networks.base import NetworkError
from networks.base import Post as OutgoingPost
from networks.sandbox import Sandbox, build_app, tokens
from networks.sandbox.provision import provision

SECRET = "bench-secret-key-that-is-long-enough-for-beffroi-0123456789"
KEY = Fernet.generate_key().decode()


def now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def sandbox_server(latency: float) -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox(tokens.derive_secret(SECRET))
    sandbox.set_knobs(latency=latency)
    with harness.serve(build_app(sandbox), backlog=4096) as url:
        yield sandbox, url


def settings_for(url: str, sandbox_url: str, concurrency: int) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=url,
        secret_key=SECRET,
        encryption_key=KEY,
        public_url="http://bench.invalid",
        sandbox=True,
        sandbox_url=sandbox_url,
        publish_concurrency=concurrency,
        publish_network_concurrency=concurrency,
    )


def seed_accounts(engine: sa.Engine, settings: Settings, count: int) -> list[dict[str, Any]]:
    """`count` authorities, each with one Mastodon sandbox account."""
    rows = []
    with Session(engine) as session:
        for i in range(count):
            authority = Authority(name=f"Commune {i}", slug=f"commune-{i}")
            session.add(authority)
            session.flush()
            grant = provision(settings, Network.mastodon, name=f"Commune {i}")
            account = Account(
                authority_id=authority.id,  # type: ignore[arg-type]
                network=Network.mastodon,
                name=f"Commune {i}",
                handle=grant.handle,
                instance_url=grant.instance_url,
                sandbox=True,
                remote_id=grant.remote_id,
                credentials_encrypted=crypto.encrypt(settings, grant.credentials),
                health=AccountHealth.ok,
            )
            session.add(account)
            session.flush()
            rows.append({"authority_id": authority.id, "account_id": account.id, "grant": grant})
        session.commit()
    return rows


def seed_publications(
    engine: sa.Engine, items: list[tuple[dict[str, Any], str, datetime]], *, chunk: int = 2000
) -> None:
    """Approved posts with one scheduled publication each: (account row, text, due time)."""
    stamp = now()
    with engine.begin() as connection:
        for start in range(0, len(items), chunk):
            part = items[start : start + chunk]
            post_ids = connection.execute(
                sa.insert(Post).returning(Post.id),  # type: ignore[arg-type]
                [
                    harness.post_row(
                        a["authority_id"], text, status="approved", scheduled_at=due, stamp=stamp
                    )
                    for a, text, due in part
                ],
            ).scalars()
            connection.execute(
                sa.insert(Publication),
                [
                    {
                        "authority_id": a["authority_id"],
                        "post_id": post_id,
                        "account_id": a["account_id"],
                        "status": "scheduled",
                        "due_at": due,
                        "attempts": 0,
                        "updated_at": stamp,
                    }
                    for (a, _text, due), post_id in zip(part, post_ids, strict=True)
                ],
            )


def start_workers(count: int, url: str, sandbox_url: str, concurrency: int) -> list[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
    env.update(
        {
            "BEFFROI_ENV": "test",
            "BEFFROI_DATABASE_URL": url,
            "BEFFROI_SECRET_KEY": SECRET,
            "BEFFROI_ENCRYPTION_KEY": KEY,
            "BEFFROI_PUBLIC_URL": "http://bench.invalid",
            "BEFFROI_SANDBOX": "true",
            "BEFFROI_SANDBOX_URL": sandbox_url,
            "BEFFROI_PUBLISH_CONCURRENCY": str(concurrency),
            "BEFFROI_PUBLISH_NETWORK_CONCURRENCY": str(concurrency),
            "BEFFROI_LOG_LEVEL": "warning",
            # Publishing only: the reach collection would read every account's followers from
            # the same sandboxes meanwhile, and hold the workers' shutdown for as long.
            "BEFFROI_COLLECT_REACH": "false",
        }
    )
    return [
        subprocess.Popen([sys.executable, "-m", "beffroi", "worker"], env=env) for _ in range(count)
    ]


def stop_workers(processes: list[Any]) -> None:
    for p in processes:
        p.terminate()
    for p in processes:
        p.wait(60)


@contextmanager
def workers_running(
    count: int, url: str, sandbox_url: str, concurrency: int, *, settle: float = 3
) -> Iterator[list[Any]]:
    """`count` fresh workers, given `settle` seconds to start, stopped afterwards."""
    workers = start_workers(count, url, sandbox_url, concurrency)
    try:
        time.sleep(settle)
        yield workers
    finally:
        stop_workers(workers)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every local PostgreSQL process (its server, when it runs on this machine)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


def posts_received(sandbox: Sandbox) -> int:
    """How many posts the sandboxes hold: cheap enough to ask twice a second during a run."""
    with sandbox.lock:
        return sum(len(account.posts) for account in sandbox.accounts.values())


def received(sandbox: Sandbox, accounts: list[dict[str, Any]], prefix: str) -> dict[str, datetime]:
    got: dict[str, datetime] = {}
    for a in accounts:
        for post in sandbox.posts("mastodon", a["grant"].remote_id):
            if post.text.startswith(prefix):
                if post.text in got:
                    raise AssertionError(f"published twice: {post.text}")
                got[post.text] = post.created_at
    return got


def wait_for(
    sandbox: Sandbox,
    accounts: list[dict[str, Any]],
    prefix: str,
    count: int,
    timeout: float,
    *,
    before: int,
) -> dict[str, datetime]:
    """The `count` posts starting with `prefix`, with when the sandbox received each, once the
    sandboxes hold `count` more posts than `before` (or at the timeout). The posts are read
    once at the end: reading them all twice a second took the sandboxes' processor time."""
    deadline = time.monotonic() + timeout
    while posts_received(sandbox) - before < count and time.monotonic() < deadline:
        time.sleep(0.5)
    return received(sandbox, accounts, prefix)


def lateness(due: dict[str, datetime], got: dict[str, datetime]) -> dict[str, float]:
    values = sorted((got[t] - due[t]).total_seconds() for t in got)
    if not values:
        return {"n": 0}
    first_due = min(due.values())
    last = max(got.values())
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p99": values[min(len(values) - 1, int(len(values) * 0.99))],
        "max": values[-1],
        "throughput": len(values) / max(0.001, (last - first_due).total_seconds()),
        "span": (last - first_due).total_seconds(),
    }


def baseline(
    settings: Settings,
    accounts: list[dict[str, Any]],
    per_account: int,
    concurrency: int,
    processes: int,
    prefix: str,
) -> dict[str, float]:
    """The same library and sandboxes from bare thread pools, no database, no engine, with the
    engine's topology: as many processes as it has workers (`processes`), each with
    `concurrency` threads and its share of the accounts. Each process builds its clients first;
    all start at the same instant. Throughput counts the posts that went out; a call that failed
    (the sandboxes' answer too late on a crowded machine) is counted apart, not tried again."""
    shares = [accounts[i::processes] for i in range(processes)]
    start_at = time.time() + 5
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        runs = [
            pool.submit(
                bare_loop,
                str(settings.sandbox_url),
                [a["grant"] for a in share],
                per_account,
                concurrency,
                start_at,
                f"{prefix} {n}",
            )
            for n, share in enumerate(shares)
        ]
        time.sleep(max(0.0, start_at - time.time()))
        sandbox_cpu = time.process_time()
        done = [run.result() for run in runs]
        sandbox_cpu = time.process_time() - sandbox_cpu
    sent = sum(run.sent for run in done)
    seconds = max(run.ended for run in done) - min(run.started for run in done)
    cpu = sum(run.cpu for run in done)
    return {
        "n": sent,
        "failed": sum(run.failed for run in done),
        "seconds": seconds,
        "throughput": sent / seconds,
        "cpu_ms_per_publication": 1000 * cpu / max(1, sent),
        "sandboxes_cpu_ms_per_publication": 1000 * sandbox_cpu / max(1, sent),
    }


class BareRun(NamedTuple):
    sent: int
    failed: int
    started: float
    ended: float
    cpu: float  # seconds of processor time spent sending


def bare_loop(
    sandbox_url: str,
    grants: list[Any],
    per_account: int,
    concurrency: int,
    start_at: float,
    prefix: str,
) -> BareRun:
    """One baseline process."""
    settings = settings_for("sqlite://", sandbox_url, concurrency)
    adapters = [
        registry.build(
            Network.mastodon,
            registry.config_for(
                Network.mastodon,
                settings,
                credentials=grant.credentials,
                remote_id=grant.remote_id,
                handle=grant.handle,
                sandbox=True,
                instance_url=grant.instance_url,
            ),
        )
        for grant in grants
    ]
    jobs = [
        (adapter, f"{prefix}-{i}-{n}")
        for n in range(per_account)
        for i, adapter in enumerate(adapters)
    ]

    def publish(job: tuple[Any, str]) -> bool:
        adapter, text = job
        try:
            adapter.publish(OutgoingPost(text=text), idempotency_key=text)
        except NetworkError:
            return False
        return True

    time.sleep(max(0.0, start_at - time.time()))
    started = time.time()
    cpu = time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        sent = sum(pool.map(publish, jobs))
    return BareRun(sent, len(jobs) - sent, started, time.time(), time.process_time() - cpu)


def burst(
    engine: sa.Engine,
    sandbox: Sandbox,
    accounts: list[dict[str, Any]],
    workers: list[Any],
    database: str,
    args: argparse.Namespace,
    prefix: str,
) -> dict[str, Any]:
    """(b): `--burst` publications due in the same second, and what each cost in processor time."""
    due = now() + timedelta(seconds=5)
    items = [(accounts[i % len(accounts)], f"{prefix}{i}", due) for i in range(args.burst)]
    before = posts_received(sandbox)
    seed_publications(engine, items)
    workers_cpu = sum(cpu_seconds(w.pid) for w in workers)
    database_cpu = postgres_cpu_seconds()
    sandbox_cpu = time.process_time()
    got = wait_for(sandbox, accounts, prefix, args.burst, timeout=300, before=before)
    sandbox_cpu = time.process_time() - sandbox_cpu
    result = lateness({t: d for _, t, d in items}, got)
    # What each publication cost in processor time, beside the baseline's.
    sent = max(1, len(got))
    workers_cpu = sum(cpu_seconds(w.pid) for w in workers) - workers_cpu
    result["workers_cpu_ms_per_publication"] = 1000 * workers_cpu / sent
    result["sandboxes_cpu_ms_per_publication"] = 1000 * sandbox_cpu / sent
    if database == "postgresql":
        database_cpu = postgres_cpu_seconds() - database_cpu
        result["postgres_cpu_ms_per_publication"] = 1000 * database_cpu / sent
    return result


def run(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"database": database}
    workers_count = 1 if database == "sqlite" else 2
    with sandbox_server(args.latency) as (sandbox, sandbox_url):
        settings = settings_for(url, sandbox_url, args.concurrency)
        migrations.upgrade(url)
        engine = make_engine(url)
        accounts = seed_accounts(engine, settings, args.authorities)

        # (b) burst, `--repeat` times: the baseline first each time, on its own accounts' time
        # (same accounts, its own texts), then the engine, so that both meet the same machine.
        rounds = []
        for n in range(args.repeat if "burst" in args.parts else 0):
            bare = baseline(
                settings,
                accounts,
                max(1, args.burst // len(accounts)),
                args.concurrency,
                workers_count,
                f"baseline {n}",
            )
            with workers_running(workers_count, url, sandbox_url, args.concurrency) as workers:
                measured = burst(engine, sandbox, accounts, workers, database, args, f"burst {n}-")
            ratio = measured["throughput"] / bare["throughput"]
            print({"database": database, "round": n, "burst_ratio": ratio}, flush=True)
            rounds.append({"baseline": bare, "burst": measured, "burst_ratio": ratio})
        if rounds:
            results["rounds"] = rounds
            # The round of the median ratio stands for all (the lower one of an even count).
            middle = sorted(rounds, key=lambda r: r["burst_ratio"])[(len(rounds) - 1) // 2]
            results.update(middle)

        # (a) steady
        if "steady" in args.parts:
            with workers_running(workers_count, url, sandbox_url, args.concurrency):
                total = int(args.rate * args.minutes)
                first = now() + timedelta(seconds=10)
                spacing = 60.0 / args.rate
                items = [
                    (
                        accounts[i % len(accounts)],
                        f"steady {i}",
                        first + timedelta(seconds=i * spacing),
                    )
                    for i in range(total)
                ]
                before = posts_received(sandbox)
                seed_publications(engine, items)
                got = wait_for(
                    sandbox,
                    accounts,
                    "steady ",
                    total,
                    timeout=args.minutes * 60 + 120,
                    before=before,
                )
                results["steady"] = lateness({t: d for _, t, d in items}, got)

        if "memory" not in args.parts:
            engine.dispose()
            return results
        # memory with many future publications
        future = now() + timedelta(days=365)
        items = [
            (accounts[i % len(accounts)], f"future {i}", future + timedelta(seconds=i))
            for i in range(args.future)
        ]
        seed_publications(engine, items, chunk=5000)
        with workers_running(1, url, sandbox_url, args.concurrency, settle=15) as workers:
            results["memory_mb"] = rss_mb(workers[0].pid)
        engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    harness.add_database_options(parser, default="both", postgres="bench_publish")
    parser.add_argument("--rate", type=int, default=1000, help="(a) publications per minute")
    parser.add_argument("--minutes", type=float, default=5, help="(a) duration")
    parser.add_argument("--burst", type=int, default=5000, help="(b) publications due at once")
    parser.add_argument("--authorities", type=int, default=1000)
    parser.add_argument("--future", type=int, default=1_000_000)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--concurrency", type=int, default=64, help="per worker and per network")
    parser.add_argument(
        "--repeat", type=int, default=1, help="(b) and its baseline, one after the other, N times"
    )
    parser.add_argument(
        "--parts",
        type=lambda v: set(v.split(",")),
        default={"burst", "steady", "memory"},
        help="which measurements to run, comma-separated: burst, steady, memory",
    )
    args = parser.parse_args()

    for database, url in harness.databases(args.database, args.postgres_url):
        started = time.monotonic()
        result = run(database, url, args)
        result["wall_seconds"] = time.monotonic() - started
        print(result, flush=True)


if __name__ == "__main__":
    main()
