"""Probes for orchestrators and monitoring: /healthz, /readyz, /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy import text

from core import migrations

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
