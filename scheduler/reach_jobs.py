"""The reach collection jobs (core.reach.collect), registered by `scheduler.worker.build`.

The collection functions decide what is due from the database, so these jobs can run often, in
any number of workers: a run with nothing due reads a few rows and calls no network.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler

from core.reach import collect
from scheduler.jobs import Runtime

log = logging.getLogger(__name__)

METRICS_EVERY_MINUTES = 5
FOLLOWERS_EVERY_MINUTES = 60


def collect_metrics(runtime: Runtime) -> None:
    outcome = collect.collect_metrics(runtime.engine, runtime.settings)
    if outcome.collected or outcome.failed:
        log.info(
            "Métriques : %s relevé(s), %s échec(s), %s compte(s) laissé(s) de côté",
            outcome.collected,
            outcome.failed,
            len(outcome.skipped_accounts),
        )


def collect_followers(runtime: Runtime) -> None:
    outcome = collect.collect_followers(runtime.engine, runtime.settings)
    if outcome.collected or outcome.failed:
        log.info("Abonnés : %s compte(s) relevé(s), %s échec(s)", outcome.collected, outcome.failed)


def register(scheduler: BaseScheduler, runtime: Runtime) -> None:
    now = datetime.now(UTC)
    scheduler.add_job(
        collect_metrics,
        "interval",
        args=[runtime],
        id="collect_metrics",
        minutes=METRICS_EVERY_MINUTES,
        next_run_time=now,
    )
    scheduler.add_job(
        collect_followers,
        "interval",
        args=[runtime],
        id="collect_followers",
        minutes=FOLLOWERS_EVERY_MINUTES,
        next_run_time=now,
    )
