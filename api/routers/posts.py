"""Posts and their workflow: create, plan, submit, approve, request changes, reject, cancel,
publish an alert without approval; comments and history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from api.deps import (
    AuthorDep,
    CurrentUserDep,
    Member,
    MemberDep,
    PathId,
    QueryId,
    SessionDep,
    SettingsDep,
    member_of,
)
from core.authorities.models import Authority
from core.errors import NotFound
from core.posts import access, history, workflow
from core.posts import service as posts
from core.posts.history import EVENT_LABELS
from core.posts.models import Post, PostEvent, PostStatus
from core.posts.schemas import (
    Approval,
    Cancelled,
    CommentIn,
    Decision,
    EventRead,
    PostCreate,
    PostRead,
    PostUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["publications"])


def get_post_member(session: SessionDep, user: CurrentUserDep, post_id: PathId) -> Member:
    # A post is found in the caller's authorities only: anything else is simply unknown (404).
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(access.POST_NOT_FOUND)
    return member_of(session, authority=session.get(Authority, post.authority_id), user=user)


PostMemberDep = Annotated[Member, Depends(get_post_member)]


def get_post(session: SessionDep, member: PostMemberDep, post_id: PathId) -> Post:
    return posts.get(session, actor=member, post_id=post_id)


PostDep = Annotated[Post, Depends(get_post)]


@router.get("/authorities/{slug}/posts", response_model=list[PostRead])
def list_posts(
    session: SessionDep,
    member: MemberDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    status: PostStatus | None = None,
    pillar: QueryId = None,
    account: QueryId = None,
    awaiting: Literal["me"] | None = None,
) -> list[PostRead]:
    """Les publications, par date. Filtres : `from`, `to` (ISO 8601 ; sans décalage, heure de
    la collectivité), `status`, `pillar`, `account`, et `awaiting=me` : celles qui attendent
    votre validation. Un agent contributeur ne voit que les siennes."""
    tz = member.authority.timezone
    filters = posts.Filters(
        start=posts.as_utc(start, timezone=tz, field="from"),
        end=posts.as_utc(to, timezone=tz, field="to"),
        status=status,
        pillar_id=pillar,
        account_id=account,
        awaiting_me=awaiting == "me",
    )
    return posts.read_many(session, posts.list_posts(session, actor=member, filters=filters))


@router.post("/authorities/{slug}/posts", status_code=201, response_model=PostRead)
def create_post(
    data: PostCreate, session: SessionDep, settings: SettingsDep, member: AuthorDep
) -> PostRead:
    """Crée un brouillon : `text`, `pillar_id`, `objective_ids`, `audience_ids`, `campaign_id`,
    `media_ids`, `targets` (`[{account_id, text?}]`, texte propre à un réseau en option),
    `scheduled_at` (ISO 8601 avec décalage, ou heure locale de la collectivité) et
    `suggested_at` (date proposée par un agent contributeur)."""
    return posts.read(session, posts.create(session, settings, actor=member, data=data))


@router.get("/posts/{post_id}", response_model=PostRead)
def read_post(post: PostDep, session: SessionDep) -> PostRead:
    return posts.read(session, post)


@router.patch("/posts/{post_id}", response_model=PostRead)
def update_post(
    post: PostDep,
    data: PostUpdate,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
) -> PostRead:
    """Modifie la publication. Changer le contenu (texte, textes par réseau, images, comptes)
    crée une nouvelle version et la renvoie en validation ; changer seulement la date garde la
    validation, sauf si la nouvelle date entre dans une période pré-électorale ou une fenêtre
    de silence."""
    return posts.read(session, posts.update(session, settings, actor=member, post=post, data=data))


@router.delete("/posts/{post_id}", status_code=204)
def delete_post(post: PostDep, session: SessionDep, member: PostMemberDep) -> Response:
    posts.delete(session, actor=member, post=post)
    return Response(status_code=204)


@router.post("/posts/{post_id}/submit", response_model=PostRead)
def submit(
    post: PostDep, session: SessionDep, settings: SettingsDep, member: PostMemberDep
) -> PostRead:
    """Envoie en validation : les élu·es valideurs reçoivent un e-mail avec un lien."""
    workflow.submit(session, settings, actor=member, post=post)
    return posts.read(session, post)


@router.post("/posts/{post_id}/approve", response_model=PostRead)
def approve(
    post: PostDep,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
    data: Approval | None = None,
) -> PostRead:
    """Valide (élu·es valideurs seulement ; ceux de la thématique s'il y en a de désignés).
    `acknowledge` : les codes des avertissements lus et acceptés."""
    data = data or Approval()
    workflow.approve(
        session,
        settings,
        actor=member,
        post=post,
        comment=data.comment,
        acknowledge=data.acknowledge,
    )
    return posts.read(session, post)


@router.post("/posts/{post_id}/request-changes", response_model=PostRead)
def request_changes(
    post: PostDep,
    data: Decision,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
) -> PostRead:
    """Renvoie en brouillon avec un commentaire (obligatoire)."""
    workflow.request_changes(session, settings, actor=member, post=post, comment=data.comment)
    return posts.read(session, post)


@router.post("/posts/{post_id}/reject", response_model=PostRead)
def reject(
    post: PostDep,
    data: Decision,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
) -> PostRead:
    """Refuse, avec un commentaire (obligatoire)."""
    workflow.reject(session, settings, actor=member, post=post, comment=data.comment)
    return posts.read(session, post)


@router.post("/posts/{post_id}/cancel", response_model=Cancelled)
def cancel(
    post: PostDep,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
    data: Decision | None = None,
) -> Cancelled:
    """Annule. `already_sent` liste les comptes où elle était déjà partie ou en cours d'envoi :
    là, elle reste publiée (à retirer sur le réseau si besoin)."""
    result = workflow.cancel(
        session, settings, actor=member, post=post, comment=(data or Decision()).comment
    )
    read = posts.read(session, post)
    sent = {p.account_id for p in result.already_sent}
    return Cancelled(
        **read.model_dump(), already_sent=[t for t in read.targets if t.account_id in sent]
    )


@router.post("/posts/{post_id}/publish-urgent", response_model=PostRead)
def publish_urgent(
    post: PostDep,
    session: SessionDep,
    settings: SettingsDep,
    member: PostMemberDep,
    data: Decision | None = None,
) -> PostRead:
    """Alerte (thématique urgente) : part sans validation, à son heure ou tout de suite ; c'est
    inscrit dans l'historique."""
    workflow.publish_urgent(
        session, settings, actor=member, post=post, comment=(data or Decision()).comment
    )
    return posts.read(session, post)


@router.get("/posts/{post_id}/comments", response_model=list[EventRead])
def list_comments(post: PostDep, session: SessionDep) -> list[EventRead]:
    """Les commentaires, et les décisions accompagnées d'un commentaire."""
    events = history.of_post(session, post)
    return [_event(e) for e in events if e.comment]


@router.post("/posts/{post_id}/comments", status_code=201, response_model=EventRead)
def add_comment(
    post: PostDep, data: CommentIn, session: SessionDep, member: PostMemberDep
) -> EventRead:
    return _event(posts.add_comment(session, actor=member, post=post, comment=data.comment))


@router.get("/posts/{post_id}/history", response_model=list[EventRead])
def post_history(post: PostDep, session: SessionDep) -> list[EventRead]:
    """Tout ce qui est arrivé à la publication : qui, quoi, quand, sur quelle version, par
    quel canal (`api`, `web`, `email` pour un lien de validation, `system`)."""
    return [_event(e) for e in history.of_post(session, post)]


def _event(e: PostEvent) -> EventRead:
    return EventRead(
        id=e.id or 0,
        kind=e.kind,
        label=EVENT_LABELS.get(e.kind, e.kind),
        version=e.version,
        channel=e.channel,
        actor_id=e.actor_id,
        actor_name=e.actor_name,
        comment=e.comment,
        data=e.data,
        created_at=e.created_at,
    )
