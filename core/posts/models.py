"""Posts, their publications (one per target account), their history and approval links.

Tables only. The workflow (DESIGN.md section 3) lives in `core.posts.workflow`, the publishing
engine in `core.publishing`.

How a post and its publications move together:
- while the post is `draft`, `in_review`, `rejected`, each publication is `pending`;
- when the post is `approved` (or published urgently without approval) with a `scheduled_at`,
  each pending publication becomes `scheduled` with `due_at` = the post's `scheduled_at`;
  moving the post moves the `due_at` of publications still `scheduled` (not yet claimed);
- the engine claims a `scheduled` publication whose `due_at` has come (`claimed_by`,
  `lease_until`), then sets it `published` (`remote_id`, `remote_url`, `published_at`) or
  `failed` (`error`), or back to `scheduled` with a later `due_at` for a retry;
- cancelling the post cancels every publication not yet claimed nor published;
- the post's own status follows its publications once they are all done: `published`,
  `partially_published` or `failed`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime
from core.i18n import N_


class PostStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    approved = "approved"
    published = "published"
    partially_published = "partially_published"
    failed = "failed"
    rejected = "rejected"
    cancelled = "cancelled"


POST_STATUS_LABELS = {
    PostStatus.draft: N_("Brouillon"),
    PostStatus.in_review: N_("En validation"),
    PostStatus.approved: N_("Validée"),
    PostStatus.published: N_("Publiée"),
    PostStatus.partially_published: N_("Publiée en partie"),
    PostStatus.failed: N_("Échec"),
    PostStatus.rejected: N_("Refusée"),
    PostStatus.cancelled: N_("Annulée"),
}


class Post(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_post_authority_scheduled", "authority_id", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    author_id: int | None = Field(
        default=None, foreign_key="user.id", ondelete="SET NULL", index=True
    )
    status: PostStatus = Field(default=PostStatus.draft, sa_type=sa.String(24), index=True)
    text: str = Field(sa_type=sa.Text)
    pillar_id: int | None = Field(
        default=None, foreign_key="pillar.id", ondelete="SET NULL", index=True
    )
    campaign_id: int | None = Field(
        default=None, foreign_key="campaign.id", ondelete="SET NULL", index=True
    )
    # When it goes out; None until someone sets a time.
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A contributor's suggested date, which an editor turns into `scheduled_at`.
    suggested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Bumped on every change of content (text, per-target texts, media, targets).
    version: int = 1
    # sha256 of the content; an approval binds to it.
    content_hash: str = Field(default="", max_length=64)
    approved_hash: str | None = Field(default=None, max_length=64)
    approved_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Published by an editor without approval (urgent pillar), recorded as such.
    urgent_without_approval: bool = False
    # Codes of the warnings (core.rules) the approver acknowledged, e.g. pre-electoral period.
    acknowledged: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class PostObjective(SQLModel, table=True):
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", primary_key=True)
    objective_id: int = Field(
        foreign_key="objective.id", ondelete="CASCADE", primary_key=True, index=True
    )


class PostAudience(SQLModel, table=True):
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", primary_key=True)
    audience_id: int = Field(
        foreign_key="audience.id", ondelete="CASCADE", primary_key=True, index=True
    )


class PostMedia(SQLModel, table=True):
    """The images of a post, in order. A media used by a post cannot be deleted (RESTRICT)."""

    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", primary_key=True)
    media_id: int = Field(
        foreign_key="mediaasset.id", ondelete="RESTRICT", primary_key=True, index=True
    )
    position: int = 0


class PublicationStatus(StrEnum):
    pending = "pending"  # the post is not approved yet
    scheduled = "scheduled"  # approved, waiting for `due_at`
    publishing = "publishing"  # claimed by a worker (lease)
    published = "published"
    failed = "failed"
    cancelled = "cancelled"


PUBLICATION_STATUS_LABELS = {
    PublicationStatus.pending: N_("En attente de validation"),
    PublicationStatus.scheduled: N_("Programmée"),
    PublicationStatus.publishing: N_("En cours de publication"),
    PublicationStatus.published: N_("Publiée"),
    PublicationStatus.failed: N_("Échec"),
    PublicationStatus.cancelled: N_("Annulée"),
}


class Publication(SQLModel, table=True):
    """A post on one target account."""

    __table_args__ = (
        sa.UniqueConstraint("post_id", "account_id"),
        # The engine's claim walks the scheduled publications in the order they go out
        # (due time, then id) and stops at its limit; for each, it looks up whether the same
        # account has one being sent or an earlier one waiting.
        sa.Index("ix_publication_status_due_id", "status", "due_at", "id"),
        sa.Index("ix_publication_account_status_due", "account_id", "status", "due_at", "id"),
        # The reach collection: published publications by age.
        sa.Index("ix_publication_status_published", "status", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", index=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    # Per-network text; None means the post's master text.
    text: str | None = Field(default=None, sa_type=sa.Text)
    status: PublicationStatus = Field(default=PublicationStatus.pending, sa_type=sa.String(16))
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The engine's lease: which worker holds it, until when.
    claimed_by: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    remote_id: str | None = Field(default=None, max_length=500)
    remote_url: str | None = Field(default=None, max_length=1000)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Why it failed, in French, with what to do (reconnect the account, shorten the text…).
    error: str | None = Field(default=None, max_length=2000)
    error_code: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class EventChannel(StrEnum):
    api = "api"
    web = "web"  # a page of Beffroi
    email = "email"  # an approval link from an e-mail
    system = "system"  # Beffroi itself (the engine, an import)


class PostEvent(SQLModel, table=True):
    """The post's history, append-only: who did what, when, on which version, from where.
    Comments are events of kind `commented` (and decisions carry their comment)."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    # The actor's name at the time (kept when the person is removed).
    actor_name: str = Field(default="", max_length=200)
    kind: str = Field(max_length=32)
    version: int
    channel: EventChannel = Field(default=EventChannel.api, sa_type=sa.String(16))
    comment: str | None = Field(default=None, sa_type=sa.Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ApprovalLink(SQLModel, table=True):
    """A one-tap approval link sent by e-mail: signed, single-use, expiring, bound to a version.
    Only the sha256 of the token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    post_id: int = Field(foreign_key="post.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    version: int
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when the post's content changed, or when someone decided by another way.
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
