"""The post's history: every action is one append-only event (who, what, which version, from
which channel)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from core.i18n import N_
from core.posts.models import EventChannel, Post, PostEvent
from core.users.models import User

EVENT_LABELS = {
    "created": N_("Création"),
    "edited": N_("Modification du contenu"),
    "moved": N_("Changement de date"),
    "updated": N_("Modification"),
    "submitted": N_("Envoi en validation"),
    "approved": N_("Validation"),
    "changes_requested": N_("Modifications demandées"),
    "rejected": N_("Refus"),
    "cancelled": N_("Annulation"),
    "back_to_review": N_("Retour en validation"),
    "published_urgent": N_("Publication urgente sans validation"),
    "commented": N_("Commentaire"),
    "publish_now": N_("Publication immédiate demandée"),
    "publication_retried": N_("Nouvel essai de publication"),
    "marked_published": N_("Indiquée comme publiée (canal manuel)"),
}


def record(
    session: Session,
    *,
    post: Post,
    kind: str,
    by: User | None,
    channel: EventChannel = EventChannel.api,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> PostEvent:
    event = PostEvent(
        authority_id=post.authority_id,
        post_id=post.id,  # type: ignore[arg-type]
        actor_id=by.id if by else None,
        actor_name=by.name if by else "Beffroi",
        kind=kind,
        version=post.version,
        channel=channel,
        comment=comment,
        data=data or {},
    )
    session.add(event)
    return event


def of_post(session: Session, post: Post, *, kinds: tuple[str, ...] = ()) -> list[PostEvent]:
    stmt = select(PostEvent).where(
        PostEvent.post_id == post.id, PostEvent.authority_id == post.authority_id
    )
    if kinds:
        stmt = stmt.where(col(PostEvent.kind).in_(kinds))
    return list(session.exec(stmt.order_by(col(PostEvent.created_at), col(PostEvent.id))))
