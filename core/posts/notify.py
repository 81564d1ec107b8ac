"""E-mails of the workflow, written to the outbox in the transaction of the action: approvers
get the post and a one-tap approval link when it is submitted; the author and the editors hear
of each decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core.accounts.models import Account, Network
from core.authorities import service as authorities
from core.authorities.models import Authority, Role
from core.config import Settings
from core.editorial.models import Pillar
from core.mail import service as mail
from core.media import service as media
from core.posts import access, approvals, content
from core.posts.models import Post, Publication
from core.users.models import User


def local_time(value: datetime | None, timezone: str) -> str | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y à %H:%M")


def preview(session: Session, settings: Settings, post: Post) -> dict[str, Any]:
    """The post as it will appear, per target, in plain values (the outbox stores JSON)."""
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    rows = session.exec(
        select(Publication, Account)
        .join(Account, col(Account.id) == Publication.account_id)
        .where(Publication.post_id == post.id)
        .order_by(col(Publication.id))
    ).all()
    pillar = session.get(Pillar, post.pillar_id) if post.pillar_id else None
    author = session.get(User, post.author_id) if post.author_id else None
    return {
        "authority": authority.name,
        "post_id": post.id,
        "version": post.version,
        "text": post.text,
        "pillar": pillar.name if pillar else None,
        "urgent": bool(pillar and pillar.urgent),
        "author": author.name if author else None,
        "scheduled": local_time(post.scheduled_at, authority.timezone),
        "targets": [
            {
                "account_id": account.id,
                "network": Network(account.network).label,
                "network_code": account.network,
                "account": account.name,
                "handle": account.handle,
                "text": pub.text or post.text,
            }
            for pub, account in rows
        ],
        "images": [
            {"alt": m.alt_text, "url": settings.public_url + media.file_url(authority, m)}
            for m in content.media_of(session, post)
        ],
    }


def approval_requested(session: Session, settings: Settings, *, post: Post) -> None:
    view = preview(session, settings, post)
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    for user in access.approvers_for(session, post=post):
        token = approvals.issue(session, settings, post=post, user=user)
        mail.enqueue(
            session,
            to=user.email,
            template="approval_request",
            locale=user.locale,
            authority_id=post.authority_id,
            context={
                **view,
                "name": user.name,
                "link": f"{settings.public_url}/approval/{token}",
                "hours": settings.approval_link_ttl_hours,
            },
        )


def decision(
    session: Session,
    settings: Settings,
    *,
    post: Post,
    kind: str,
    by: User,
    comment: str | None,
) -> None:
    """The author and the editors hear of an approval, a request for changes or a rejection."""
    recipients: dict[int, User] = {}
    editors = authorities.members_with_role(
        session, authority_id=post.authority_id, role=Role.editor
    )
    author = session.get(User, post.author_id) if post.author_id else None
    for user in [*([author] if author else []), *editors]:
        if user.id is not None and user.id != by.id and user.is_active:
            recipients[user.id] = user
    if not recipients:
        return
    view = preview(session, settings, post)
    for user in recipients.values():
        mail.enqueue(
            session,
            to=user.email,
            template="post_decision",
            locale=user.locale,
            authority_id=post.authority_id,
            context={
                **view,
                "name": user.name,
                "decision": kind,
                "by": by.name,
                "comment": comment,
            },
        )
