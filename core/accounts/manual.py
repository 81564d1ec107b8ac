"""Manual channels (PanneauPocket, IntraMuros, the website…): Beffroi cannot publish there, so when
a publication is due the assigned member receives the prepared text, the images (linked, with
their alt text) and the link, by e-mail, and marks it published once done (the publishing engine
adds that step). Nothing here calls a network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.authorities import service as authorities
from core.authorities.models import Authority, Role
from core.mail import service as mail
from core.mail.models import OutboundEmail
from core.users.models import User
from networks.base import Post

TEMPLATE = "manual_publication"
# How far back a retried attempt looks for the message it may already have sent.
RETRY_WINDOW = timedelta(days=30)


def recipients(session: Session, *, account: Account) -> list[User]:
    """The assigned member; when none is (or they left), the authority's communication team."""
    if account.assignee_id is not None:
        membership = authorities.membership(
            session, authority_id=account.authority_id, user_id=account.assignee_id
        )
        user = session.get(User, account.assignee_id)
        if membership is not None and user is not None and user.is_active:
            return [user]
    team: dict[int, User] = {}
    for role in (Role.editor, Role.admin):
        for user in authorities.members_with_role(
            session, authority_id=account.authority_id, role=role
        ):
            team.setdefault(user.id, user)  # type: ignore[arg-type]
    return list(team.values())


def deliver(
    session: Session,
    *,
    account: Account,
    post: Post,
    due_at: datetime,
    idempotency_key: str,
    mark_url: str | None = None,
) -> Sequence[OutboundEmail]:
    """Send the prepared publication to whoever publishes on the channel, in the caller's
    transaction. The same `idempotency_key` never sends twice (a retried attempt)."""
    if account.network != Network.manual:
        raise ValueError("only manual channels are delivered by e-mail")
    already = session.exec(
        select(OutboundEmail).where(
            OutboundEmail.authority_id == account.authority_id,
            OutboundEmail.template == TEMPLATE,
            col(OutboundEmail.created_at) >= clock.now() - RETRY_WINDOW,
        )
    ).all()
    if any(e.context.get("idempotency_key") == idempotency_key for e in already):
        return []
    authority = session.get(Authority, account.authority_id)
    assert authority is not None
    local = due_at.astimezone(ZoneInfo(authority.timezone))
    sent = []
    for user in recipients(session, account=account):
        sent.append(
            mail.enqueue(
                session,
                to=user.email,
                template=TEMPLATE,
                locale=user.locale,
                authority_id=account.authority_id,
                context={
                    "idempotency_key": idempotency_key,
                    "name": user.name,
                    "authority": authority.name,
                    "channel": account.name,
                    "due": local.strftime("%d/%m/%Y %H:%M"),
                    "text": post.text,
                    "link": post.link,
                    "images": [{"url": i.url, "alt": i.alt} for i in post.images if i.url],
                    "mark_url": mark_url,
                },
            )
        )
    session.flush()
    return sent
