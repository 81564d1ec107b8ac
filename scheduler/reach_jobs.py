"""The reach collection jobs (core.reach.collect), run by `scheduler.worker.build` with the others.

The collection functions decide what is due from the database, so these jobs can run often, in
any number of workers: a run with nothing due reads a few rows and calls no network.
"""

from __future__ import annotations

import logging

from core.reach import collect
from scheduler.jobs import PeriodicJob, Runtime

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


JOBS: list[PeriodicJob] = [
    PeriodicJob("collect_metrics", collect_metrics, METRICS_EVERY_MINUTES * 60),
    PeriodicJob("collect_followers", collect_followers, FOLLOWERS_EVERY_MINUTES * 60),
]
