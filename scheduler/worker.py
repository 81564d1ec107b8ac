"""Building and running the APScheduler scheduler, in a worker process or inside `beffroi serve`."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from core import clock
from core.workers.service import HEARTBEAT_INTERVAL
from scheduler import jobs, reach_jobs

log = logging.getLogger(__name__)


def build(runtime: jobs.Runtime, *, deliver_emails: bool) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # The database is the source of truth: a late run is simply run once, never skipped.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now = datetime.now(UTC)
    scheduler.add_job(
        jobs.heartbeat,
        "interval",
        args=[runtime],
        id="heartbeat",
        seconds=HEARTBEAT_INTERVAL.total_seconds(),
        next_run_time=now,
    )
    scheduler.add_job(
        jobs.housekeeping,
        "interval",
        args=[runtime],
        id="housekeeping",
        hours=1,
        next_run_time=now,
    )
    if deliver_emails:
        scheduler.add_job(
            jobs.deliver_emails,
            "interval",
            args=[runtime],
            id="deliver_emails",
            seconds=15,
            next_run_time=now,
        )
    reach_jobs.register(scheduler, runtime)
    return scheduler


def run_worker(runtime: jobs.Runtime) -> None:
    """Run until SIGTERM or SIGINT, then stop taking work and let running jobs finish."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("Signal %s reçu : arrêt du worker après les tâches en cours.", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler = build(runtime, deliver_emails=True)
    scheduler.start()
    log.info("Worker démarré à %s.", clock.now().isoformat())
    stopping.wait()
    scheduler.shutdown(wait=True)
    jobs.forget_this_worker(runtime)
    log.info("Worker arrêté.")
