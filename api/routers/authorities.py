from __future__ import annotations

from fastapi import APIRouter

from api.deps import AdminDep, CurrentUserDep, MemberDep, SessionDep, SuperuserDep
from core.authorities import service as authorities
from core.authorities.models import Authority, AuthorityCreate, AuthorityRead, AuthorityUpdate

router = APIRouter(prefix="/api/v1", tags=["collectivités"])


@router.get("/authorities", response_model=list[AuthorityRead])
def list_authorities(session: SessionDep, user: CurrentUserDep) -> list[Authority]:
    """Les collectivités dont la personne est membre (toutes pour un opérateur de plateforme)."""
    return authorities.visible_to(session, user=user)


@router.post("/authorities", status_code=201, response_model=AuthorityRead)
def create_authority(data: AuthorityCreate, session: SessionDep, user: SuperuserDep) -> Authority:
    """Crée une collectivité (opérateur de la plateforme seulement). Ajoutez-lui ensuite un
    administrateur avec POST /api/v1/authorities/{slug}/members."""
    del user
    return authorities.create(session, data=data)


@router.get("/authorities/{slug}", response_model=AuthorityRead)
def get_authority(member: MemberDep) -> Authority:
    return member.authority


@router.patch("/authorities/{slug}", response_model=AuthorityRead)
def update_authority(data: AuthorityUpdate, session: SessionDep, member: AdminDep) -> Authority:
    return authorities.update(session, authority=member.authority, data=data)
