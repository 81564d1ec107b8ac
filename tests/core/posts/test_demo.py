"""The demo seeds an editorial line, a post in every state and the notifications they caused."""

from __future__ import annotations

from sqlmodel import Session, select

from core import demo
from core.config import Settings
from core.editorial.models import EditorialLine, Pillar
from core.mail.models import OutboundEmail
from core.posts.models import Post, PostEvent, PostStatus


def test_the_demo_has_posts_in_every_state_and_notifications(
    session: Session, settings: Settings
) -> None:
    demo.seed(session, settings)
    session.commit()
    demo.seed(session, settings)  # idempotent
    session.commit()
    assert len(session.exec(select(EditorialLine)).all()) == 1
    pillars = session.exec(select(Pillar)).all()
    assert sum(p.target_share for p in pillars if p.active) == 100
    statuses = {PostStatus(p.status) for p in session.exec(select(Post)).all()}
    assert statuses == set(PostStatus)
    templates = {e.template for e in session.exec(select(OutboundEmail)).all()}
    assert templates >= {"approval_request", "post_decision"}
    urgent = session.exec(select(PostEvent).where(PostEvent.kind == "published_urgent")).all()
    assert len(urgent) == 1
    assert len(session.exec(select(Post)).all()) == 10
