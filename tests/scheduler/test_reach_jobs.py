"""The worker runs the reach collection: both jobs are scheduled, and a run collects what is due
through the sandboxes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import clock
from core.accounts.models import Network
from core.reach.models import AccountSnapshot, MetricSnapshot
from scheduler import jobs, reach_jobs, worker
from tests.conftest import SandboxServer, make_settings
from tests.core.reach.test_collect import T0, publish, sandbox_account
from tests.factories import make_authority, make_published


def runtime(db: Engine, settings: Any) -> jobs.Runtime:
    def render(*_args: Any) -> Any:
        raise AssertionError("no e-mail in these jobs")

    return jobs.Runtime(settings=settings, engine=db, sender=None, render=render)  # type: ignore[arg-type]


def test_the_worker_schedules_the_reach_jobs(db: Engine, database_url: str) -> None:
    scheduler = worker.build(runtime(db, make_settings(database_url)), deliver_emails=False)
    found = {job.id: job for job in scheduler.get_jobs()}
    assert found["collect_metrics"].trigger.interval == timedelta(minutes=5)
    assert found["collect_followers"].trigger.interval == timedelta(hours=1)


def test_a_worker_kept_for_publishing_collects_nothing(db: Engine, database_url: str) -> None:
    settings = make_settings(database_url, collect_reach=False)
    scheduler = worker.build(runtime(db, settings), deliver_emails=False)
    found = {job.id for job in scheduler.get_jobs()}
    assert "collect_metrics" not in found
    assert "collect_followers" not in found
    assert "heartbeat" in found


def test_the_jobs_collect_through_the_sandboxes(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    with clock.frozen(T0) as move_to:
        authority = make_authority(session)
        account = sandbox_account(session, settings, authority, Network.linkedin)
        remote_id = publish(settings, account, "Inscriptions au centre de loisirs ouvertes.")
        make_published(session, authority, targets=[account], at=T0, remote_ids=[remote_id])
        move_to(T0 + timedelta(hours=1))
        reach_jobs.collect_metrics(runtime(db, settings))
        reach_jobs.collect_followers(runtime(db, settings))
    session.rollback()
    [snapshot] = session.exec(select(MetricSnapshot)).all()
    assert snapshot.impressions
    [followers] = session.exec(select(AccountSnapshot)).all()
    assert followers.followers > 0
