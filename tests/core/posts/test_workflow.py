"""Transitions race safely: of two decisions taken at once, the second is refused."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.authorities.models import Role
from core.config import Settings
from core.posts import workflow
from core.posts.access import Acting
from core.posts.models import Post, PostEvent, PostStatus
from tests.factories import make_account, make_authority, make_member, make_post


def test_a_decision_on_a_post_someone_just_decided_is_refused(
    db: Engine, session: Session, settings: Settings
) -> None:
    authority = make_authority(session)
    mayor = make_member(session, authority, Role.approver, name="Hélène Maire")
    deputy = make_member(session, authority, Role.approver, name="Marc Adjoint")
    post = make_post(
        session, authority, targets=[make_account(session, authority)], status=PostStatus.in_review
    )
    roles = frozenset({Role.approver})
    with (
        Session(db, expire_on_commit=False) as first,
        Session(db, expire_on_commit=False) as second,
    ):
        # The second person read the post while it was in review (and the page is still open).
        seen_by_second = second.get(Post, post.id)
        assert seen_by_second is not None
        second.expunge(seen_by_second)
        second.rollback()
        seen_by_first = first.get(Post, post.id)
        assert seen_by_first is not None
        workflow.approve(first, settings, actor=Acting(authority, mayor, roles), post=seen_by_first)
        first.commit()
        second.add(seen_by_second)
        with pytest.raises(workflow.TransitionRefused) as refused:
            workflow.reject(
                second,
                settings,
                actor=Acting(authority, deputy, roles),
                post=seen_by_second,
                comment="Non.",
            )
        second.rollback()
    assert "« Validée »" in refused.value.message
    session.rollback()
    stored = session.get(Post, post.id)
    assert stored is not None
    session.refresh(stored)
    assert stored.status == PostStatus.approved
    kinds = [e.kind for e in session.exec(select(PostEvent).where(PostEvent.post_id == post.id))]
    assert kinds == ["approved"]
