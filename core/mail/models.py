from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime


class EmailStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    # No SMTP server configured (development): written to the log and the development page.
    logged = "logged"
    failed = "failed"


class OutboundEmail(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_outboundemail_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int | None = Field(
        default=None, foreign_key="authority.id", ondelete="CASCADE", index=True
    )
    to_address: str = Field(max_length=254)
    template: str = Field(max_length=100)
    locale: str = Field(default="fr", max_length=8)
    context: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Filled in when the message is rendered, at delivery.
    subject: str | None = Field(default=None, max_length=300)
    body_text: str | None = Field(default=None, sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    status: EmailStatus = Field(default=EmailStatus.pending, sa_type=sa.String(16))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    next_attempt_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
