"""The adapters' HTTP sessions: connections kept alive and shared by the accounts, but not past
the servers' patience."""

from __future__ import annotations

import asyncio
import http.server as http_server
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from networks import http, meta
from networks.config import AdapterConfig
from networks.meta import FacebookAdapter
from tests.conftest import serving


async def client_port(request: Request) -> PlainTextResponse:
    assert request.client is not None
    if request.query_params.get("wait"):
        await asyncio.sleep(float(request.query_params["wait"]))
    return PlainTextResponse(str(request.client.port))


async def graph_port(request: Request) -> JSONResponse:
    """The connection and the cookies a Graph API request came with; it sets a cookie."""
    assert request.client is not None
    response = JSONResponse({"port": request.client.port, "cookie": request.headers.get("cookie")})
    response.set_cookie("fr", request.query_params.get("access_token", ""))
    return response


@pytest.fixture
def server() -> Iterator[str]:
    """A server that tells each request which client port (which connection) it came from,
    after `?wait=` seconds."""
    routes = [
        Route("/", client_port, methods=["POST"]),
        Route("/graph/{rest:path}", graph_port, methods=["GET"]),
    ]
    with serving(Starlette(routes=routes)) as url:
        yield url + "/"


def port(session: requests.Session, url: str, wait: float = 0) -> str:
    """Which connection a request of `session` went out on."""
    response = session.post(url, params={"wait": wait} if wait else None, data=b"x")
    response.raise_for_status()
    return response.text


def test_a_connection_is_kept_for_the_next_request_but_not_once_it_has_idled(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_EXPIRY", 0.3)
    session = http.session(timeout=5)
    first = port(session, server)
    assert port(session, server) == first  # kept alive
    time.sleep(0.5)  # idle past the expiry: a new connection, not a stale one
    second = port(session, server)
    assert second != first
    assert port(session, server) == second


def test_the_accounts_sessions_share_their_connections(server: str) -> None:
    # One session per account, as the adapters build them: the second account's publication
    # goes out on the connection the first one opened, even once the first session is closed.
    first, second = http.session(timeout=5), http.session(timeout=5)
    opened = port(first, server)
    first.close()
    assert port(second, server) == opened
    assert port(http.session(timeout=5), server) == opened
    # A different timeout is another adapter, with its own connections.
    assert port(http.session(timeout=6), server) != opened


def test_the_facebook_and_instagram_accounts_share_their_connections(server: str) -> None:
    def page(token: str) -> FacebookAdapter:
        config = AdapterConfig(
            credentials={"access_token": token}, api_url=server + "graph", version="v1"
        )
        return FacebookAdapter(config)

    first, second = page("token-a"), page("token-b")
    opened = first.request("GET", "/me")
    answer = second.request("GET", "/me")
    assert answer["port"] == opened["port"]
    # The connection, not the cookies: the first page's did not go out with the second's call.
    assert answer["cookie"] is None


def test_a_connection_that_idled_in_a_busy_pool_is_not_used_again(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_EXPIRY", 1.0)
    session = http.session(timeout=5)
    with ThreadPoolExecutor(2) as pool:
        # Two at once open two connections.
        pair = set(pool.map(lambda _: port(session, server, wait=0.2), range(2)))
        assert len(pair) == 2
        # One at a time, the pool keeps using the last one given back; the other one idles.
        busy = set()
        for _ in range(14):
            busy.add(port(session, server))
            time.sleep(0.1)
        assert len(busy) == 1
        assert busy < pair
        (idle,) = pair - busy
        # Two at once again: the busy one, and a new one instead of the one that idled.
        again = set(pool.map(lambda _: port(session, server, wait=0.2), range(2)))
    assert busy < again
    assert idle not in again


@pytest.fixture
def proxy() -> Iterator[str]:
    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _Proxy(http_server.BaseHTTPRequestHandler):
    """An HTTP proxy as its clients see it (keep-alive, absolute URLs): it answers each request
    with the port of the connection it came in on."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = str(self.client_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_behind_an_http_proxy_idle_connections_expire_too(
    proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "KEEPALIVE_EXPIRY", 0.3)
    session = http.session(timeout=5)
    session.proxies = {"http": proxy}
    first = port(session, "http://mastodon.example/api/v1/statuses")
    assert port(session, "http://mastodon.example/api/v1/statuses") == first
    time.sleep(0.5)
    assert port(session, "http://mastodon.example/api/v1/statuses") != first


def test_facebook_and_instagram_go_through_the_proxy_of_the_environment(
    proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setattr(meta, "_client", None)  # built anew, reading the environment
    config = AdapterConfig(
        credentials={"access_token": "t"}, api_url="http://graph.example", version="v1"
    )
    # The proxy answered (with the port of the connection), not graph.example.
    assert isinstance(FacebookAdapter(config).request("POST", "/me/feed"), int)
