"""The adapters' HTTP sessions: connections kept alive, but not past the servers' patience."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from networks import http
from tests.conftest import serving


async def client_port(request: Request) -> PlainTextResponse:
    assert request.client is not None
    return PlainTextResponse(str(request.client.port))


@pytest.fixture
def server() -> Iterator[str]:
    """A server that tells each request which client port (which connection) it came from."""
    with serving(Starlette(routes=[Route("/", client_port, methods=["POST"])])) as url:
        yield url + "/"


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
