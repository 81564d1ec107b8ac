"""Publishing by hand: publish a post now, retry a failed publication, mark a manual channel's
publication as published. The engine itself runs in the worker (scheduler/)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import CurrentUserDep, Member, PathId, SessionDep, member_of
from api.routers.posts import PostDep, PostMemberDep
from core.authorities.models import Authority
from core.errors import NotFound
from core.posts import service as posts
from core.posts.models import Post, Publication
from core.posts.schemas import PostRead
from core.publishing import service as publishing

router = APIRouter(prefix="/api/v1", tags=["publications"])


def get_publication_member(
    session: SessionDep, user: CurrentUserDep, publication_id: PathId
) -> Member:
    publication = session.get(Publication, publication_id)
    if publication is None:
        raise NotFound(publishing.PUBLICATION_NOT_FOUND)
    return member_of(session, authority=session.get(Authority, publication.authority_id), user=user)


PublicationMemberDep = Annotated[Member, Depends(get_publication_member)]


class MarkPublished(BaseModel):
    url: str | None = Field(default=None, max_length=1000)


@router.post("/posts/{post_id}/publish-now", response_model=PostRead)
def publish_now(post: PostDep, session: SessionDep, member: PostMemberDep) -> PostRead:
    """Publie tout de suite une publication validée, sur chaque réseau qui attend encore son
    heure (chargé·e de communication)."""
    publishing.publish_now(session, actor=member, post=post)
    return posts.read(session, post)


@router.post("/publications/{publication_id}/retry", response_model=PostRead)
def retry(publication_id: PathId, session: SessionDep, member: PublicationMemberDep) -> PostRead:
    """Relance une publication en échec (après avoir corrigé la cause : compte reconnecté,
    texte raccourci…). Répond la publication entière, avec ses cibles."""
    publication = publishing.get(session, actor=member, publication_id=publication_id)
    done = publishing.retry(session, actor=member, publication=publication)
    return posts.read(session, done.post)


@router.post("/publications/{publication_id}/mark-published", response_model=PostRead)
def mark_published(
    publication_id: PathId,
    session: SessionDep,
    member: PublicationMemberDep,
    data: MarkPublished | None = None,
) -> PostRead:
    """Canal manuel : la personne chargée du canal indique qu'elle a publié, avec le lien si
    elle l'a."""
    publication = publishing.get(session, actor=member, publication_id=publication_id)
    publishing.mark_published(
        session, actor=member, publication=publication, url=(data or MarkPublished()).url
    )
    post = session.get(Post, publication.post_id)
    assert post is not None
    session.refresh(post)
    return posts.read(session, post)
