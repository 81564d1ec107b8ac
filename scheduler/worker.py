"""Building and running the APScheduler scheduler and the publishing dispatcher, in a worker
process or inside `beffroi serve`."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from core import clock
from scheduler import jobs, reach_jobs
from scheduler.dispatch import Dispatcher

log = logging.getLogger(__name__)


def build(runtime: jobs.Runtime, *, deliver_emails: bool) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        # The database is the source of truth: a late run is simply run once, never skipped.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now = datetime.now(UTC)
    collection = reach_jobs.JOBS if runtime.settings.collect_reach else []
    for job in [*jobs.JOBS, *collection]:
        if job.worker_only and not deliver_emails:
            continue
        scheduler.add_job(
            job.func,
            "interval",
            args=[runtime],
            id=job.id,
            seconds=job.seconds,
            next_run_time=now,
        )
    return scheduler


def start_dispatcher(runtime: jobs.Runtime) -> Dispatcher:
    dispatcher = Dispatcher(runtime.engine, runtime.settings)
    runtime.dispatcher = dispatcher
    dispatcher.start()
    return dispatcher


def stop(runtime: jobs.Runtime, scheduler: BackgroundScheduler) -> None:
    """Stop claiming, finish (or give back) what is in flight, then stop the periodic jobs."""
    if runtime.dispatcher is not None:
        runtime.dispatcher.stop()
    scheduler.shutdown(wait=True)
    jobs.forget_this_worker(runtime)


def run_worker(runtime: jobs.Runtime) -> None:
    """Run until SIGTERM or SIGINT, then stop taking work and let running jobs finish."""
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("Signal %s reçu : arrêt du worker après les publications en cours.", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    scheduler = build(runtime, deliver_emails=True)
    scheduler.start()
    start_dispatcher(runtime)
    log.info("Worker démarré à %s.", clock.now().isoformat())
    stopping.wait()
    stop(runtime, scheduler)
    log.info("Worker arrêté.")
