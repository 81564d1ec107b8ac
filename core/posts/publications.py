"""How a post's publications follow it (see `core.posts.models`). Every change is a conditional
UPDATE on the publication's status, so that it races safely with the engine's claim (which is one
too): a publication is either stopped or moved before a worker claims it, or it is not, and the
caller is told which."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock
from core.posts.models import Post, Publication, PublicationStatus

# A publication in these states has not been handed to a worker yet.
NOT_CLAIMED = (PublicationStatus.pending, PublicationStatus.scheduled)
DONE = (PublicationStatus.published, PublicationStatus.failed, PublicationStatus.cancelled)


def of_post(session: Session, post: Post) -> Sequence[Publication]:
    stmt = select(Publication).where(Publication.post_id == post.id).order_by(col(Publication.id))
    return session.exec(stmt).all()


def schedule(session: Session, post: Post) -> int:
    """The post is approved (or published urgently): its pending publications wait for its time.
    Returns how many were scheduled."""
    if post.scheduled_at is None:
        return 0
    result = session.execute(
        sa.update(Publication)
        .where(
            col(Publication.post_id) == post.id,
            col(Publication.status) == PublicationStatus.pending,
        )
        .values(
            status=PublicationStatus.scheduled, due_at=post.scheduled_at, updated_at=clock.now()
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def reschedule(session: Session, post: Post) -> list[Publication]:
    """The post moved: its scheduled publications move with it. Returns those a worker had
    already claimed or finished, which keep their time (the person is told)."""
    assert post.scheduled_at is not None
    session.execute(
        sa.update(Publication)
        .where(
            col(Publication.post_id) == post.id,
            col(Publication.status) == PublicationStatus.scheduled,
        )
        .values(due_at=post.scheduled_at, updated_at=clock.now())
    )
    return _not_stopped(session, post)


def unschedule(session: Session, post: Post) -> list[Publication]:
    """The post went back to review: publications not claimed yet wait again. Returns those
    already claimed or finished."""
    session.execute(
        sa.update(Publication)
        .where(
            col(Publication.post_id) == post.id,
            col(Publication.status) == PublicationStatus.scheduled,
        )
        .values(status=PublicationStatus.pending, due_at=None, updated_at=clock.now())
    )
    return _not_stopped(session, post)


def cancel(session: Session, post: Post) -> list[Publication]:
    """Cancel every publication not claimed yet. Returns those a worker had already claimed or
    published: they go out (or went out) once, and the person must be told."""
    session.execute(
        sa.update(Publication)
        .where(
            col(Publication.post_id) == post.id,
            col(Publication.status).in_(NOT_CLAIMED),
        )
        .values(status=PublicationStatus.cancelled, due_at=None, updated_at=clock.now())
    )
    return _not_stopped(session, post)


def _not_stopped(session: Session, post: Post) -> list[Publication]:
    session.expire_all()
    return [
        p
        for p in of_post(session, post)
        if p.status in (PublicationStatus.publishing, PublicationStatus.published)
    ]
