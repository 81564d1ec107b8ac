from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from core.posts import publications
from core.posts.models import PostStatus, Publication, PublicationStatus
from tests.conftest import reload
from tests.factories import make_account, make_authority, make_post

AT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def _statuses(session: Session, post_id: int) -> list[tuple[str, datetime | None]]:
    rows = session.execute(
        sa.select(Publication.status, Publication.due_at)  # type: ignore[call-overload]
        .where(Publication.post_id == post_id)
        .order_by(Publication.id)
    ).all()
    return [(str(status), due) for status, due in rows]


def test_approving_schedules_then_moving_moves_only_unclaimed(session: Session) -> None:
    authority = make_authority(session)
    first, second = make_account(session, authority), make_account(session, authority)
    post = make_post(
        session, authority, targets=[first, second], status=PostStatus.approved, scheduled_at=AT
    )
    assert _statuses(session, post.id) == [("scheduled", AT), ("scheduled", AT)]  # type: ignore[arg-type]

    # A worker claims the first one.
    session.execute(
        sa.update(Publication)
        .where(Publication.account_id == first.id)  # type: ignore[arg-type]
        .values(status=PublicationStatus.publishing)
    )
    later = AT + timedelta(hours=2)
    post.scheduled_at = later
    already = publications.reschedule(session, post)
    session.commit()

    assert [p.account_id for p in already] == [first.id]
    assert _statuses(session, post.id) == [("publishing", AT), ("scheduled", later)]  # type: ignore[arg-type]


def test_cancel_stops_what_no_worker_holds_and_names_the_rest(session: Session) -> None:
    authority = make_authority(session)
    accounts = [make_account(session, authority) for _ in range(3)]
    post = make_post(
        session, authority, targets=accounts, status=PostStatus.approved, scheduled_at=AT
    )
    session.execute(
        sa.update(Publication)
        .where(Publication.account_id == accounts[0].id)  # type: ignore[arg-type]
        .values(status=PublicationStatus.published)
    )
    already = publications.cancel(session, post)
    session.commit()

    assert [p.status for p in already] == [PublicationStatus.published]
    reload(session, post)
    assert [s for s, _ in _statuses(session, post.id)] == ["published", "cancelled", "cancelled"]  # type: ignore[arg-type]


def test_back_to_review_unschedules(session: Session) -> None:
    authority = make_authority(session)
    post = make_post(
        session,
        authority,
        targets=[make_account(session, authority)],
        status=PostStatus.approved,
        scheduled_at=AT,
    )
    assert publications.unschedule(session, post) == []
    session.commit()
    assert _statuses(session, post.id) == [("pending", None)]  # type: ignore[arg-type]
    # Without a time, approving schedules nothing.
    post.scheduled_at = None
    assert publications.schedule(session, post) == 0
