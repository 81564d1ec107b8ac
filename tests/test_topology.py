"""The topology of compose.yaml as local processes on PostgreSQL: a one-shot `beffroi db upgrade`,
two `beffroi api` and two `beffroi worker`. A small plan is created, approved and published end
to end through the two API processes; the sandboxes count what they received."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from core import clock
from tests.conftest import (
    TEST_SECRET,
    SandboxServer,
    eventually,
    free_port,
    postgres_url,
    reset_postgres,
)

PASSWORD = "mot-de-passe-assez-long-pour-beffroi"


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "beffroi", *args],
            env=self.env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout.decode()

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.running.append(
            subprocess.Popen(
                [sys.executable, "-m", "beffroi", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )

    def stop(self) -> list[int | None]:
        for process in self.running:
            process.terminate()
        codes = []
        for process in self.running:
            try:
                codes.append(process.wait(30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        return codes


@pytest.fixture
def topology(
    tmp_path: Path, sandbox_server: SandboxServer
) -> Iterator[tuple[Processes, list[str]]]:
    url = postgres_url("_topology")
    reset_postgres(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEFFROI_")}
    env.update(
        {
            "BEFFROI_ENV": "production",
            "BEFFROI_DATABASE_URL": url,
            "BEFFROI_SECRET_KEY": TEST_SECRET,
            "BEFFROI_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "BEFFROI_PUBLIC_URL": "http://127.0.0.1",
            "BEFFROI_SANDBOX": "true",
            "BEFFROI_SANDBOX_URL": sandbox_server.url,
            "BEFFROI_ALLOW_PRIVATE_NETWORK": "true",
            "BEFFROI_DATA_DIR": str(tmp_path / "data"),
            "BEFFROI_LOG_LEVEL": "warning",
        }
    )
    processes = Processes(env, tmp_path)
    processes.run("db", "upgrade")  # the one-shot migrate service
    ports = [free_port(), free_port()]
    for n, port in enumerate(ports, 1):
        processes.start(f"api-{n}", "api", "--host", "127.0.0.1", "--port", str(port))
    for n in (1, 2):
        processes.start(f"worker-{n}", "worker")
    bases = [f"http://127.0.0.1:{port}" for port in ports]

    def ready() -> bool:
        try:
            return all(httpx.get(f"{b}/readyz", timeout=2).status_code == 200 for b in bases)
        except httpx.HTTPError:
            return False

    try:
        eventually(ready, timeout=60)
        yield processes, bases
    finally:
        processes.stop()


def test_two_apis_and_two_workers_publish_a_plan_end_to_end(
    topology: tuple[Processes, list[str]], sandbox_server: SandboxServer
) -> None:
    processes, (api1, api2) = topology
    processes.run(
        "user", "create", "--email", "ops@dept.example.org", "--password", PASSWORD, "--superuser"
    )

    def token(base: str, email: str) -> dict[str, str]:
        answer = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    ops = token(api1, "ops@dept.example.org")
    created = httpx.post(
        f"{api1}/api/v1/authorities",
        headers=ops,
        json={"name": "Commune de Lozère", "slug": "lozere", "timezone": "Europe/Paris"},
    )
    assert created.status_code == 201, created.text
    for email, role in (("com@lozere.fr", "editor"), ("maire@lozere.fr", "approver")):
        member = httpx.post(
            f"{api1}/api/v1/authorities/lozere/members",
            headers=ops,
            json={"email": email, "name": email.split("@")[0], "role": role, "password": PASSWORD},
        )
        assert member.status_code == 201, member.text
    editor, mayor = token(api1, "com@lozere.fr"), token(api2, "maire@lozere.fr")
    accounts = []
    for network in ("mastodon", "bluesky"):
        account = httpx.post(
            f"{api1}/api/v1/authorities/lozere/accounts",
            headers=ops,
            json={"network": network, "name": f"Lozère {network}", "sandbox": True},
            timeout=30,
        )
        assert account.status_code == 201, account.text
        accounts.append(account.json())

    post_ids = []
    for n in range(3):
        when = (clock.now() + timedelta(seconds=10)).isoformat()
        post = httpx.post(
            f"{api1}/api/v1/authorities/lozere/posts",
            headers=editor,
            json={
                "text": f"Plan de la semaine, message {n} : marché, travaux, conseil.",
                "targets": [{"account_id": a["id"]} for a in accounts],
                "scheduled_at": when,
            },
        )
        assert post.status_code == 201, post.text
        post_ids.append(post.json()["id"])
        assert httpx.post(f"{api1}/api/v1/posts/{post_ids[-1]}/submit", headers=editor).is_success
        approved = httpx.post(f"{api2}/api/v1/posts/{post_ids[-1]}/approve", headers=mayor)
        assert approved.status_code == 200, approved.text

    def all_published() -> bool:
        statuses = [
            httpx.get(f"{api2}/api/v1/posts/{pid}", headers=editor).json()["status"]
            for pid in post_ids
        ]
        return statuses == ["published"] * 3

    eventually(all_published, timeout=60)

    for pid in post_ids:
        body = httpx.get(f"{api1}/api/v1/posts/{pid}", headers=editor).json()
        assert [t["status"] for t in body["targets"]] == ["published", "published"]
        assert all(t["remote_url"] for t in body["targets"])
    for account in accounts:
        received = sandbox_server.sandbox.posts(account["network"], account["remote_id"])
        assert sorted(p.text for p in received) == sorted(
            f"Plan de la semaine, message {n} : marché, travaux, conseil." for n in range(3)
        )
    status = processes.run("worker", "--status")
    assert "0 à envoyer, 0 en cours" in status
    assert status.count("\tworker\t") == 2
    metrics = httpx.get(f"{api1}/metrics").text
    assert 'beffroi_publications{state="failed"} 0.0' in metrics
    assert "beffroi_workers_alive 2.0" in metrics
    api_1, api_2, worker_1, worker_2 = processes.stop()
    # uvicorn re-raises SIGTERM once it has shut down gracefully; the workers exit cleanly.
    assert {api_1, api_2} <= {0, -15}
    assert (worker_1, worker_2) == (0, 0)
