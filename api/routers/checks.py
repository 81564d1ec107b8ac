"""The rules' findings for one post (DESIGN.md section 4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import CurrentUserDep, Member, SessionDep, SettingsDep, member_of
from core import rules
from core.authorities.models import Authority, Role
from core.errors import NotFound
from core.i18n import N_
from core.posts.models import Post

router = APIRouter(prefix="/api/v1", tags=["règles"])

POST_NOT_FOUND = N_("Cette publication n'existe pas ou vous n'y avez pas accès.")


def get_visible_post(session: SessionDep, user: CurrentUserDep, post_id: int) -> Post:
    """The post, if the caller is a member of its authority and may see it (a contributor sees
    only their own posts); 404 otherwise, so another authority's post looks unknown."""
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    member = _member_or_404(session, post, user)
    if not member.has(Role.admin, Role.editor, Role.approver) and post.author_id != user.id:
        raise NotFound(POST_NOT_FOUND)
    return post


def _member_or_404(session: SessionDep, post: Post, user: CurrentUserDep) -> Member:
    try:
        return member_of(session, authority=session.get(Authority, post.authority_id), user=user)
    except NotFound:
        raise NotFound(POST_NOT_FOUND) from None


VisiblePostDep = Annotated[Post, Depends(get_visible_post)]


class FindingRead(BaseModel):
    code: str
    severity: rules.Severity
    message: str
    figure: str | None
    account_id: int | None
    acknowledgeable: bool
    acknowledged: bool


class ChecksRead(BaseModel):
    post_id: int
    errors: int
    warnings: int
    findings: list[FindingRead]


@router.get("/posts/{post_id}/checks", response_model=ChecksRead)
def post_checks(post: VisiblePostDep, session: SessionDep, settings: SettingsDep) -> ChecksRead:
    """Toutes les constatations des règles pour cette publication, compte par compte : longueur
    du texte comptée comme chaque réseau, images, texte alternatif, hashtags, heure, quota du jour,
    période préélectorale. Une erreur bloque la soumission et la validation ; un avertissement
    `acknowledgeable` doit être accepté par l'élu·e qui valide."""
    found = rules.check_post(session, settings, post)
    acknowledged = set(post.acknowledged or [])
    assert post.id is not None
    return ChecksRead(
        post_id=post.id,
        errors=sum(1 for x in found if x.severity is rules.Severity.error),
        warnings=sum(1 for x in found if x.severity is rules.Severity.warning),
        findings=[FindingRead(**x.as_dict(), acknowledged=x.code in acknowledged) for x in found],
    )
