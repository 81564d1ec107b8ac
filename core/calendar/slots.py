"""Posting slots: weekly local times per account, and "add to queue" (the next free slot of each
target)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account
from core.authorities.models import Authority
from core.calendar.models import WEEKDAYS, PostingSlot, SlotCreate
from core.config import Settings
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import N_
from core.posts import service as posts
from core.posts.access import Actor
from core.posts.models import (
    POST_STATUS_LABELS,
    EventChannel,
    Post,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.posts.schemas import PostUpdate
from core.rules import quotas, timing
from core.tenancy import for_authority, get_for_authority

# How far ahead "add to queue" looks for a free slot.
QUEUE_HORIZON_DAYS = 366


class NoFreeSlot(Conflict):
    code = "no_free_slot"
    detail = N_(
        "Aucun créneau libre pour « {account} » dans l'année qui vient : ajoutez des créneaux de "
        "publication à ce compte ou choisissez une date."
    )


class NoSlots(Conflict):
    code = "no_slots"
    detail = N_(
        "Le compte « {account} » n'a pas de créneau de publication : ajoutez-en (par exemple le "
        "mardi à 12:15) ou choisissez une date."
    )


class PostNotQueueable(Conflict):
    code = "not_queueable"
    detail = N_(
        "Cette publication est « {status} » : elle ne peut plus être placée dans la file ; seules "
        "les publications en brouillon, en validation, validées ou refusées peuvent l'être."
    )


def list_slots(session: Session, *, account: Account) -> list[PostingSlot]:
    stmt = (
        for_authority(select(PostingSlot), account.authority_id)
        .where(PostingSlot.account_id == account.id)
        .order_by(col(PostingSlot.weekday), col(PostingSlot.local_time))
    )
    return list(session.exec(stmt).all())


def add_slot(session: Session, *, account: Account, data: SlotCreate) -> PostingSlot:
    local = data.local_time.replace(second=0, microsecond=0, tzinfo=None)
    slot = PostingSlot(
        authority_id=account.authority_id,
        account_id=account.id,  # type: ignore[arg-type]
        weekday=data.weekday,
        local_time=local,
    )
    try:
        with session.begin_nested():
            session.add(slot)
            session.flush()
    except IntegrityError:
        raise Conflict(
            N_("Ce créneau existe déjà pour ce compte : le {weekday} à {time}."),
            weekday=WEEKDAYS[data.weekday],
            time=local.strftime("%H:%M"),
        ) from None
    return slot


def get_slot(session: Session, *, account: Account, slot_id: int) -> PostingSlot:
    slot = get_for_authority(session, PostingSlot, slot_id, account.authority_id)
    if slot.account_id != account.id:
        raise NotFound()
    return slot


def delete_slot(session: Session, *, slot: PostingSlot) -> None:
    session.delete(slot)
    session.flush()


def slots_of(
    session: Session, *, authority_id: int, account_ids: Sequence[int]
) -> list[PostingSlot]:
    if not account_ids:
        return []
    params = {"authority_id": authority_id, "account_ids": list(account_ids)}
    return list(session.exec(_SLOTS_OF, params=params).all())


_SLOTS_OF = for_authority(select(PostingSlot), sa.bindparam("authority_id")).where(
    col(PostingSlot.account_id).in_(sa.bindparam("account_ids", expanding=True))
)


def slot_instant(day: date, at: time, timezone: str) -> datetime:
    """The UTC instant of a slot on a given day; a slot in the spring gap moves to the next
    valid time, one in the autumn overlap takes the first occurrence."""
    wall = datetime.combine(day, at)
    zone = ZoneInfo(timezone)
    if timing.exists(wall, zone):
        return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    return timing.to_utc(timing.next_valid(wall, zone), timezone)


def slot_instants(
    slots: Sequence[PostingSlot], start: date, end: date, timezone: str
) -> list[tuple[PostingSlot, datetime]]:
    """Every occurrence of the slots from `start` to `end` (included), in time order."""
    by_weekday: dict[int, list[PostingSlot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    found = []
    day = start
    while day <= end:
        for slot in by_weekday.get(day.weekday(), []):
            found.append((slot, slot_instant(day, slot.local_time, timezone)))
        day += timedelta(days=1)
    return sorted(found, key=lambda pair: (pair[1], pair[0].account_id))


def taken_instants(
    session: Session,
    *,
    authority_id: int,
    account_ids: Sequence[int],
    start: datetime,
    end: datetime,
    excluding_post_id: int | None = None,
) -> set[tuple[int, datetime]]:
    """(account, instant) pairs already planned: a slot is free when its pair is not in here."""
    return set(
        quotas.planned_instants(
            session,
            authority_id=authority_id,
            account_ids=account_ids,
            start=start,
            end=end,
            excluding_post_id=excluding_post_id,
        )
    )


def next_free_slot(
    session: Session, *, account: Account, timezone: str, after: datetime, post_id: int | None
) -> datetime:
    slots = list_slots(session, account=account)
    if not slots:
        raise NoSlots(account=account.name)
    zone = ZoneInfo(timezone)
    first_day = after.astimezone(zone).date()
    step = 28
    for offset in range(0, QUEUE_HORIZON_DAYS, step):
        start_day = first_day + timedelta(days=offset)
        end_day = start_day + timedelta(days=step - 1)
        candidates = [
            at for _, at in slot_instants(slots, start_day, end_day, timezone) if at > after
        ]
        if not candidates:
            continue
        taken = taken_instants(
            session,
            authority_id=account.authority_id,
            account_ids=[account.id],  # type: ignore[list-item]
            start=candidates[0],
            end=candidates[-1] + timedelta(seconds=1),
            excluding_post_id=post_id,
        )
        for at in candidates:
            if (account.id, at) not in taken:
                return at
    raise NoFreeSlot(account=account.name)


QUEUEABLE = (PostStatus.draft, PostStatus.in_review, PostStatus.approved, PostStatus.rejected)


def queue(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    channel: EventChannel = EventChannel.api,
) -> datetime:
    """Place `post` in the next free slot of its targets: the earliest instant that is a free
    slot of every target (one time per post), found by walking each target's next free slot
    until they agree. The time is set by the posts service, like any move (history, publications
    rescheduled, back to review when it enters a pre-electoral period)."""
    if post.status not in QUEUEABLE:
        raise PostNotQueueable(status=POST_STATUS_LABELS[PostStatus(post.status)])
    accounts = _targets(session, post)
    if not accounts:
        raise InvalidInput(
            N_("Choisissez d'abord au moins un compte sur lequel publier cette publication.")
        )
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    after = clock.now()
    for _ in range(QUEUE_HORIZON_DAYS * 4):
        proposals = [
            next_free_slot(
                session, account=a, timezone=authority.timezone, after=after, post_id=post.id
            )
            for a in accounts
        ]
        latest = max(proposals)
        if all(p == latest for p in proposals):
            move = PostUpdate(scheduled_at=latest)
            posts.update(session, settings, actor=actor, post=post, data=move, channel=channel)
            return latest
        after = latest - timedelta(microseconds=1)
    raise NoFreeSlot(account=", ".join(a.name for a in accounts))


def _targets(session: Session, post: Post) -> list[Account]:
    stmt = (
        for_authority(select(Account), post.authority_id)
        .join(Publication, col(Publication.account_id) == col(Account.id))
        .where(
            Publication.post_id == post.id,
            col(Publication.status) != PublicationStatus.cancelled,
        )
        .order_by(col(Account.id))
    )
    return list(session.exec(stmt).all())
