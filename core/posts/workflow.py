"""The workflow of a post (DESIGN.md section 3):

    draft ──submit──▶ in_review ──approve──▶ approved ──(due)──▶ published | partially_… | failed
      ▲                   │  │
      └─request_changes───┘  └─reject──▶ rejected
    any state before published ──cancel──▶ cancelled

plus `publish_urgent`: an editor sends a post of an urgent pillar without approval (recorded).
Any other move is a 409 that names the current state and what can be done from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col

from core import clock
from core.config import Settings
from core.editorial.models import Pillar
from core.errors import Conflict, InvalidInput
from core.i18n import N_
from core.posts import access, approvals, history, notify, publications
from core.posts.access import Actor
from core.posts.models import POST_STATUS_LABELS, EventChannel, Post, PostStatus, Publication
from core.rules import checks as rules
from core.users.models import User

ALLOWED_FROM: dict[str, tuple[PostStatus, ...]] = {
    "submit": (PostStatus.draft,),
    "approve": (PostStatus.in_review,),
    "request_changes": (PostStatus.in_review,),
    "reject": (PostStatus.in_review,),
    "publish_urgent": (PostStatus.draft, PostStatus.in_review),
    "cancel": (PostStatus.draft, PostStatus.in_review, PostStatus.approved, PostStatus.rejected),
}
ACTION_LABELS = {
    "submit": N_("l'envoyer en validation"),
    "approve": N_("la valider"),
    "request_changes": N_("demander des modifications"),
    "reject": N_("la refuser"),
    "publish_urgent": N_("la publier en urgence sans validation"),
    "cancel": N_("l'annuler"),
}


class TransitionRefused(Conflict):
    code = "invalid_transition"


def possible_from(status: PostStatus) -> list[str]:
    return [action for action, states in ALLOWED_FROM.items() if status in states]


def _require_state(post: Post, action: str) -> None:
    status = PostStatus(post.status)
    if status in ALLOWED_FROM[action]:
        return
    possible = possible_from(status)
    raise TransitionRefused(
        N_(
            "Cette publication est « {state} » : impossible de {action}. Depuis cet état, on "
            "peut : {possible}."
        ),
        state=POST_STATUS_LABELS[status],
        action=ACTION_LABELS[action],
        possible=", ".join(ACTION_LABELS[a] for a in possible) or N_("rien, elle est terminée"),
        extra={"status": str(status), "allowed": possible},
    )


# --- rules --------------------------------------------------------------------------------------


def _enforce_rules(
    session: Session,
    settings: Settings,
    post: Post,
    *,
    stage: str,
    acknowledged: Sequence[str],
) -> None:
    """The rules of DESIGN.md section 4 (core.rules) before a post goes to review, is approved,
    or is published urgently: errors block (RulesFailed, 422, every finding listed); at approval,
    so do the warnings that need an acknowledgement the approver did not give."""
    session.flush()
    rules.enforce(
        session,
        settings,
        post,
        stage="approve" if stage == "approve" else "submit",
        acknowledged=set(acknowledged),
    )


# --- transitions --------------------------------------------------------------------------------


def submit(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    channel: EventChannel = EventChannel.api,
) -> Post:
    access.require_author_role(actor)
    _require_state(post, "submit")
    _enforce_rules(session, settings, post, stage="submit", acknowledged=())
    _set_status(session, post, PostStatus.in_review, action="submit")
    session.add(post)
    history.record(session, post=post, kind="submitted", by=actor.user, channel=channel)
    session.flush()
    notify.approval_requested(session, settings, post=post)
    return post


def approve(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    comment: str | None = None,
    acknowledge: Sequence[str] = (),
    channel: EventChannel = EventChannel.api,
) -> Post:
    access.require_approver_of(session, actor=actor, post=post)
    _require_state(post, "approve")
    _enforce_rules(session, settings, post, stage="approve", acknowledged=acknowledge)
    now = clock.now()
    _set_status(session, post, PostStatus.approved, action="approve")
    post.approved_hash = post.content_hash
    post.approved_by_id = actor.user.id
    post.approved_at = now
    post.acknowledged = sorted(set(acknowledge))
    session.add(post)
    approvals.revoke_all(session, post=post)
    history.record(
        session,
        post=post,
        kind="approved",
        by=actor.user,
        channel=channel,
        comment=_comment(comment),
        data={"acknowledged": post.acknowledged} if post.acknowledged else None,
    )
    session.flush()
    publications.schedule(session, post)
    notify.decision(session, settings, post=post, kind="approved", by=actor.user, comment=comment)
    return post


def request_changes(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    comment: str | None,
    channel: EventChannel = EventChannel.api,
) -> Post:
    return _decide(session, settings, actor, post, "request_changes", comment, channel)


def reject(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    comment: str | None,
    channel: EventChannel = EventChannel.api,
) -> Post:
    return _decide(session, settings, actor, post, "reject", comment, channel)


_DECISIONS = {
    "request_changes": (PostStatus.draft, "changes_requested"),
    "reject": (PostStatus.rejected, "rejected"),
}


def _decide(
    session: Session,
    settings: Settings,
    actor: Actor,
    post: Post,
    action: str,
    comment: str | None,
    channel: EventChannel,
) -> Post:
    access.require_approver_of(session, actor=actor, post=post)
    _require_state(post, action)
    text = _comment(comment)
    if text is None:
        raise InvalidInput(
            N_(
                "Expliquez votre décision dans un commentaire : la personne qui a écrit la "
                "publication en a besoin pour la reprendre."
            ),
            code="comment_required",
            extra={"field": "comment"},
        )
    status, kind = _DECISIONS[action]
    _set_status(session, post, status, action=action)
    session.add(post)
    approvals.revoke_all(session, post=post)
    history.record(session, post=post, kind=kind, by=actor.user, channel=channel, comment=text)
    session.flush()
    notify.decision(session, settings, post=post, kind=kind, by=actor.user, comment=text)
    return post


@dataclass
class CancelResult:
    post: Post
    # Publications a worker had already taken or published: they go out (or went out) once.
    already_sent: list[Publication] = field(default_factory=list)


def cancel(
    session: Session,
    settings: Settings,  # noqa: ARG001 - same shape as the other transitions
    *,
    actor: Actor,
    post: Post,
    comment: str | None = None,
    channel: EventChannel = EventChannel.api,
) -> CancelResult:
    if not access.can_edit_all(actor):
        access.require_author_role(actor)
    _require_state(post, "cancel")
    sent = publications.cancel(session, post)
    _set_status(session, post, PostStatus.cancelled, action="cancel")
    session.add(post)
    approvals.revoke_all(session, post=post)
    history.record(
        session,
        post=post,
        kind="cancelled",
        by=actor.user,
        channel=channel,
        comment=_comment(comment),
        data={"already_sent": [p.account_id for p in sent]} if sent else None,
    )
    session.flush()
    return CancelResult(post=post, already_sent=sent)


def publish_urgent(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    comment: str | None = None,
    channel: EventChannel = EventChannel.api,
) -> Post:
    """An alert (urgent pillar) goes out without approval, at its time or now; recorded."""
    access.require_editor(actor)
    _require_state(post, "publish_urgent")
    pillar = session.get(Pillar, post.pillar_id) if post.pillar_id else None
    if pillar is None or not pillar.urgent:
        raise Conflict(
            N_(
                "Seules les publications d'une thématique urgente (alertes) peuvent partir sans "
                "validation. Envoyez celle-ci en validation, ou choisissez une thématique urgente."
            ),
            code="not_urgent",
        )
    now = clock.now()
    if post.scheduled_at is None or post.scheduled_at < now:
        post.scheduled_at = now
    _enforce_rules(session, settings, post, stage="urgent", acknowledged=())
    _set_status(session, post, PostStatus.approved, action="publish_urgent")
    post.urgent_without_approval = True
    post.approved_hash = post.content_hash
    post.approved_by_id = None
    post.approved_at = now
    session.add(post)
    approvals.revoke_all(session, post=post)
    history.record(
        session,
        post=post,
        kind="published_urgent",
        by=actor.user,
        channel=channel,
        comment=_comment(comment),
    )
    session.flush()
    publications.schedule(session, post)
    return post


def back_to_review(
    session: Session,
    settings: Settings,
    *,
    post: Post,
    by: User,
    reason: str,
    windows: Sequence[str] = (),
) -> None:
    """The content changed (or the time entered an electoral window): the approval, if any, no
    longer holds. Publications wait again, outstanding links stop working, approvers are asked
    again for the new version."""
    was = PostStatus(post.status)
    publications.unschedule(session, post)
    approvals.revoke_all(session, post=post)
    _set_status(session, post, PostStatus.in_review, action="back_to_review")
    post.approved_hash = None
    post.approved_by_id = None
    post.approved_at = None
    post.urgent_without_approval = False
    post.acknowledged = []
    session.add(post)
    data: dict[str, object] = {"reason": reason, "from": str(was)}
    if windows:
        data["windows"] = list(windows)
    history.record(session, post=post, kind="back_to_review", by=by, data=data)
    session.flush()
    notify.approval_requested(session, settings, post=post)


def _set_status(session: Session, post: Post, status: PostStatus, *, action: str) -> None:
    """Move the post with a conditional UPDATE on the state it was read in: of two people
    deciding at once (two approvers, an approver and an editor cancelling), the second one is
    refused instead of overwriting the first one's decision."""
    now = clock.now()
    expected = ALLOWED_FROM.get(action, (PostStatus.in_review, PostStatus.approved))
    result = session.execute(
        sa.update(Post)
        .where(col(Post.id) == post.id, col(Post.status) == post.status)
        .where(col(Post.status).in_(expected))
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.refresh(post)
        if action in ALLOWED_FROM:
            _require_state(post, action)  # names the state someone else just set
        raise TransitionRefused(extra={"status": str(post.status)})
    post.status = status
    post.updated_at = now


def _comment(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None
