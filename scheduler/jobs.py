"""Periodic jobs. Each opens its own session, so a failure stays within its own unit of work."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from core import clock
from core.accounts import connect
from core.config import Settings
from core.db import session_scope
from core.mail import service as mail
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
