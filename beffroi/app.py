"""The composition root: builds the ASGI application (JSON API, pages, static files and, in
single-process mode, the scheduler). Only this module and the CLI wire packages together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine

from api import errors
from api.middleware import Metrics, SecurityHeaders
from api.routers import ROUTERS
from api.routers.health import QueueCollector
from core import migrations
from core.config import Settings, get_settings
from core.db import make_engine
from core.mail import service as mail
from scheduler import jobs
from scheduler import worker as scheduler_worker
from web import accounts as accounts_pages
from web import approvals, calendar_pages, oauth, pages, reach
from web import editorial as editorial_pages
from web import inbox as approvals_inbox
from web import posts as post_pages
from web import settings as settings_pages
from web.emails import render_email
from web.errors import render_error
from web.templating import STATIC_DIR

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    run_scheduler: bool = False,
    run_mailer: bool = True,
) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    sender = mail.sender_for(settings)
    mailer = mail.Mailer(engine, sender=sender, render=render_email)
    runtime = jobs.Runtime(
        settings=settings, engine=engine, sender=sender, render=render_email, mode="serve"
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = scheduler_worker.build(runtime, deliver_emails=False) if run_scheduler else None
        if run_mailer:
            mailer.start()
            mailer.kick()  # deliver what an earlier run left behind
        if scheduler is not None:
            scheduler.start()
            app.state.dispatcher = scheduler_worker.start_dispatcher(runtime)
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler_worker.stop(runtime, scheduler)
            if run_mailer:
                mailer.stop()

    app = FastAPI(
        title="Beffroi",
        version="0.1.0",
        description=(
            "API de Beffroi : ligne éditoriale, calendrier, validation et publication des "
            'collectivités. Les erreurs répondent `{"error", "detail"}`, en français.'
        ),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.mailer = mailer
    app.state.migration_head = migrations.head_revision()
    app.state.metrics_registry = CollectorRegistry()
    app.state.metrics_registry.register(QueueCollector(engine))
    app.state.dispatcher = None

    errors.install(app, html=render_error)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(pages.router)
    app.include_router(oauth.router)
    app.include_router(approvals.router)
    app.include_router(calendar_pages.router)
    app.include_router(approvals_inbox.router)
    app.include_router(editorial_pages.router)
    app.include_router(accounts_pages.router)
    app.include_router(settings_pages.router)
    app.include_router(post_pages.router)
    app.include_router(reach.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.sandbox:
        # The networks' sandboxes in the same process, so that sandbox accounts work out of the
        # box; their endpoints are asynchronous, so an adapter running in one of this app's
        # worker threads never waits for a thread to answer it.
        from networks.registry import sandbox_secret
        from networks.sandbox import Sandbox, build_app

        app.state.sandbox = Sandbox(sandbox_secret(settings))
        app.mount("/sandbox", build_app(app.state.sandbox), name="sandbox")
    app.add_middleware(SecurityHeaders, hsts=settings.secure_cookies)
    app.add_middleware(Metrics, registry=app.state.metrics_registry)
    return app
