"""Who may see and change a post, and who approves it (DESIGN.md sections 1 and 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, col, select

from core.accounts.models import Account
from core.authorities import service as authorities
from core.authorities.models import EDITING_ROLES, Authority, Role
from core.editorial.models import Pillar, PillarApprover
from core.errors import NotFound, PermissionDenied
from core.i18n import N_
from core.posts.models import Post, Publication
from core.tenancy import for_authority
from core.users.models import User


class Actor(Protocol):
    """The caller within one authority (api.deps.Member, or the person of an approval link)."""

    @property
    def authority(self) -> Authority: ...

    @property
    def user(self) -> User: ...

    @property
    def roles(self) -> frozenset[Role]: ...


@dataclass(frozen=True)
class Acting:
    authority: Authority
    user: User
    roles: frozenset[Role]


POST_NOT_FOUND = N_("Cette publication n'existe pas ou vous n'y avez pas accès.")


def has(actor: Actor, *roles: Role) -> bool:
    return any(role in actor.roles for role in roles)


def can_edit_all(actor: Actor) -> bool:
    return has(actor, *EDITING_ROLES)


def only_own(actor: Actor) -> bool:
    """Contributors (without another role that sees everything) see only their own posts."""
    return not has(actor, Role.admin, Role.editor, Role.approver)


def get_visible(session: Session, *, actor: Actor, post_id: int) -> Post:
    """The post if the caller may see it; 404 otherwise (another authority's, or another
    contributor's), so that it looks exactly like a post that does not exist."""
    assert actor.authority.id is not None
    post = session.exec(
        for_authority(select(Post), actor.authority.id).where(Post.id == post_id)
    ).first()
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    if (
        only_own(actor)
        and post.author_id != actor.user.id
        and not in_charge_of(session, actor, post)
    ):
        raise NotFound(POST_NOT_FOUND)
    return post


def in_charge_of(session: Session, actor: Actor, post: Post) -> bool:
    """Whether the caller publishes this post by hand on a manual channel assigned to them (they
    see the post to publish it and say so, whoever wrote it)."""
    found = session.exec(
        select(Publication.id)
        .join(Account, col(Account.id) == Publication.account_id)
        .where(Publication.post_id == post.id, Account.assignee_id == actor.user.id)
        .limit(1)
    ).first()
    return found is not None


def require_author_role(actor: Actor) -> None:
    if not has(actor, Role.admin, Role.editor, Role.contributor):
        raise PermissionDenied(
            N_(
                "Cette action est réservée aux personnes qui rédigent les publications : agents "
                "contributeurs, chargé·es de communication et administrateurs."
            )
        )


def require_editor(actor: Actor) -> None:
    if not can_edit_all(actor):
        raise PermissionDenied(
            N_("Cette action est réservée aux chargé·es de communication et aux administrateurs.")
        )


def designated_ids(session: Session, *, post: Post) -> list[int]:
    if post.pillar_id is None:
        return []
    rows = session.exec(
        select(PillarApprover.user_id)
        .where(PillarApprover.pillar_id == post.pillar_id)
        .order_by(col(PillarApprover.user_id))
    )
    return list(rows)


def approvers_for(session: Session, *, post: Post) -> list[User]:
    """The pillar's designated approvers if it has any still holding the role, else every
    approver of the authority."""
    approvers = authorities.members_with_role(
        session, authority_id=post.authority_id, role=Role.approver
    )
    designated = set(designated_ids(session, post=post))
    chosen = [u for u in approvers if u.id in designated]
    # Designated approvers who all lost the role must not leave the post without anyone.
    return chosen or approvers


def require_approver_of(session: Session, *, actor: Actor, post: Post) -> None:
    if not has(actor, Role.approver):
        raise PermissionDenied(
            N_(
                "Seul·es les élu·es ayant le rôle de valideur peuvent valider, demander des "
                "modifications ou refuser une publication."
            )
        )
    allowed = approvers_for(session, post=post)
    if any(u.id == actor.user.id for u in allowed):
        return
    pillar = session.get(Pillar, post.pillar_id) if post.pillar_id else None
    raise PermissionDenied(
        N_(
            "Cette publication relève de la thématique « {pillar} », dont les valideurs désignés "
            "sont : {names}. Vous n'en faites pas partie : c'est à l'un·e d'eux de décider."
        ),
        pillar=pillar.name if pillar else "",
        names=", ".join(u.name for u in allowed) or "—",
    )
