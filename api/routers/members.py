from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import AdminDep, MemberDep, PathId, SessionDep, SettingsDep
from core.authorities import service as authorities
from core.authorities.models import MemberCreate, MemberRead, Membership, MemberUpdate
from core.users.models import User

router = APIRouter(prefix="/api/v1", tags=["membres"])


def get_target(
    session: SessionDep, member: MemberDep, member_id: PathId
) -> tuple[Membership, User]:
    # Resolved before role checks and body validation: another authority's id is simply unknown.
    return authorities.get_membership(session, authority=member.authority, member_id=member_id)


TargetDep = Annotated[tuple[Membership, User], Depends(get_target)]


@router.get("/authorities/{slug}/members", response_model=list[MemberRead])
def list_members(session: SessionDep, member: MemberDep) -> list[MemberRead]:
    return authorities.members(session, authority=member.authority)


@router.post("/authorities/{slug}/members", status_code=201, response_model=MemberRead)
def add_member(
    data: MemberCreate, session: SessionDep, settings: SettingsDep, member: AdminDep
) -> MemberRead:
    """Ajoute une personne avec un ou plusieurs rôles. Sans mot de passe, une personne nouvelle
    reçoit une invitation par e-mail pour choisir le sien."""
    return authorities.add_member(
        session, settings, authority=member.authority, data=data, by=member.user
    )


@router.get("/authorities/{slug}/members/{member_id}", response_model=MemberRead)
def get_member(target: TargetDep) -> MemberRead:
    return authorities.member_read(*target)


@router.patch("/authorities/{slug}/members/{member_id}", response_model=MemberRead)
def update_member(
    target: TargetDep, data: MemberUpdate, session: SessionDep, member: AdminDep
) -> MemberRead:
    return authorities.update_roles(
        session, authority=member.authority, membership=target, roles=data.roles
    )


@router.delete("/authorities/{slug}/members/{member_id}", status_code=204)
def remove_member(target: TargetDep, session: SessionDep, member: AdminDep) -> Response:
    authorities.remove_member(session, authority=member.authority, membership=target)
    return Response(status_code=204)
