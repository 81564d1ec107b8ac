"""Test fixtures. Every test that touches the database runs twice: on SQLite and on PostgreSQL.

Migrations run once per backend and per test session; each test starts from empty tables (rows are
deleted after each test), so the code under test can commit, open its own sessions and threads,
exactly as in production.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

import core.models  # noqa: F401 - the whole metadata
from beffroi.app import create_app
from core import migrations
from core.config import Settings
from core.db import make_engine, metadata
from core.publishing.engine import forget_local_pauses

POSTGRES_URL = os.environ.get(
    "BEFFROI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_SECRET = "test-secret-key-that-is-long-enough-for-beffroi"


def _worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"_{worker}" if worker else ""


def postgres_url(suffix: str = "") -> str:
    """A PostgreSQL database of this test process, created if missing; skipped (or, in CI,
    failed) when PostgreSQL is not running."""
    base = make_url(POSTGRES_URL)
    name = f"{base.database}{_worker_suffix()}{suffix}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_postgres(url: str) -> None:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'beffroi.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def delete_all_rows(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
    # Ids are used again on SQLite: what this process remembers of the pauses goes too.
    forget_local_pauses()


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The engine of a clean database; every row written by the test is deleted afterwards."""
    yield engine
    delete_all_rows(engine)


@pytest.fixture(scope="session")
def test_engine(database_url: str) -> Iterator[Engine]:
    # The test's own connection begins its SQLite transactions DEFERRED: a test that reads and
    # keeps its transaction open must not hold the write lock the application is waiting for.
    engine = make_engine(database_url, sqlite_immediate=False)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db: Engine, test_engine: Engine) -> Iterator[Session]:
    """A session for the test itself. On SQLite an open transaction keeps reading its own
    snapshot: use `reload()` to see what the application committed meanwhile."""
    with Session(test_engine, expire_on_commit=False) as session:
        yield session


def reload(session: Session, obj: object) -> None:
    session.rollback()  # end the test's read snapshot (SQLite WAL keeps it for the transaction)
    session.refresh(obj)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "encryption_key": Fernet.generate_key().decode(),
        "public_url": "http://testserver",
        "smtp_host": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Media files go to the test's own directory, never to ./var.
    return make_settings(database_url, data_dir=tmp_path / "data")


@pytest.fixture
def app(db: Engine, settings: Settings) -> FastAPI:
    return create_app(settings, engine=db, run_mailer=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


# --- a real SMTP server on loopback ---------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} e-mail(s), received {len(self.messages)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# --- helpers -------------------------------------------------------------------------------------


@pytest.fixture
def screenshots_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# --- a live server and a real Chromium ----------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The browser's own language formats date and time fields and the file picker (the context's
# locale only sets what pages are told); Chromium reads it from LANGUAGE, and needs Debian's
# chromium-l10n for French. A French town hall's browsers speak French.
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "fr"}


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[str]:
    """`app` served over real HTTP on loopback by uvicorn, in a thread of the test process;
    yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=20)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The application served over real HTTP on loopback, in a thread of the test process."""
    with serving(app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        message = f"Chromium is missing at {CHROMIUM}: run scripts/ensure-chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=CHROMIUM_ENV
        )
        yield browser
        browser.close()


def assert_accessible(page: Any) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, "\n".join(bad)


# --- the network sandboxes, served over real HTTP on loopback -----------------------------------


@dataclass
class SandboxServer:
    sandbox: Any  # networks.sandbox.Sandbox
    url: str


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """Every network's sandbox in a thread of the test process, for the whole session. Tests
    use fresh accounts, so they do not see each other's posts or faults."""
    from networks.sandbox import Sandbox, build_app, tokens

    sandbox = Sandbox(tokens.derive_secret(TEST_SECRET))
    with serving(build_app(sandbox, static=True), timeout_graceful_shutdown=1) as url:
        try:
            yield SandboxServer(sandbox=sandbox, url=url)
        finally:
            sandbox.reset()
