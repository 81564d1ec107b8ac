"""Dependencies of the pages: the signed-in person, CSRF on every form, membership."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Path, Request

from api import security
from api.deps import Member, SessionDep, member_of
from core.authorities import service as authorities
from core.authorities.models import Role
from core.errors import PermissionDenied, Unauthenticated
from core.i18n import N_
from core.users.models import User


def get_optional_principal(request: Request, session: SessionDep) -> security.Principal | None:
    principal = security.authenticate(request, session)
    security.remember_viewer(request, principal.user if principal else None)
    return principal


OptionalPrincipalDep = Annotated[security.Principal | None, Depends(get_optional_principal)]


def get_page_user(principal: OptionalPrincipalDep) -> User:
    if principal is None:
        raise Unauthenticated(N_("Connectez-vous pour continuer."))
    return principal.user


PageUserDep = Annotated[User, Depends(get_page_user)]


def verify_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    security.check_csrf(request, csrf_token)


CsrfDep = Depends(verify_csrf)


def get_page_member(
    session: SessionDep, user: PageUserDep, slug: Annotated[str, Path(max_length=64)]
) -> Member:
    return member_of(session, authority=authorities.get_by_slug(session, slug), user=user)


PageMemberDep = Annotated[Member, Depends(get_page_member)]


def get_page_admin(member: PageMemberDep) -> Member:
    if not member.has(Role.admin):
        raise PermissionDenied(N_("Cette action est réservée aux administrateurs."))
    return member


PageAdminDep = Annotated[Member, Depends(get_page_admin)]
