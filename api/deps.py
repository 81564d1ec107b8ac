"""FastAPI dependencies: the request's database session, the caller, and role checks.

The session commits when the endpoint returns and rolls back when it raises, before the answer is
built, so a client never sees an answer for work that was not saved, nor half-saved work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import security
from core.authorities import service as authorities
from core.authorities.models import EDITING_ROLES, Authority, Membership, Role
from core.config import Settings
from core.errors import NotFound, PermissionDenied, Unauthenticated
from core.i18n import N_
from core.users.models import User
from core.validation import MAX_ID


async def get_settings(request: Request) -> Settings:
    # Dependencies that only read what is at hand are coroutines: FastAPI runs a plain function
    # in its thread pool, a hop between threads for nothing.
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    with Session(get_engine(request), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    if session.info.get("mail_enqueued"):
        request.app.state.mailer.kick()


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(request: Request, session: SessionDep) -> security.Principal:
    principal = security.authenticate(request, session)
    if principal is None:
        raise Unauthenticated()
    if principal.via == "cookie" and request.method not in security.SAFE_METHODS:
        # The browser sends the cookie on its own; a script of ours also sends the CSRF header.
        security.check_csrf(request, request.headers.get(security.CSRF_HEADER))
    security.remember_viewer(request, principal.user)
    return principal


PrincipalDep = Annotated[security.Principal, Depends(get_principal)]


async def get_current_user(principal: PrincipalDep) -> User:
    return principal.user


CurrentUserDep = Annotated[User, Depends(get_current_user)]


def get_superuser(user: CurrentUserDep) -> User:
    if not user.is_superuser:
        raise PermissionDenied(
            N_("Seul un opérateur de la plateforme peut faire cela (compte « superuser »).")
        )
    return user


SuperuserDep = Annotated[User, Depends(get_superuser)]


# Database ids are 32-bit on PostgreSQL: a larger number names nothing (422, not a crash).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


@dataclass(frozen=True)
class Member:
    """The caller acting within one authority, with the roles they hold there."""

    authority: Authority
    user: User
    roles: frozenset[Role]

    @property
    def authority_id(self) -> int:
        assert self.authority.id is not None
        return self.authority.id

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def can_edit(self) -> bool:
        return self.has(*EDITING_ROLES)


def member_of(session: Session, *, authority: Authority | None, user: User) -> Member:
    """The caller as a member of `authority`; 404 when they are not one, so that another
    authority's data looks exactly like data that does not exist."""
    if authority is None:
        raise NotFound(N_("Cette collectivité n'existe pas ou vous n'en êtes pas membre."))
    membership: Membership | None = authorities.membership(
        session,
        authority_id=authority.id,  # type: ignore[arg-type]
        user_id=user.id,  # type: ignore[arg-type]
    )
    roles = frozenset(Role(r) for r in membership.roles) if membership else frozenset()
    if user.is_superuser:
        # Platform operators administer every authority; approving stays with elected officials.
        roles |= {Role.admin}
    if not roles:
        raise NotFound(N_("Cette collectivité n'existe pas ou vous n'en êtes pas membre."))
    return Member(authority=authority, user=user, roles=roles)


def get_member(
    session: SessionDep,
    user: CurrentUserDep,
    slug: Annotated[str, Path(max_length=64)],
) -> Member:
    return member_of(session, authority=authorities.get_by_slug(session, slug), user=user)


MemberDep = Annotated[Member, Depends(get_member)]


def _requiring(*roles: Role, message: str) -> object:
    async def dependency(member: MemberDep) -> Member:
        if not member.has(*roles):
            raise PermissionDenied(message)
        return member

    return dependency


EditorDep = Annotated[
    Member,
    Depends(
        _requiring(
            Role.admin,
            Role.editor,
            message=N_(
                "Cette action est réservée aux chargé·es de communication et aux administrateurs."
            ),
        )
    ),
]
# Everyone who writes posts: contributors propose drafts with their photos.
AuthorDep = Annotated[
    Member,
    Depends(
        _requiring(
            Role.admin,
            Role.editor,
            Role.contributor,
            message=N_(
                "Cette action est réservée aux personnes qui rédigent les publications : agents "
                "contributeurs, chargé·es de communication et administrateurs."
            ),
        )
    ),
]
ApproverDep = Annotated[
    Member,
    Depends(
        _requiring(
            Role.approver,
            message=N_("Seul·es les élu·es ayant le rôle de valideur peuvent valider."),
        )
    ),
]
AdminDep = Annotated[
    Member,
    Depends(_requiring(Role.admin, message=N_("Cette action est réservée aux administrateurs."))),
]
