"""In `beffroi serve`, the sandboxes are mounted in the application itself: an adapter running in
one of the app's worker threads calls the app's own sandbox, and must not wait for a thread."""

from __future__ import annotations

import threading
from typing import Any

import anyio.to_thread
import httpx
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from beffroi.app import create_app
from core.authorities.models import Role
from tests.conftest import eventually, free_port, make_settings
from tests.factories import bearer, make_authority, make_member


class OneThread:
    """Leaves the application a single worker thread: the strictest case for a deadlock."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        await self.app(scope, receive, send)


def test_sandbox_accounts_work_against_the_apps_own_sandbox(
    db: Engine, session: Session, database_url: str
) -> None:
    port = free_port()
    settings = make_settings(
        database_url,
        public_url=f"http://127.0.0.1:{port}",
        network_timeout_seconds=10,
    )
    assert settings.sandbox_base_url == f"http://127.0.0.1:{port}/sandbox"
    app = create_app(settings, engine=db, run_mailer=False)
    server = uvicorn.Server(
        uvicorn.Config(OneThread(app), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    eventually(lambda: server.started, timeout=20)
    try:
        authority = make_authority(session)
        headers = bearer(session, make_member(session, authority, Role.admin))
        base = f"http://127.0.0.1:{port}/api/v1/authorities/{authority.slug}/accounts"
        created: dict[str, Any] = httpx.post(
            base,
            json={"network": "mastodon", "name": "Val-de-Brume", "sandbox": True},
            headers=headers,
            timeout=20,
        ).json()
        assert created["health"] == "ok", created
        checked = httpx.post(f"{base}/{created['id']}/check", headers=headers, timeout=20)
        assert checked.json()["health"] == "ok"
        sandbox = app.state.sandbox
        assert sandbox.account("mastodon", created["remote_id"]) is not None
        feed = httpx.get(f"http://127.0.0.1:{port}/sandbox/mastodon/feed/{created['remote_id']}")
        assert feed.status_code == 200
        assert "Val-de-Brume" in feed.text
    finally:
        server.should_exit = True
        thread.join(10)
