"""What the benchmarks share: the databases to measure, the server on loopback, the timing and
the percentiles. Each bench, run as a script, finds this module beside it (`import harness`).

The application, the server and the drivers are imported where they are used: bench/media.py
reports the process's peak memory, which must not include a web stack it does not run."""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.engine import Engine

    from core.config import Settings


def log(message: str) -> None:
    print(message, flush=True)


# --- databases ----------------------------------------------------------------------------------


def add_database_options(parser: argparse.ArgumentParser, *, default: str, postgres: str) -> None:
    """`--database sqlite|postgresql|both` and `--postgres-url`: BEFFROI_BENCH_POSTGRES_URL, or
    else the database `postgres` names on the local server (dropped and created again)."""
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default=default)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "BEFFROI_BENCH_POSTGRES_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/{postgres}"
        ),
    )


def databases(choice: str, postgres_url: str) -> Iterator[tuple[str, str]]:
    """The databases to measure, empty, as (name, URL): SQLite in a temporary folder, removed
    after its turn, then PostgreSQL, dropped and created again."""
    if choice in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            yield "sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}"
    if choice in ("postgresql", "both"):
        reset_postgres(postgres_url)
        yield "postgresql", postgres_url


def reset_postgres(url: str) -> None:
    import sqlalchemy as sa

    name = sa.engine.make_url(url).database
    admin = sa.create_engine(
        sa.engine.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def settings(url: str, **overrides: Any) -> Settings:
    """Settings of a test install on `url`, with fresh keys and no mail."""
    from cryptography.fernet import Fernet

    from core.config import Settings

    values: dict[str, Any] = {
        "env": "test",
        "database_url": url,
        "secret_key": "bench-secret-key-" + "x" * 32,
        "encryption_key": Fernet.generate_key().decode(),
        "smtp_host": None,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def migrated(name: str, url: str, **overrides: Any) -> Iterator[tuple[Settings, Engine]]:
    """The database `url` brought to the migrations' head (so with their indexes), its settings
    and an engine, disposed of afterwards. `name` is what the log calls it."""
    from core import migrations
    from core.db import make_engine

    log(f"{name}: {url}")
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        yield settings(url, **overrides), engine
    finally:
        engine.dispose()


def post_row(
    authority_id: int, text: str, *, status: str, scheduled_at: Any, stamp: Any
) -> dict[str, Any]:
    """The columns of a post row, for the benches that insert many at once."""
    return {
        "authority_id": authority_id,
        "status": status,
        "text": text,
        "scheduled_at": scheduled_at,
        "version": 1,
        "content_hash": "",
        "urgent_without_approval": False,
        "acknowledged": [],
        "created_at": stamp,
        "updated_at": stamp,
    }


# --- serving ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, **config: Any) -> Iterator[str]:
    """Serves `app` with uvicorn on a free loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def client(settings: Settings, engine: Engine, token: str | None = None) -> Iterator[httpx.Client]:
    """A client of Beffroi (without its mailer) served on `engine`, sending the API token if
    one is given."""
    import httpx

    from beffroi.app import create_app
    from beffroi.process import FreezeAfterWarmUp, freeze_startup_heap

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    app = create_app(settings, engine=engine, run_mailer=False)
    freeze_startup_heap(serving=True)  # as `beffroi serve` and `beffroi api` do
    with (
        serve(FreezeAfterWarmUp(app)) as base,  # as they do too
        httpx.Client(base_url=base, headers=headers) as http,
    ):
        yield http


# --- timing -------------------------------------------------------------------------------------


def warm_up(http: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """As many calls as a served process answers before it freezes its heap again (imports,
    caches, the connection pool); returns the last answer."""
    from beffroi.process import WARM_UP_REQUESTS

    for _ in range(WARM_UP_REQUESTS):
        response = http.get(url, **kwargs)
        response.raise_for_status()
    return response


def timed(work: Callable[[], object]) -> float:
    """How long `work()` took, in milliseconds."""
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def durations(work: Callable[[], object], runs: int) -> list[float]:
    return [timed(work) for _ in range(runs)]


def percentile(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]
