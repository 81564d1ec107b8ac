from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from beffroi.app import create_app
from core.db import make_engine
from tests.conftest import make_settings


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readyz_fails_when_migrations_are_missing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    app = create_app(make_settings(url), engine=engine, run_mailer=False)
    with TestClient(app) as client:
        response = client.get("/readyz")
    engine.dispose()
    assert response.status_code == 503
    assert response.json()["error"] == "migrations_pending"
    assert "beffroi db upgrade" in response.json()["detail"]


def test_readyz_fails_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    engine = make_engine(url, connect_args={"connect_timeout": 1})
    app = create_app(make_settings(url), engine=engine, run_mailer=False)
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"] == "database_unreachable"


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/authorities/ville-a/members/12")
    client.get("/api/v1/authorities/ville-b/members/13")
    client.get("/healthz")
    text = client.get("/metrics").text
    assert (
        'beffroi_http_requests_total{method="GET",route="/api/v1/authorities/{slug}/members/'
        '{member_id}",status="401"} 2.0' in text
    )
    assert 'beffroi_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert "beffroi_http_request_duration_seconds_bucket" in text
    assert "ville-a" not in text
