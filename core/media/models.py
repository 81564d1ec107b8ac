from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel
from sqlmodel import Field, SQLModel

from core import clock
from core.accounts.models import Network
from core.db import UTCDateTime

# The smallest limit of the networks (X): an alt text every network accepts as it is.
ALT_TEXT_MAX = 1000


def _alt_text(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError(
            "Le texte alternatif ne peut pas être vide : décrivez l'image pour les personnes qui "
            "ne la voient pas (obligation RGAA)."
        )
    if len(value) > ALT_TEXT_MAX:
        raise ValueError(
            f"Le texte alternatif fait {len(value)} caractères : {ALT_TEXT_MAX} au plus, pour que "
            "tous les réseaux l'acceptent."
        )
    return value


AltText = Annotated[str, AfterValidator(_alt_text)]


class MediaOrigin(StrEnum):
    upload = "upload"
    visual = "visual"  # a branded visual made by Beffroi from a template


class MediaAssetBase(SQLModel):
    alt_text: str = Field(max_length=ALT_TEXT_MAX)
    # The point to keep in view when a rendition is cropped, as fractions of width and height.
    focal_x: float = Field(default=0.5, ge=0, le=1)
    focal_y: float = Field(default=0.5, ge=0, le=1)


class MediaAsset(MediaAssetBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    sha256: str = Field(max_length=64, index=True)
    path: str = Field(max_length=200)  # relative to BEFFROI_DATA_DIR, content-addressed
    mime: str = Field(max_length=32)
    width: int
    height: int
    size_bytes: int
    filename: str = Field(default="", max_length=200)  # as the person's device named it
    origin: MediaOrigin = Field(default=MediaOrigin.upload, sa_type=sa.String(16))
    uploaded_by_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class MediaRendition(SQLModel, table=True):
    """The version of a media cut for one network; regenerated when the focal point moves."""

    __table_args__ = (sa.UniqueConstraint("media_id", "network"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    media_id: int = Field(foreign_key="mediaasset.id", ondelete="CASCADE", index=True)
    network: Network = Field(sa_type=sa.String(16))
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=200)
    mime: str = Field(max_length=32)
    width: int
    height: int
    size_bytes: int
    focal_x: float
    focal_y: float
    # Bumped when the rules or the pipeline change, so older renditions are made again.
    version: int = 1
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class MediaUpdate(BaseModel):
    alt_text: AltText | None = None
    focal_x: float | None = Field(default=None, ge=0, le=1)
    focal_y: float | None = Field(default=None, ge=0, le=1)


class RenditionRead(BaseModel):
    network: Network
    url: str
    mime: str
    width: int
    height: int
    bytes: int


class MediaUsage(BaseModel):
    """Somewhere a media is used; `blocks_deletion` when removing the media would break it."""

    kind: str  # "logo", later "post"
    label: str
    id: int | None = None
    blocks_deletion: bool = False


class MediaRead(BaseModel):
    id: int
    url: str
    mime: str
    width: int
    height: int
    bytes: int
    alt_text: str
    focal_x: float
    focal_y: float
    filename: str
    origin: MediaOrigin
    sha256: str
    uploaded_by_id: int | None
    created_at: datetime
    updated_at: datetime
    renditions: list[RenditionRead]
    usage: list[MediaUsage]


class MediaUploadRead(MediaRead):
    # What the pipeline changed that the person should know (e.g. an animation removed).
    notices: list[str] = []
