from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.authorities.models import (
    Authority,
    AuthorityCreate,
    AuthorityUpdate,
    MemberCreate,
    MemberRead,
    Membership,
    Role,
)
from core.config import Settings
from core.errors import Conflict, InvalidInput, NotFound
from core.i18n import N_
from core.mail import service as mail
from core.media.models import MediaAsset
from core.tenancy import for_authority
from core.users import service as users
from core.users.models import User


def create(session: Session, *, data: AuthorityCreate) -> Authority:
    if get_by_slug(session, data.slug) is not None:
        raise Conflict(
            N_("L'identifiant « {slug} » est déjà pris par une autre collectivité."),
            slug=data.slug,
            extra={"field": "slug"},
        )
    authority = Authority.model_validate(data)
    session.add(authority)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # another request took the slug between the check and the insert
        raise Conflict(
            N_("L'identifiant « {slug} » est déjà pris par une autre collectivité."), slug=data.slug
        ) from None
    return authority


def _ensure_media_of(session: Session, *, authority: Authority, media_id: int) -> None:
    stmt = for_authority(select(MediaAsset.id), authority.id).where(MediaAsset.id == media_id)  # type: ignore[arg-type]
    if session.exec(stmt).first() is None:
        raise InvalidInput(
            N_(
                "L'image n° {id} n'est pas dans la médiathèque de la collectivité : envoyez "
                "d'abord le logo avec POST /api/v1/authorities/{slug}/media."
            ),
            id=media_id,
            slug=authority.slug,
            extra={"field": "logo_media_id"},
        )


# Run at every request: built once, with bind parameters.
_BY_SLUG = select(Authority).where(Authority.slug == sa.bindparam("slug"))
_MEMBERSHIP = for_authority(select(Membership), sa.bindparam("authority_id")).where(
    Membership.user_id == sa.bindparam("user_id")
)


def get_by_slug(session: Session, slug: str) -> Authority | None:
    return session.exec(_BY_SLUG, params={"slug": slug}).first()


def update(session: Session, *, authority: Authority, data: AuthorityUpdate) -> Authority:
    changes = data.model_dump(exclude_unset=True)
    if "logo_media_id" in changes:
        logo_id = changes.pop("logo_media_id")
        if logo_id is not None:
            _ensure_media_of(session, authority=authority, media_id=logo_id)
        authority.logo_media_id = logo_id
    for field, value in changes.items():
        if value is not None:
            setattr(authority, field, value)
    session.add(authority)
    return authority


def visible_to(session: Session, *, user: User) -> list[Authority]:
    """The authorities a person can open: their own, or all of them for a platform operator."""
    stmt = select(Authority).order_by(col(Authority.name))
    if not user.is_superuser:
        stmt = stmt.join(Membership, col(Membership.authority_id) == Authority.id).where(
            Membership.user_id == user.id
        )
    return list(session.exec(stmt))


def membership(session: Session, *, authority_id: int, user_id: int) -> Membership | None:
    params = {"authority_id": authority_id, "user_id": user_id}
    return session.exec(_MEMBERSHIP, params=params).first()


# --- members ------------------------------------------------------------------------------------


def members(session: Session, *, authority: Authority) -> list[MemberRead]:
    stmt = (
        for_authority(select(Membership, User), authority.id)  # type: ignore[arg-type]
        .join(User, col(User.id) == Membership.user_id)
        .order_by(col(User.name))
    )
    return [_member_read(m, u) for m, u in session.exec(stmt)]


def members_with_role(session: Session, *, authority_id: int, role: Role) -> list[User]:
    stmt = (
        for_authority(select(Membership, User), authority_id)
        .join(User, col(User.id) == Membership.user_id)
        .where(col(User.is_active))
    )
    return [user for membership, user in session.exec(stmt) if membership.has(role)]


def _member_read(membership: Membership, user: User) -> MemberRead:
    return MemberRead(
        id=membership.id,
        user_id=user.id,
        email=user.email,
        name=user.name,
        roles=[Role(r) for r in membership.roles],
        invited=user.password_hash is None,
        created_at=membership.created_at,
    )


def add_member(
    session: Session, settings: Settings, *, authority: Authority, data: MemberCreate, by: User
) -> MemberRead:
    """Add a person with their roles; someone new without a password gets an invitation e-mail."""
    assert data.roles is not None  # merged by the schema
    user = users.get_by_email(session, data.email)
    if user is None:
        user = users.create(session, email=data.email, name=data.name, password=data.password)
    elif membership(session, authority_id=authority.id, user_id=user.id) is not None:  # type: ignore[arg-type]
        raise Conflict(
            N_("{email} est déjà membre de {authority}."),
            email=user.email,
            authority=authority.name,
            extra={"field": "email"},
        )
    member = Membership(
        authority_id=authority.id,  # type: ignore[arg-type]
        user_id=user.id,  # type: ignore[arg-type]
        roles=[role.value for role in data.roles],
    )
    session.add(member)
    session.flush()
    context: dict[str, Any] = {
        "authority": authority.name,
        "inviter": by.name,
        "roles": [role.value for role in data.roles],
        "name": user.name,
    }
    if user.password_hash is None:
        token = users.invitation_token(settings, user=user)
        context["link"] = f"{settings.public_url}/invitation/{token}"
        context["valid_days"] = settings.invitation_ttl_days
        template = "invitation"
    else:
        context["link"] = f"{settings.public_url}/login"
        template = "membership_added"
    mail.enqueue(
        session,
        to=user.email,
        template=template,
        context=context,
        locale=user.locale,
        authority_id=authority.id,
    )
    return _member_read(member, user)


def get_membership(
    session: Session, *, authority: Authority, member_id: int
) -> tuple[Membership, User]:
    stmt = (
        for_authority(select(Membership, User), authority.id)  # type: ignore[arg-type]
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.id == member_id)
    )
    row = session.exec(stmt).first()
    if row is None:
        raise NotFound(N_("Cette personne n'est pas membre de cette collectivité."))
    return row[0], row[1]


def member_read(membership: Membership, user: User) -> MemberRead:
    return _member_read(membership, user)


def update_roles(
    session: Session,
    *,
    authority: Authority,
    membership: tuple[Membership, User],
    roles: Iterable[Role],
) -> MemberRead:
    member, user = membership
    new_roles = [role.value for role in roles]
    if Role.admin not in new_roles:
        _keep_an_admin(session, authority=authority, leaving=member)
    member.roles = new_roles
    session.add(member)
    return _member_read(member, user)


def remove_member(
    session: Session, *, authority: Authority, membership: tuple[Membership, User]
) -> None:
    member, _ = membership
    _keep_an_admin(session, authority=authority, leaving=member)
    session.delete(member)


def _keep_an_admin(session: Session, *, authority: Authority, leaving: Membership) -> None:
    if not leaving.has(Role.admin):
        return
    admins = members_with_role(session, authority_id=authority.id, role=Role.admin)  # type: ignore[arg-type]
    if all(admin.id == leaving.user_id for admin in admins):
        raise Conflict(
            N_(
                "Il doit rester au moins un administrateur dans la collectivité : nommez d'abord "
                "quelqu'un d'autre administrateur."
            )
        )
