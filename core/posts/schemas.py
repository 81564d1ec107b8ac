"""What the API reads and writes for posts (the tables are in `models`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from core.posts.models import EventChannel, PostStatus, PublicationStatus
from core.validation import DbId

# Database ids: 32-bit on PostgreSQL; anything larger names nothing.
Ids = Annotated[list[DbId], Field(max_length=50)]
Text = Annotated[str, Field(max_length=20000)]
Comment = Annotated[str, Field(max_length=5000)]


class TargetIn(BaseModel):
    """A target account and, optionally, the text for that network (else the master text)."""

    account_id: DbId
    text: Text | None = None


class PostCreate(BaseModel):
    """`scheduled_at` and `suggested_at`: ISO 8601 with an offset (`2026-12-01T10:00:00+01:00`),
    or a local time without offset, read in the authority's timezone."""

    text: Text
    pillar_id: DbId | None = None
    objective_ids: Ids = []
    audience_ids: Ids = []
    campaign_id: DbId | None = None
    media_ids: Ids = []
    targets: Annotated[list[TargetIn], Field(max_length=50)] = []
    scheduled_at: datetime | None = None
    suggested_at: datetime | None = None


class PostUpdate(BaseModel):
    """Only the fields sent change; `targets`, `media_ids`, `objective_ids` and `audience_ids`
    replace the whole list."""

    text: Text | None = None
    pillar_id: DbId | None = None
    objective_ids: Ids | None = None
    audience_ids: Ids | None = None
    campaign_id: DbId | None = None
    media_ids: Ids | None = None
    targets: Annotated[list[TargetIn], Field(max_length=50)] | None = None
    scheduled_at: datetime | None = None
    suggested_at: datetime | None = None


class TargetRead(BaseModel):
    # The publication's own id: POST /api/v1/publications/{id}/retry, …/mark-published.
    publication_id: int
    account_id: int
    network: str
    account_name: str
    status: PublicationStatus
    text: str | None
    remote_url: str | None
    error: str | None
    published_at: datetime | None
    error_code: str | None = None
    attempts: int = 0


class PostRead(BaseModel):
    id: int
    status: PostStatus
    status_label: str
    text: str
    pillar_id: int | None
    campaign_id: int | None
    objective_ids: list[int]
    audience_ids: list[int]
    media_ids: list[int]
    targets: list[TargetRead]
    scheduled_at: datetime | None
    suggested_at: datetime | None
    version: int
    content_hash: str
    author_id: int | None
    approved_by_id: int | None
    approved_at: datetime | None
    urgent_without_approval: bool
    acknowledged: list[str]
    # Who may approve it: the pillar's designated approvers, else every approver.
    approver_ids: list[int]
    created_at: datetime
    updated_at: datetime


class Decision(BaseModel):
    comment: Comment | None = None


class Approval(BaseModel):
    comment: Comment | None = None
    # Codes of the warnings the approver has read and accepts (e.g. the pre-electoral period).
    acknowledge: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)] = []


class CommentIn(BaseModel):
    comment: Annotated[str, Field(min_length=1, max_length=5000)]


class EventRead(BaseModel):
    id: int
    kind: str
    label: str
    version: int
    channel: EventChannel
    actor_id: int | None
    actor_name: str
    comment: str | None
    data: dict[str, object]
    created_at: datetime


class Cancelled(PostRead):
    # Targets a worker had already taken or published: they went out (or are going) once.
    already_sent: list[TargetRead]
