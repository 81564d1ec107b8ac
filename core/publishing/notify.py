"""E-mails of the publishing engine, written to the outbox in the transaction of the failure."""

from __future__ import annotations

from sqlmodel import Session

from core.accounts.models import Account, Network
from core.authorities import service as authorities
from core.authorities.models import Authority, Role
from core.config import Settings
from core.mail import service as mail
from core.posts.models import Post
from core.posts.notify import local_time
from core.users.models import User


def failed(
    session: Session,
    settings: Settings,
    *,
    post: Post,
    account: Account,
    reason: str,
    reconnect: bool = False,
) -> None:
    """The editors (and the author) hear that a publication failed, with the reason and what to
    do; when the account must be reconnected, the administrators too."""
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    roles = [Role.editor, Role.admin] if reconnect else [Role.editor]
    recipients: dict[int, User] = {}
    for role in roles:
        for user in authorities.members_with_role(
            session, authority_id=post.authority_id, role=role
        ):
            if user.is_active and user.id is not None:
                recipients.setdefault(user.id, user)
    author = session.get(User, post.author_id) if post.author_id else None
    if author is not None and author.is_active and author.id is not None:
        recipients.setdefault(author.id, author)
    for user in recipients.values():
        mail.enqueue(
            session,
            to=user.email,
            template="publication_failed",
            locale=user.locale,
            authority_id=post.authority_id,
            context={
                "name": user.name,
                "authority": authority.name,
                "post_id": post.id,
                "network": Network(account.network).label,
                "account": account.name,
                "scheduled": local_time(post.scheduled_at, authority.timezone),
                "reason": reason,
                "reconnect": reconnect,
                "text": post.text,
                "link": f"{settings.public_url}/posts/{post.id}",
            },
        )
