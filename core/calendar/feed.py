"""The private iCal feed: one event per scheduled post, in the authority's timezone, behind a
revocable per-member token (calendar apps cannot send a header, so the token is in the URL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from core import clock, security
from core.accounts.models import NETWORK_LABELS, Account, Network
from core.authorities.models import Authority, Membership, Role
from core.calendar.models import CalendarFeedToken
from core.config import Settings
from core.editorial.models import Pillar
from core.errors import NotFound
from core.i18n import N_
from core.posts.models import POST_STATUS_LABELS, Post, PostStatus, Publication, PublicationStatus
from core.tenancy import for_authority

TOKEN_PREFIX = "bfc"
# What the feed covers: the recent past and the year ahead.
PAST = timedelta(days=92)
AHEAD = timedelta(days=366)
EVENT_LENGTH = timedelta(minutes=15)
NOT_IN_FEED = (PostStatus.cancelled, PostStatus.rejected)
CONFIRMED = (PostStatus.approved, PostStatus.published, PostStatus.partially_published)


class FeedNotFound(NotFound):
    detail = N_(
        "Ce lien d'agenda n'existe pas ou a été révoqué : créez-en un nouveau dans Beffroi et "
        "abonnez-y votre agenda."
    )


def create_token(session: Session, *, authority: Authority, user_id: int) -> str:
    """A new feed token for this member; their previous one stops working. Returns the raw
    token (shown once)."""
    revoke(session, authority=authority, user_id=user_id)
    raw = security.new_token(TOKEN_PREFIX)
    session.add(
        CalendarFeedToken(
            authority_id=authority.id,  # type: ignore[arg-type]
            user_id=user_id,
            token_hash=security.token_hash(raw),
        )
    )
    session.flush()
    return raw


def revoke(session: Session, *, authority: Authority, user_id: int) -> int:
    assert authority.id is not None
    result = session.execute(
        sa.update(CalendarFeedToken)
        .where(
            col(CalendarFeedToken.authority_id) == authority.id,
            col(CalendarFeedToken.user_id) == user_id,
            col(CalendarFeedToken.revoked_at).is_(None),
        )
        .values(revoked_at=clock.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def active_token(
    session: Session, *, authority: Authority, user_id: int
) -> CalendarFeedToken | None:
    """The member's live feed token, if any (only its hash is kept: the URL was shown once)."""
    assert authority.id is not None
    stmt = for_authority(select(CalendarFeedToken), authority.id).where(
        CalendarFeedToken.user_id == user_id, col(CalendarFeedToken.revoked_at).is_(None)
    )
    return session.exec(stmt).first()


def feed_url(settings: Settings, authority: Authority, raw: str) -> str:
    return f"{settings.public_url}/api/v1/authorities/{authority.slug}/calendar.ics?token={raw}"


def member_for_token(
    session: Session, *, authority: Authority | None, raw: str | None
) -> Membership:
    """The membership a live token belongs to, or FeedNotFound (unknown, revoked, another
    authority's, or a person no longer a member)."""
    if authority is None or not raw:
        raise FeedNotFound()
    assert authority.id is not None
    stmt = for_authority(select(CalendarFeedToken), authority.id).where(
        CalendarFeedToken.token_hash == security.token_hash(raw),
        col(CalendarFeedToken.revoked_at).is_(None),
    )
    token = session.exec(stmt).first()
    if token is None:
        raise FeedNotFound()
    membership = session.exec(
        for_authority(select(Membership), authority.id).where(Membership.user_id == token.user_id)
    ).first()
    if membership is None or not membership.roles:
        raise FeedNotFound()
    token.last_used_at = clock.now()
    session.add(token)
    return membership


def ical(
    session: Session, settings: Settings, *, authority: Authority, membership: Membership
) -> bytes:
    assert authority.id is not None
    now = clock.now()
    stmt = (
        for_authority(select(Post), authority.id)
        .where(
            col(Post.scheduled_at) >= now - PAST,
            col(Post.scheduled_at) < now + AHEAD,
            col(Post.status).not_in(NOT_IN_FEED),
        )
        .order_by(col(Post.scheduled_at), col(Post.id))
    )
    if not membership.has(Role.admin, Role.editor, Role.approver):
        stmt = stmt.where(Post.author_id == membership.user_id)
    posts = list(session.exec(stmt).all())
    networks = _networks(session, authority.id, [p.id for p in posts if p.id is not None])
    pillars = {
        p.id: p.name for p in session.exec(for_authority(select(Pillar), authority.id)).all()
    }
    zone = ZoneInfo(authority.timezone)
    host = urlsplit(settings.public_url).hostname or "beffroi"

    cal = Calendar()
    cal.add("prodid", "-//Beffroi//Calendrier des publications//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Publications – {authority.name}")
    cal.add("x-wr-timezone", authority.timezone)
    for post in posts:
        assert post.scheduled_at is not None
        cal.add_component(
            _event(post, post.scheduled_at.astimezone(zone), networks, pillars, host, now)
        )
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _event(
    post: Post,
    start: datetime,
    networks: dict[int, list[str]],
    pillars: dict[int | None, str],
    host: str,
    now: datetime,
) -> Event:
    status = PostStatus(post.status)
    on = ", ".join(networks.get(post.id or 0, [])) or "aucun compte"
    pillar = pillars.get(post.pillar_id)
    first_line = " ".join(post.text.split())[:80]
    event = Event()
    event.add("uid", f"post-{post.id}@{host}")
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("dtend", start + EVENT_LENGTH)
    event.add("summary", f"[{pillar}] {first_line}" if pillar else first_line)
    event.add(
        "description",
        f"{post.text}\n\nÉtat : {POST_STATUS_LABELS[status]}\nRéseaux : {on}",
    )
    event.add("status", "CONFIRMED" if status in CONFIRMED else "TENTATIVE")
    event.add("sequence", post.version)
    event.add("last-modified", post.updated_at)
    if pillar:
        event.add("categories", [pillar])
    return event


def _networks(session: Session, authority_id: int, post_ids: list[int]) -> dict[int, list[str]]:
    if not post_ids:
        return {}
    stmt = (
        for_authority(select(Publication.post_id, Account.network, Account.name), authority_id)
        .join(Account, col(Account.id) == col(Publication.account_id))
        .where(
            col(Publication.post_id).in_(post_ids),
            col(Publication.status) != PublicationStatus.cancelled,
        )
        .order_by(col(Publication.id))
    )
    found: dict[int, list[str]] = {}
    for post_id, network, name in session.exec(stmt).all():
        found.setdefault(post_id, []).append(f"{NETWORK_LABELS[Network(network)]} ({name})")
    return found
