"""The rules' findings for one post (DESIGN.md section 4)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import SessionDep, SettingsDep
from api.routers.posts import PostDep
from core import rules

router = APIRouter(prefix="/api/v1", tags=["règles"])


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
def post_checks(post: PostDep, session: SessionDep, settings: SettingsDep) -> ChecksRead:
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
