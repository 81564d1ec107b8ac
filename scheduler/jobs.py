"""Periodic jobs. Each opens its own session, so a failure stays within its own unit of work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from core import clock
from core.accounts import connect
from core.config import Settings
from core.db import session_scope
from core.mail import service as mail
from core.publishing import claim as claims
from core.users import service as users
from core.workers import service as workers

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What the jobs need, built once by the composition root."""

    settings: Settings
    engine: Engine
    sender: mail.Sender
    render: mail.Renderer
    mode: str = "worker"
    started_at: object = field(default_factory=clock.now)
    # The publishing dispatcher of this process (scheduler.dispatch), when it runs one.
    dispatcher: Any = None


def heartbeat(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        workers.beat(session, mode=runtime.mode, started_at=runtime.started_at)  # type: ignore[arg-type]


def deliver_emails(runtime: Runtime) -> None:
    delivered = mail.deliver_pending(runtime.engine, sender=runtime.sender, render=runtime.render)
    if delivered:
        log.info("%s e-mail(s) remis", delivered)


def housekeeping(runtime: Runtime) -> None:
    policy = users.ThrottlePolicy.from_settings(runtime.settings)
    with session_scope(runtime.engine) as session:
        users.purge_login_failures(session, policy=policy)
        users.purge_expired_tokens(session)
        connect.purge_states(session)


def forget_this_worker(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        workers.stop(session)


REFRESH_WITHIN = timedelta(hours=1)


def recover_leases(runtime: Runtime) -> None:
    """Publications of a worker that died are due again; the next worker reconciles them."""
    recovered = claims.recover_leases(runtime.engine)
    if recovered:
        log.warning("%s publication(s) reprise(s) après l'arrêt d'un worker", recovered)
        if runtime.dispatcher is not None:
            runtime.dispatcher.kick()


def refresh_tokens(runtime: Runtime) -> None:
    """Renew the tokens that expire within the day, before a publication needs them."""
    # Within the hour (the job runs every 5 minutes): X's tokens last two hours, and renewing them
    # a day ahead, as `check` does, would renew them at every run of every worker.
    renewed = connect.refresh_due(runtime.engine, runtime.settings, within=REFRESH_WITHIN)
    if renewed:
        log.info("%s jeton(s) renouvelé(s)", renewed)


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    func: Callable[[Runtime], None]
    seconds: float
    # Only in `beffroi worker` (in `beffroi serve` the app's mailer delivers e-mails itself).
    worker_only: bool = False


# Every periodic job, in one list (the dispatcher is a thread of its own: scheduler.dispatch).
# The reach collection jobs are in scheduler.reach_jobs.JOBS; scheduler.worker runs both lists.
JOBS: list[PeriodicJob] = [
    PeriodicJob("heartbeat", heartbeat, workers.HEARTBEAT_INTERVAL.total_seconds()),
    PeriodicJob("housekeeping", housekeeping, 3600),
    PeriodicJob("deliver_emails", deliver_emails, 15, worker_only=True),
    PeriodicJob("recover_leases", recover_leases, 5),
    PeriodicJob("refresh_tokens", refresh_tokens, 300),
]
