from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock
from core.workers.models import WorkerHeartbeat

# A worker beats every HEARTBEAT_INTERVAL; one silent for STALE_AFTER is considered gone.
HEARTBEAT_INTERVAL = timedelta(seconds=10)
STALE_AFTER = timedelta(seconds=60)


def this_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(session: Session, *, mode: str, started_at: datetime) -> WorkerHeartbeat:
    name = this_worker_name()
    heartbeat = session.get(WorkerHeartbeat, name)
    if heartbeat is None:
        heartbeat = WorkerHeartbeat(
            name=name, host=socket.gethostname(), pid=os.getpid(), mode=mode, started_at=started_at
        )
    heartbeat.seen_at = clock.now()
    session.add(heartbeat)
    # Forget workers that stopped long ago so the list stays readable.
    forgotten = clock.now() - timedelta(days=1)
    session.execute(sa.delete(WorkerHeartbeat).where(col(WorkerHeartbeat.seen_at) < forgotten))
    return heartbeat


def stop(session: Session) -> None:
    heartbeat = session.get(WorkerHeartbeat, this_worker_name())
    if heartbeat is not None:
        session.delete(heartbeat)


def alive(session: Session) -> list[WorkerHeartbeat]:
    since = clock.now() - STALE_AFTER
    stmt = select(WorkerHeartbeat).where(col(WorkerHeartbeat.seen_at) >= since)
    return list(session.exec(stmt.order_by(col(WorkerHeartbeat.name))))


def all_known(session: Session) -> list[WorkerHeartbeat]:
    return list(session.exec(select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.name))))
