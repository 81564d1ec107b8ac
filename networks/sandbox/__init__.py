"""Sandboxes: one server per network that speaks the network's real HTTP protocol, so that the
real client libraries talk to it unmodified. `build_app(sandbox)` mounts them all:
/x, /linkedin, /facebook, /instagram, /mastodon, /bluesky, and an index page at /.

Every endpoint is asynchronous and never blocks the event loop: an adapter running in a worker
thread of the same process (the pages, the API, the scheduler of `beffroi serve`) can call the
sandbox mounted in that process without waiting for a free thread.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from networks.sandbox.state import NETWORKS, Knobs, Received, Sandbox, SandboxAccount, SandboxPost

__all__ = [
    "NETWORKS",
    "Knobs",
    "Received",
    "Sandbox",
    "SandboxAccount",
    "SandboxPost",
    "build_app",
]


def build_app(sandbox: Sandbox, *, static: bool = False) -> Starlette:
    """The sandboxes as one ASGI application. `static` also serves Beffroi's /static files (for
    the pages' style sheet when the sandboxes run on their own)."""
    # Imported here: the adapters import this package (for its tokens) and need no server.
    from networks.sandbox import pages
    from networks.sandbox.bluesky import BlueskyServer
    from networks.sandbox.linkedin import LinkedInServer
    from networks.sandbox.mastodon import MastodonServer
    from networks.sandbox.meta import FacebookServer, InstagramServer
    from networks.sandbox.x import XServer

    servers = [
        XServer(sandbox),
        LinkedInServer(sandbox),
        FacebookServer(sandbox),
        InstagramServer(sandbox),
        MastodonServer(sandbox),
        BlueskyServer(sandbox),
    ]

    async def index(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        with sandbox.lock:
            accounts = [
                {
                    "network": account.network,
                    "name": account.name,
                    "handle": account.handle,
                    "remote_id": account.remote_id,
                    "posts": len(account.live_posts()),
                    "url": f"{root}/{account.network}/feed/{account.remote_id}",
                }
                for account in sandbox.accounts.values()
            ]
        accounts.sort(key=lambda a: (str(a["network"]), str(a["name"]).lower()))
        return HTMLResponse(pages.render_index(request, {"accounts": accounts}))

    routes: list[Route | Mount] = [Route("/", index, methods=["GET"])]
    if static:
        from web.templating import STATIC_DIR

        routes.append(Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"))
    routes += [Mount(f"/{server.network}", app=server.app()) for server in servers]
    app = Starlette(routes=routes)
    app.state.sandbox = sandbox
    return app
