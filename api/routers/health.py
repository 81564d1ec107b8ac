"""Probes for orchestrators and monitoring: /healthz, /readyz, /metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core import clock, migrations
from core.db import session_scope
from core.publishing import service as publishing
from core.workers import service as workers

router = APIRouter(tags=["supervision"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Le processus répond."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """La base répond et son schéma est à jour : l'instance peut recevoir du trafic."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrations.current_revision(engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {
                "status": "unavailable",
                "error": "database_unreachable",
                "detail": f"La base de données ne répond pas : {type(exc).__name__}.",
            },
            status_code=503,
        )
    head = request.app.state.migration_head
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "error": "migrations_pending",
                "detail": "Le schéma de la base n'est pas à jour : lancez « beffroi db upgrade ».",
                "database": current,
                "expected": head,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": "ok", "migrations": current})


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Métriques au format Prometheus : requêtes HTTP, et ce que publient les autres modules."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class QueueCollector(Collector):
    """The publishing queue as the database holds it (every worker's work), read at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with session_scope(self.engine) as session:
                figures = publishing.queue_figures(session)
                alive = workers.alive(session)
        except Exception:  # a scrape must not fail because the database is away for a moment
            return
        queue = GaugeMetricFamily(
            "beffroi_publications", "Publications par état de la file", labels=["state"]
        )
        for state, value in (
            ("due", figures.due),
            ("in_flight", figures.in_flight),
            ("late", figures.late),
            ("failed", figures.failed),
            ("waiting_manual", figures.waiting_manual),
        ):
            queue.add_metric([state], value)
        yield queue
        yield GaugeMetricFamily(
            "beffroi_paused_accounts",
            "Comptes limités par leur réseau jusqu'à l'heure de reprise",
            value=figures.paused_accounts,
        )
        yield GaugeMetricFamily("beffroi_workers_alive", "Workers actifs", value=len(alive))
        last = max((w.seen_at for w in alive), default=None)
        yield GaugeMetricFamily(
            "beffroi_worker_heartbeat_age_seconds",
            "Secondes depuis le dernier signe de vie d'un worker",
            value=(clock.now() - last).total_seconds() if last else float("nan"),
        )
