"""What people do to publications: publish a post now, retry a failed publication, mark a manual
channel's publication as published. Each is a conditional UPDATE on the publication's status, so
that it races safely with the engine's claim; services never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.i18n import N_
from core.posts import access, history
from core.posts.models import EventChannel, Post, PostStatus, Publication, PublicationStatus
from core.publishing import engine
from core.publishing.models import AccountPause, PublicationAttempt
from core.tenancy import for_authority

PUBLICATION_NOT_FOUND = N_("Cette publication n'existe pas ou vous n'y avez pas accès.")


def get(session: Session, *, actor: access.Actor, publication_id: int) -> Publication:
    stmt = for_authority(select(Publication), actor.authority.id).where(  # type: ignore[arg-type]
        Publication.id == publication_id
    )
    publication = session.exec(stmt).first()
    if publication is None:
        raise NotFound(PUBLICATION_NOT_FOUND)
    # Contributors see their own posts, and those of the manual channels they publish on.
    access.get_visible(session, actor=actor, post_id=publication.post_id)
    return publication


def publish_now(
    session: Session,
    *,
    actor: access.Actor,
    post: Post,
    channel: EventChannel = EventChannel.api,
) -> Post:
    """An approved post goes out at once on every target still waiting for its time."""
    access.require_editor(actor)
    if post.status != PostStatus.approved:
        raise Conflict(
            N_(
                "Seule une publication validée peut partir tout de suite (celle-ci est "
                "« {status} »). Faites-la valider d'abord, ou utilisez « Réessayer » sur une cible "
                "en échec."
            ),
            code="not_approved",
            status=str(post.status),
        )
    now = clock.now()
    moved = session.execute(
        sa.update(Publication)
        .where(
            col(Publication.post_id) == post.id,
            col(Publication.status) == PublicationStatus.scheduled,
        )
        .values(due_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise Conflict(
            N_(
                "Cette publication n'attend plus son heure : elle est déjà en cours d'envoi ou "
                "partie sur chaque réseau."
            ),
            code="nothing_to_publish",
        )
    post.scheduled_at = now
    post.updated_at = now
    session.add(post)
    history.record(session, post=post, kind="publish_now", by=actor.user, channel=channel)
    session.flush()
    return post


@dataclass
class Retried:
    publication: Publication
    post: Post


def retry(
    session: Session,
    *,
    actor: access.Actor,
    publication: Publication,
    channel: EventChannel = EventChannel.api,
) -> Retried:
    """A failed publication goes out again at once (after the person fixed the cause)."""
    access.require_editor(actor)
    now = clock.now()
    result = session.execute(
        sa.update(Publication)
        .where(
            col(Publication.id) == publication.id,
            col(Publication.status) == PublicationStatus.failed,
        )
        .values(
            status=PublicationStatus.scheduled,
            due_at=now,
            error=None,
            error_code=None,
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.refresh(publication)
        raise Conflict(
            N_("Seule une publication en échec peut être relancée (celle-ci est « {status} »)."),
            code="not_failed",
            status=str(publication.status),
        )
    # A person decided to try again: the count of transient errors starts afresh.
    session.execute(
        sa.update(PublicationAttempt)
        .where(
            col(PublicationAttempt.publication_id) == publication.id,
            col(PublicationAttempt.outcome) == "retry",
        )
        .values(outcome="failed")
        .execution_options(synchronize_session=False)
    )
    post = session.get(Post, publication.post_id)
    assert post is not None
    session.execute(
        sa.update(Post)
        .where(
            col(Post.id) == post.id,
            col(Post.status).in_((PostStatus.failed, PostStatus.partially_published)),
        )
        .values(status=PostStatus.approved, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    history.record(
        session,
        post=post,
        kind="publication_retried",
        by=actor.user,
        channel=channel,
        data={"account_id": publication.account_id},
    )
    session.flush()
    session.refresh(publication)
    session.refresh(post)
    return Retried(publication=publication, post=post)


def mark_published(
    session: Session,
    *,
    actor: access.Actor,
    publication: Publication,
    url: str | None,
    channel: EventChannel = EventChannel.api,
) -> Publication:
    """A person published on a manual channel (PanneauPocket, the website…) and says so."""
    account = session.get(Account, publication.account_id)
    assert account is not None
    if account.network != Network.manual:
        raise Conflict(
            N_(
                "Seules les publications d'un canal manuel s'indiquent comme publiées : Beffroi "
                "publie lui-même sur {network}."
            ),
            code="not_manual",
            network=Network(account.network).label,
        )
    if not (access.can_edit_all(actor) or account.assignee_id == actor.user.id):
        raise PermissionDenied(
            N_(
                "Seules la personne chargée de ce canal et l'équipe communication peuvent "
                "l'indiquer comme publiée."
            )
        )
    if url is not None and not url.startswith(("https://", "http://")):
        raise InvalidInput(
            N_("Le lien doit être une adresse web complète, commençant par https://."),
            code="invalid_url",
        )
    assert publication.id is not None
    if not engine.record_published(session, publication.id, remote_id=None, url=url):
        session.refresh(publication)
        raise Conflict(
            N_(
                "Cette publication ne peut plus être indiquée comme publiée (elle est "
                "« {status} »)."
            ),
            code="not_waiting",
            status=str(publication.status),
        )
    post = session.get(Post, publication.post_id)
    assert post is not None
    history.record(
        session,
        post=post,
        kind="marked_published",
        by=actor.user,
        channel=channel,
        data={"account_id": publication.account_id, "url": url},
    )
    engine.settle_post(session, post.id)  # type: ignore[arg-type]
    session.flush()
    session.refresh(publication)
    return publication


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    due: int  # scheduled and due now, not claimed yet
    in_flight: int  # claimed by a worker
    late: int  # due for more than `late_after` seconds and not out yet
    failed: int
    waiting_manual: int
    paused_accounts: int
    next_due_at: datetime | None


def queue_figures(session: Session, *, late_after: float = 60.0) -> QueueFigures:
    """Across authorities: an operator's figures (/metrics, `beffroi worker --status`)."""
    now = clock.now()

    def count(*where: object) -> int:
        return int(
            session.exec(select(sa.func.count()).select_from(Publication).where(*where)).one()  # type: ignore[arg-type]
        )

    scheduled = col(Publication.status) == PublicationStatus.scheduled
    return QueueFigures(
        due=count(scheduled, col(Publication.due_at) <= now),
        in_flight=count(
            col(Publication.status) == PublicationStatus.publishing,
            col(Publication.lease_until).is_not(None),
        ),
        late=count(
            sa.or_(
                scheduled,
                sa.and_(
                    col(Publication.status) == PublicationStatus.publishing,
                    col(Publication.lease_until).is_not(None),
                ),
            ),
            col(Publication.due_at) <= now - timedelta(seconds=late_after),
        ),
        failed=count(col(Publication.status) == PublicationStatus.failed),
        waiting_manual=count(
            col(Publication.status) == PublicationStatus.publishing,
            col(Publication.lease_until).is_(None),
        ),
        paused_accounts=int(
            session.exec(
                select(sa.func.count())
                .select_from(AccountPause)
                .where(col(AccountPause.until_at) > now)
            ).one()
        ),
        next_due_at=session.exec(select(sa.func.min(Publication.due_at)).where(scheduled)).one(),
    )
