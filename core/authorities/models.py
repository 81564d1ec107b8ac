from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, model_validator
from sqlmodel import Field, SQLModel

from core import clock, validation
from core.db import UTCDateTime
from core.i18n import N_


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    approver = "approver"
    contributor = "contributor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.admin: N_("Administrateur"),
    Role.editor: N_("Chargé·e de communication"),
    Role.approver: N_("Élu·e"),
    Role.contributor: N_("Agent contributeur"),
}

# Editors do everything on posts but approve; admins do what editors do plus administration.
EDITING_ROLES = frozenset({Role.admin, Role.editor})


class AuthorityKind(StrEnum):
    commune = "commune"
    intercommunalite = "intercommunalite"
    departement = "departement"
    region = "region"
    other = "autre"


Slug = Annotated[str, AfterValidator(validation.slug)]
TimeZoneName = Annotated[str, AfterValidator(validation.timezone)]
Color = Annotated[str, AfterValidator(validation.color)]
Name = Annotated[str, AfterValidator(validation.name)]


class AuthorityBase(SQLModel):
    name: Name = Field(max_length=200)
    kind: AuthorityKind = Field(default=AuthorityKind.commune, sa_type=sa.String(32))
    timezone: TimeZoneName = Field(default="Europe/Paris", max_length=64)


class Authority(AuthorityBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    brand_primary: str = Field(default="#1d4e89", max_length=7)
    brand_secondary: str = Field(default="#f2a900", max_length=7)
    # A media of this authority (core.media). No foreign key on purpose: SQLite can only add one
    # by recreating this table, and dropping the old one would cascade to every member and
    # account. The media service keeps it sound: only a media of the authority can be chosen,
    # and the logo cannot be deleted while it is the logo.
    logo_media_id: int | None = None
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class AuthorityCreate(AuthorityBase):
    slug: Slug = Field(max_length=64)


class AuthorityUpdate(SQLModel):
    name: Name | None = Field(default=None, max_length=200)
    kind: AuthorityKind | None = None
    timezone: TimeZoneName | None = None
    brand_primary: Color | None = None
    brand_secondary: Color | None = None
    # An image of the authority's media library; null removes the logo.
    logo_media_id: int | None = None


class AuthorityRead(AuthorityBase):
    id: int
    slug: str
    brand_primary: str
    brand_secondary: str
    logo_media_id: int | None
    created_at: datetime


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("authority_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    roles: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


def _roles(value: list[Role]) -> list[Role]:
    if not value:
        raise ValueError("Indiquez au moins un rôle.")
    return sorted(set(value), key=list(Role).index)


Roles = Annotated[list[Role], AfterValidator(_roles)]
Email = Annotated[str, AfterValidator(validation.email)]
Password = Annotated[str, AfterValidator(validation.password)]


class MemberCreate(BaseModel):
    """A member to add: an existing person, or a new one, invited by e-mail when no password is
    given. Give `role` or `roles` (or both)."""

    email: Email
    name: Name | None = None
    role: Role | None = None
    roles: list[Role] | None = None
    password: Password | None = None

    @model_validator(mode="after")
    def _merge_roles(self) -> MemberCreate:
        merged = [*(self.roles or []), *([self.role] if self.role else [])]
        if not merged:
            raise ValueError("Indiquez au moins un rôle, avec « role » ou « roles ».")
        self.roles = _roles(merged)
        return self


class MemberUpdate(BaseModel):
    roles: Roles


class MemberRead(BaseModel):
    id: int
    user_id: int
    email: str
    name: str
    roles: list[Role]
    invited: bool
    created_at: datetime
