from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime


class WorkerHeartbeat(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=200)  # host:pid
    host: str = Field(max_length=200)
    pid: int
    mode: str = Field(max_length=16)  # "worker" or "serve"
    started_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    seen_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
