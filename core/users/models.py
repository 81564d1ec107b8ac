from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Field, SQLModel

from core import clock
from core.authorities.models import Role
from core.db import UTCDateTime


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    # None until an invited person chooses a password.
    password_hash: str | None = Field(default=None, max_length=255)
    is_superuser: bool = False
    is_active: bool = True
    locale: str = Field(default="fr", max_length=8)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TokenKind(StrEnum):
    api = "api"
    session = "session"


class AccessToken(SQLModel, table=True):
    """A bearer token for the API or the key of a browser session; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    kind: TokenKind = Field(sa_type=sa.String(16))
    name: str = Field(default="", max_length=200)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, kept for the throttling window."""

    __table_args__ = (
        sa.Index("ix_loginfailure_email_created_at", "email", "created_at"),
        sa.Index("ix_loginfailure_ip_created_at", "ip", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    ip: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class TokenCreate(BaseModel):
    name: str = Field(default="", max_length=200)


class TokenRead(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


class TokenIssued(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    id: int


class MembershipSummary(BaseModel):
    authority_id: int
    slug: str
    name: str
    roles: list[Role]


class Me(BaseModel):
    id: int
    email: str
    name: str
    locale: str
    is_superuser: bool
    memberships: list[MembershipSummary]
