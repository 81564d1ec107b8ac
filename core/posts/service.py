"""Posts: create, read, list, change and delete. The transitions of the workflow are in
`core.posts.workflow`; how publications follow the post, in `core.posts.publications`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock, electoral
from core.accounts.models import Account
from core.authorities.models import Authority, Role
from core.config import Settings
from core.editorial.models import Audience, Campaign, Objective, Pillar, PillarApprover
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.i18n import N_
from core.media.models import MediaAsset
from core.posts import access, content, history, publications, workflow
from core.posts.access import Actor
from core.posts.models import (
    POST_STATUS_LABELS,
    EventChannel,
    Post,
    PostAudience,
    PostEvent,
    PostMedia,
    PostObjective,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.posts.schemas import PostCreate, PostRead, PostUpdate, TargetIn, TargetRead
from core.tenancy import for_authority

# Far enough for any calendar, near enough to stay clear of datetime's limits.
MAX_AHEAD = timedelta(days=3 * 366)
EDITABLE = (PostStatus.draft, PostStatus.in_review, PostStatus.approved)
DELETABLE = (PostStatus.draft, PostStatus.in_review, PostStatus.rejected, PostStatus.cancelled)


# --- times --------------------------------------------------------------------------------------


def to_utc(value: datetime | None, *, timezone: str, field: str) -> datetime | None:
    """A time to publish at: as `as_utc`, and neither past nor more than three years ahead."""
    instant = as_utc(value, timezone=timezone, field=field)
    if instant is None:
        return None
    now = clock.now()
    if instant > now + MAX_AHEAD:
        raise _too_far(field)
    if instant < now:
        raise InvalidInput(
            N_(
                "La date indiquée ({field}) est déjà passée : choisissez un moment à venir, "
                "en heure locale de la collectivité ou avec son décalage (par exemple "
                "« 2026-12-01T10:00:00+01:00 »)."
            ),
            field=field,
            code="past",
            extra={"field": field},
        )
    return instant


def as_utc(value: datetime | None, *, timezone: str, field: str) -> datetime | None:
    """An instant from the API: with an offset as given, without one read in the authority's
    timezone. A local time that does not exist (spring DST gap) is refused with a suggestion;
    an ambiguous one (autumn) is the first occurrence."""
    if value is None:
        return None
    try:
        if value.tzinfo is not None:
            instant = value.astimezone(UTC)
        else:
            zone = ZoneInfo(timezone)
            local = value.replace(tzinfo=zone)
            instant = local.astimezone(UTC)
            if instant.astimezone(zone).replace(tzinfo=None) != value:
                suggested = (value + timedelta(hours=1)).strftime("%d/%m/%Y à %H:%M")
                raise InvalidInput(
                    N_(
                        "Le {local} n'existe pas à l'heure locale ({zone}) : c'est la nuit du "
                        "passage à l'heure d'été. Choisissez une autre heure, par exemple le "
                        "{suggested}."
                    ),
                    local=value.strftime("%d/%m/%Y à %H:%M"),
                    zone=timezone,
                    suggested=suggested,
                    extra={"field": field},
                )
    except OverflowError:
        raise _too_far(field) from None
    return instant


def _too_far(field: str) -> InvalidInput:
    return InvalidInput(
        N_("La date indiquée ({field}) est trop lointaine : trois ans à l'avance au plus."),
        field=field,
        extra={"field": field},
    )


# --- reading ------------------------------------------------------------------------------------


def get(session: Session, *, actor: Actor, post_id: int) -> Post:
    return access.get_visible(session, actor=actor, post_id=post_id)


@dataclass(frozen=True)
class Filters:
    start: datetime | None = None
    end: datetime | None = None
    status: PostStatus | None = None
    pillar_id: int | None = None
    account_id: int | None = None
    awaiting_me: bool = False


def list_posts(session: Session, *, actor: Actor, filters: Filters) -> list[Post]:
    """Posts of the authority, by time (posts without a time last)."""
    assert actor.authority.id is not None
    stmt = for_authority(select(Post), actor.authority.id)
    if access.only_own(actor):
        stmt = stmt.where(Post.author_id == actor.user.id)
    if filters.start is not None:
        stmt = stmt.where(col(Post.scheduled_at) >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(col(Post.scheduled_at) < filters.end)
    if filters.status is not None:
        stmt = stmt.where(Post.status == filters.status)
    if filters.pillar_id is not None:
        stmt = stmt.where(Post.pillar_id == filters.pillar_id)
    if filters.account_id is not None:
        stmt = stmt.where(
            col(Post.id).in_(
                select(Publication.post_id).where(Publication.account_id == filters.account_id)
            )
        )
    if filters.awaiting_me:
        if not access.has(actor, Role.approver):
            return []
        mine = select(PillarApprover.pillar_id).where(PillarApprover.user_id == actor.user.id)
        designated = select(PillarApprover.pillar_id).where(
            PillarApprover.pillar_id == Post.pillar_id
        )
        stmt = stmt.where(
            Post.status == PostStatus.in_review,
            sa.or_(col(Post.pillar_id).in_(mine), ~sa.exists(designated)),
        )
    stmt = stmt.order_by(
        col(Post.scheduled_at).is_(None), col(Post.scheduled_at), col(Post.id)
    ).limit(1000)
    return list(session.exec(stmt))


def read(session: Session, post: Post) -> PostRead:
    return read_many(session, [post])[0]


def read_many(session: Session, posts: Sequence[Post]) -> list[PostRead]:
    ids = [p.id for p in posts]
    if not ids:
        return []
    targets: dict[int, list[TargetRead]] = {i: [] for i in ids}  # type: ignore[misc]
    rows = session.exec(
        select(Publication, Account)
        .join(Account, col(Account.id) == Publication.account_id)
        .where(col(Publication.post_id).in_(ids))
        .order_by(col(Publication.id))
    )
    for pub, account in rows:
        targets[pub.post_id].append(target_read(pub, account))
    objectives = _links(session, PostObjective, "objective_id", ids)
    audiences = _links(session, PostAudience, "audience_id", ids)
    media = _links(session, PostMedia, "media_id", ids, order=col(PostMedia.position))
    approvers: dict[int | None, list[int]] = {}
    result = []
    for post in posts:
        if post.pillar_id not in approvers:
            approvers[post.pillar_id] = [
                u.id  # type: ignore[misc]
                for u in access.approvers_for(session, post=post)
            ]
        result.append(
            PostRead(
                **post.model_dump(
                    include={
                        "id",
                        "text",
                        "pillar_id",
                        "campaign_id",
                        "scheduled_at",
                        "suggested_at",
                        "version",
                        "content_hash",
                        "author_id",
                        "approved_by_id",
                        "approved_at",
                        "urgent_without_approval",
                        "acknowledged",
                        "created_at",
                        "updated_at",
                    }
                ),
                status=PostStatus(post.status),
                status_label=POST_STATUS_LABELS[PostStatus(post.status)],
                objective_ids=objectives[post.id],  # type: ignore[index]
                audience_ids=audiences[post.id],  # type: ignore[index]
                media_ids=media[post.id],  # type: ignore[index]
                targets=targets[post.id],  # type: ignore[index]
                approver_ids=approvers[post.pillar_id],
            )
        )
    return result


def target_read(pub: Publication, account: Account) -> TargetRead:
    return TargetRead(
        publication_id=pub.id,
        account_id=pub.account_id,
        network=str(account.network),
        account_name=account.name,
        status=pub.status,
        text=pub.text,
        remote_url=pub.remote_url,
        error=pub.error,
        published_at=pub.published_at,
        error_code=pub.error_code,
        attempts=pub.attempts,
    )


def _links(
    session: Session, model: Any, column: str, ids: list[int | None], *, order: Any = None
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {i: [] for i in ids if i is not None}
    stmt = select(model.post_id, getattr(model, column)).where(col(model.post_id).in_(ids))
    stmt = stmt.order_by(order if order is not None else getattr(model, column))
    for post_id, other in session.exec(stmt):
        found[post_id].append(other)
    return found


# --- writing ------------------------------------------------------------------------------------


def create(
    session: Session,
    settings: Settings,  # noqa: ARG001 - same shape as update
    *,
    actor: Actor,
    data: PostCreate,
    source: str | None = None,
    channel: EventChannel = EventChannel.api,
) -> Post:
    """A new draft. `source` names where it came from when not typed in (e.g. `csv_import`)."""
    access.require_author_role(actor)
    authority = actor.authority
    if data.scheduled_at is not None and not access.can_edit_all(actor):
        raise _contributors_suggest()
    post = Post(
        authority_id=authority.id,  # type: ignore[arg-type]
        author_id=actor.user.id,
        text=_text(data.text),
        pillar_id=_pillar(session, authority, data.pillar_id),
        campaign_id=_campaign(session, authority, data.campaign_id),
        scheduled_at=to_utc(data.scheduled_at, timezone=authority.timezone, field="scheduled_at"),
        suggested_at=to_utc(data.suggested_at, timezone=authority.timezone, field="suggested_at"),
    )
    objective_ids = _ids_of(session, authority, Objective, data.objective_ids, "objective_ids")
    audience_ids = _ids_of(session, authority, Audience, data.audience_ids, "audience_ids")
    media_ids = _ids_of(session, authority, MediaAsset, data.media_ids, "media_ids")
    _check_targets(session, authority, data.targets)
    session.add(post)
    session.flush()
    _set_links(session, post, PostObjective, "objective_id", objective_ids)
    _set_links(session, post, PostAudience, "audience_id", audience_ids)
    _set_media(session, post, media_ids)
    _set_targets(session, post, data.targets)
    post.content_hash = content.current_hash(session, post)
    session.add(post)
    history.record(
        session,
        post=post,
        kind="created",
        by=actor.user,
        channel=channel,
        data={"source": source} if source else None,
    )
    session.flush()
    return post


CONTENT_FIELDS = {"text", "targets", "media_ids"}


def update(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    data: PostUpdate,
    channel: EventChannel = EventChannel.api,
) -> Post:
    """Change a post. A change of content (text, per-target texts, media, targets) makes a new
    version: a post in review or approved goes (back) to review and its approval links stop
    working. A change of time keeps the approval unless the new time enters a pre-electoral
    period or a silence window."""
    _require_can_change(session, actor=actor, post=post)
    authority = actor.authority
    values = data.model_dump(exclude_unset=True)
    if values.get("scheduled_at") is not None and not access.can_edit_all(actor):
        raise _contributors_suggest()
    changed: list[str] = []
    before = content.current_hash(session, post)
    if "text" in values:
        post.text = _text(data.text or "")
    if "pillar_id" in values and data.pillar_id != post.pillar_id:
        post.pillar_id = _pillar(session, authority, data.pillar_id)
        changed.append("pillar_id")
    if "campaign_id" in values and data.campaign_id != post.campaign_id:
        post.campaign_id = _campaign(session, authority, data.campaign_id)
        changed.append("campaign_id")
    if data.objective_ids is not None:
        ids = _ids_of(session, authority, Objective, data.objective_ids, "objective_ids")
        _set_links(session, post, PostObjective, "objective_id", ids)
        changed.append("objective_ids")
    if data.audience_ids is not None:
        ids = _ids_of(session, authority, Audience, data.audience_ids, "audience_ids")
        _set_links(session, post, PostAudience, "audience_id", ids)
        changed.append("audience_ids")
    if "suggested_at" in values:
        post.suggested_at = to_utc(
            data.suggested_at, timezone=authority.timezone, field="suggested_at"
        )
        changed.append("suggested_at")
    if data.media_ids is not None:
        ids = _ids_of(session, authority, MediaAsset, data.media_ids, "media_ids")
        _set_media(session, post, ids)
    if data.targets is not None:
        _check_targets(session, authority, data.targets)
        _set_targets(session, post, data.targets)
    old_time = post.scheduled_at
    if "scheduled_at" in values:
        new_time = to_utc(data.scheduled_at, timezone=authority.timezone, field="scheduled_at")
    else:
        new_time = old_time
    post.updated_at = clock.now()
    session.add(post)
    session.flush()

    new_hash = content.current_hash(session, post)
    post.content_hash = new_hash
    if new_hash != before:
        post.version += 1
        history.record(
            session,
            post=post,
            kind="edited",
            by=actor.user,
            channel=channel,
            data={"fields": sorted(CONTENT_FIELDS & set(values))},
        )
        if post.status in (PostStatus.in_review, PostStatus.approved):
            workflow.back_to_review(
                session, settings, post=post, by=actor.user, reason="content_changed"
            )
    if changed:
        history.record(
            session,
            post=post,
            kind="updated",
            by=actor.user,
            channel=channel,
            data={"fields": changed},
        )
    if new_time != old_time:
        _move(
            session, settings, actor=actor, post=post, old=old_time, new=new_time, channel=channel
        )
    session.flush()
    return post


def _move(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    post: Post,
    old: datetime | None,
    new: datetime | None,
    channel: EventChannel = EventChannel.api,
) -> None:
    post.scheduled_at = new
    session.add(post)
    history.record(
        session,
        post=post,
        kind="moved",
        by=actor.user,
        channel=channel,
        data={
            "from": old.isoformat() if old else None,
            "to": new.isoformat() if new else None,
        },
    )
    if post.status != PostStatus.approved:
        return
    if new is None:
        publications.unschedule(session, post)
        return
    elections = electoral.elections_of(session, post.authority_id)
    entered = electoral.newly_entered(elections, actor.authority.timezone, old, new)
    if entered:
        kinds = sorted({"silence" if w.round_day else "pre_electoral" for w in entered})
        workflow.back_to_review(
            session, settings, post=post, by=actor.user, reason="electoral", windows=kinds
        )
        return
    if old is None:
        publications.schedule(session, post)
        return
    stuck = publications.reschedule(session, post)
    if stuck:
        raise _already_sent(stuck)


def add_comment(
    session: Session,
    *,
    actor: Actor,
    post: Post,
    comment: str,
    channel: EventChannel = EventChannel.api,
) -> PostEvent:
    text = comment.strip()
    if not text:
        raise InvalidInput(N_("Le commentaire est vide."), extra={"field": "comment"})
    event = history.record(
        session, post=post, kind="commented", by=actor.user, comment=text, channel=channel
    )
    session.flush()
    return event


def delete(session: Session, *, actor: Actor, post: Post) -> None:
    _require_can_change(session, actor=actor, post=post, deleting=True)
    session.delete(post)
    session.flush()


def require_can_change(session: Session, *, actor: Actor, post: Post) -> None:
    """Refuse, with what to do, a change this person may not make now (403, 404 or 409)."""
    _require_can_change(session, actor=actor, post=post)


def _require_can_change(
    session: Session, *, actor: Actor, post: Post, deleting: bool = False
) -> None:
    allowed = DELETABLE if deleting else EDITABLE
    if not access.can_edit_all(actor):
        access.require_author_role(actor)
        if post.author_id != actor.user.id:
            raise NotFound(access.POST_NOT_FOUND)
        if post.status not in (PostStatus.draft, PostStatus.in_review):
            raise PermissionDenied(
                N_(
                    "Cette publication est « {state} » : seule l'équipe communication peut "
                    "encore la modifier. Ajoutez un commentaire pour demander un changement."
                ),
                state=POST_STATUS_LABELS[PostStatus(post.status)],
            )
    if post.status not in allowed:
        raise Conflict(
            N_("Cette publication est « {state} » : elle ne peut plus être {what}."),
            state=POST_STATUS_LABELS[PostStatus(post.status)],
            what=N_("supprimée") if deleting else N_("modifiée"),
            extra={"status": str(post.status)},
        )
    stuck = [
        p
        for p in publications.of_post(session, post)
        if p.status in (PublicationStatus.publishing, PublicationStatus.published)
    ]
    if stuck:
        raise _already_sent(stuck)


def _already_sent(stuck: Sequence[Publication]) -> Conflict:
    return Conflict(
        N_(
            "Cette publication est déjà partie (ou en cours d'envoi) sur {count} compte(s) : "
            "elle ne peut plus être modifiée. Annulez-la pour arrêter les envois restants."
        ),
        count=len(stuck),
        extra={"account_ids": [p.account_id for p in stuck]},
    )


def _contributors_suggest() -> PermissionDenied:
    return PermissionDenied(
        N_(
            "Les agents contributeurs proposent une date (« suggested_at ») ; l'équipe "
            "communication fixe la date de publication (« scheduled_at »)."
        )
    )


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(
            N_("Le texte de la publication est vide : écrivez le message à publier."),
            code="empty_text",
            extra={"field": "text"},
        )
    return value


def _pillar(session: Session, authority: Authority, pillar_id: int | None) -> int | None:
    if pillar_id is None:
        return None
    pillar = session.exec(
        for_authority(select(Pillar), authority.id).where(Pillar.id == pillar_id)  # type: ignore[arg-type]
    ).first()
    if pillar is None:
        raise InvalidInput(
            N_("La thématique {id} n'existe pas dans cette collectivité (voir GET …/pillars)."),
            id=pillar_id,
            extra={"field": "pillar_id"},
        )
    if not pillar.active:
        raise InvalidInput(
            N_("La thématique « {name} » est désactivée : choisissez-en une autre."),
            name=pillar.name,
            extra={"field": "pillar_id"},
        )
    return pillar_id


def _campaign(session: Session, authority: Authority, campaign_id: int | None) -> int | None:
    if campaign_id is None:
        return None
    _ids_of(session, authority, Campaign, [campaign_id], "campaign_id")
    return campaign_id


_UNKNOWN = {
    "objective_ids": N_("Objectif(s) inconnu(s) dans cette collectivité : {ids}."),
    "audience_ids": N_("Cible(s) inconnue(s) dans cette collectivité : {ids}."),
    "media_ids": N_("Image(s) absente(s) de la médiathèque de la collectivité : {ids}."),
    "campaign_id": N_("La campagne {ids} n'existe pas dans cette collectivité."),
    "targets": N_("Compte(s) inconnu(s) dans cette collectivité : {ids} (voir GET …/accounts)."),
}


def _ids_of(
    session: Session, authority: Authority, model: Any, ids: Sequence[int], field: str
) -> list[int]:
    if len(set(ids)) != len(ids):
        raise InvalidInput(
            N_("La liste « {field} » contient deux fois le même identifiant."),
            field=field,
            extra={"field": field},
        )
    if not ids:
        return []
    found = set(
        session.exec(
            for_authority(select(model.id), authority.id).where(col(model.id).in_(ids))  # type: ignore[arg-type]
        )
    )
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise InvalidInput(
            _UNKNOWN[field],
            ids=", ".join(str(i) for i in unknown),
            extra={"field": field, "invalid": unknown},
        )
    return list(ids)


def _check_targets(session: Session, authority: Authority, targets: Sequence[TargetIn]) -> None:
    _ids_of(session, authority, Account, [t.account_id for t in targets], "targets")


def _set_links(session: Session, post: Post, model: Any, column: str, ids: list[int]) -> None:
    session.execute(sa.delete(model).where(model.post_id == post.id))
    for other in ids:
        session.add(model(post_id=post.id, **{column: other}))
    session.flush()


def _set_media(session: Session, post: Post, ids: list[int]) -> None:
    session.execute(sa.delete(PostMedia).where(col(PostMedia.post_id) == post.id))
    for position, media_id in enumerate(ids):
        session.add(PostMedia(post_id=post.id, media_id=media_id, position=position))  # type: ignore[arg-type]
    session.flush()


def _set_targets(session: Session, post: Post, targets: Sequence[TargetIn]) -> None:
    existing = {p.account_id: p for p in publications.of_post(session, post)}
    wanted = {t.account_id: t for t in targets}
    for account_id, pub in existing.items():
        if account_id not in wanted:
            session.delete(pub)
    for account_id, target in wanted.items():
        text = target.text.strip() if target.text and target.text.strip() else None
        pub = existing.get(account_id) or Publication(
            authority_id=post.authority_id,
            post_id=post.id,  # type: ignore[arg-type]
            account_id=account_id,
        )
        pub.text = text
        session.add(pub)
    session.flush()
