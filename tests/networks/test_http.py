"""The adapters' HTTP sessions: connections kept alive, but not past the servers' patience."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from networks import http
from tests.conftest import eventually, free_port


async def client_port(request: Request) -> PlainTextResponse:
    assert request.client is not None
    return PlainTextResponse(str(request.client.port))


@pytest.fixture
def server() -> Iterator[str]:
    """A server that tells each request which client port (which connection) it came from."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        Starlette(routes=[Route("/", client_port, methods=["POST"])]),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=20)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_connection_is_kept_for_the_next_request_but_not_once_it_has_idled(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_EXPIRY", 0.3)
    session = http.session(timeout=5)

    def connection() -> str:
        response = session.post(server, data=b"x")
        response.raise_for_status()
        return response.text

    first = connection()
    assert connection() == first  # kept alive
    time.sleep(0.5)  # idle past the expiry: a new connection, not a stale one
    second = connection()
    assert second != first
    assert connection() == second
