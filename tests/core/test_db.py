"""Database plumbing: what becomes of a PostgreSQL connection the server closed."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from core import db
from tests.conftest import postgres_url


def backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def close_from_the_server(url: str, pid: int) -> None:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = postgres_url()
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.05)
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        pid = backend_pid(engine)
        assert backend_pid(engine) == pid  # the pool's one connection, kept
        close_from_the_server(url, pid)
        time.sleep(0.1)  # idle longer than PING_AFTER_IDLE: checked when taken again

        assert backend_pid(engine) != pid  # a new connection, and no error
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_taken_without_a_round_trip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a busy worker saves: no ping. Were the server to close such a connection at that
    very moment, one statement would fail and the pool would replace the connection."""
    url = postgres_url()
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 60.0)
    engine = db.make_engine(url, pool_size=1, max_overflow=0)
    try:
        pid = backend_pid(engine)
        close_from_the_server(url, pid)

        with pytest.raises(sa.exc.OperationalError):
            backend_pid(engine)  # not pinged: the closed connection was used as it was
        assert backend_pid(engine) != pid
    finally:
        engine.dispose()
