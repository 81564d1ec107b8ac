"""One-tap approval links sent by e-mail: signed, single-use, expiring, bound to the version and
content hash of the post. Only the sha256 of a token is stored; the signature lets a forged
token be refused before any query."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core import clock, security
from core.authorities import service as authorities
from core.authorities.models import Authority, Role
from core.config import Settings
from core.errors import AppError, Conflict, Gone, PermissionDenied
from core.i18n import N_
from core.posts.access import Acting
from core.posts.models import POST_STATUS_LABELS, ApprovalLink, Post, PostStatus
from core.users.models import User

PURPOSE = "approval"


class LinkInvalid(AppError):
    status_code = 404
    code = "approval_link_invalid"
    detail = N_(
        "Ce lien de validation n'est pas valide : il a peut-être été mal copié. Ouvrez-le à "
        "nouveau depuis l'e-mail reçu, ou demandez un nouveau lien à l'équipe communication."
    )


class LinkUsed(Gone):
    code = "approval_link_used"
    detail = N_(
        "Ce lien de validation a déjà servi : chaque lien ne sert qu'une fois. La décision "
        "prise est dans l'historique de la publication ; pour toute question, adressez-vous à "
        "l'équipe communication de {authority}."
    )


class LinkExpired(Gone):
    code = "approval_link_expired"
    detail = N_(
        "Ce lien de validation a expiré. Demandez un nouveau lien à l'équipe communication de "
        "{authority}, ou validez la publication depuis Beffroi."
    )


class LinkOutdated(Conflict):
    code = "approval_link_outdated"
    detail = N_(
        "La publication a été modifiée depuis l'envoi de ce lien (version {version} ; le lien "
        "montrait la version {link_version}). Rien n'a été validé : un nouveau lien vous est "
        "envoyé pour la nouvelle version. En cas de doute, adressez-vous à l'équipe "
        "communication de {authority}."
    )


class LinkDecided(Conflict):
    code = "approval_link_decided"
    detail = N_(
        "Cette publication n'attend plus de validation (elle est « {state} ») : une décision a "
        "déjà été prise. Rien n'a été changé ; adressez-vous à l'équipe communication de "
        "{authority} pour toute question."
    )


class LinkCsrf(AppError):
    status_code = 403
    code = "csrf"
    detail = N_(
        "Le formulaire n'a pas pu être vérifié. Rouvrez le lien depuis l'e-mail et réessayez."
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, settings: Settings, *, post: Post, user: User) -> str:
    """A new link for `user` to approve the current version of `post`; returns the token."""
    token = security.Signer(settings.secret, PURPOSE).dumps(
        {"p": post.id, "n": secrets.token_urlsafe(16)}
    )
    session.add(
        ApprovalLink(
            authority_id=post.authority_id,
            post_id=post.id,  # type: ignore[arg-type]
            user_id=user.id,  # type: ignore[arg-type]
            token_hash=_hash(token),
            version=post.version,
            content_hash=post.content_hash,
            expires_at=clock.now() + timedelta(hours=settings.approval_link_ttl_hours),
        )
    )
    return token


def revoke_all(session: Session, *, post: Post) -> None:
    """Outstanding links of the post stop working (content changed, or decided another way)."""
    session.execute(
        sa.update(ApprovalLink)
        .where(
            col(ApprovalLink.post_id) == post.id,
            col(ApprovalLink.used_at).is_(None),
            col(ApprovalLink.revoked_at).is_(None),
        )
        .values(revoked_at=clock.now())
    )


@dataclass(frozen=True)
class Resolved:
    link: ApprovalLink
    post: Post
    authority: Authority
    actor: Acting


def resolve(session: Session, settings: Settings, *, token: str) -> Resolved:
    """The link, its post and its person, or the error that says what happened."""
    try:
        security.Signer(settings.secret, PURPOSE).loads(token)
    except security.Invalid:
        raise LinkInvalid() from None
    link = session.exec(select(ApprovalLink).where(ApprovalLink.token_hash == _hash(token))).first()
    if link is None:
        raise LinkInvalid()
    post = session.get(Post, link.post_id)
    authority = session.get(Authority, link.authority_id)
    user = session.get(User, link.user_id)
    if post is None or authority is None or user is None:
        raise LinkInvalid()
    name = authority.name
    if link.used_at is not None:
        raise LinkUsed(authority=name)
    if link.version != post.version or link.content_hash != post.content_hash:
        raise LinkOutdated(version=post.version, link_version=link.version, authority=name)
    if post.status != PostStatus.in_review:
        raise LinkDecided(state=POST_STATUS_LABELS[PostStatus(post.status)], authority=name)
    if link.revoked_at is not None:
        raise LinkDecided(state=N_("décidée autrement"), authority=name)
    if link.expires_at <= clock.now():
        raise LinkExpired(authority=name)
    membership = authorities.membership(
        session,
        authority_id=authority.id,  # type: ignore[arg-type]
        user_id=user.id,  # type: ignore[arg-type]
    )
    if membership is None or not membership.has(Role.approver) or not user.is_active:
        raise PermissionDenied(
            N_(
                "Vous n'avez plus le rôle d'élu·e valideur dans {authority} : ce lien ne peut "
                "plus servir. Adressez-vous à son administrateur."
            ),
            authority=name,
        )
    roles = frozenset(Role(r) for r in membership.roles)
    return Resolved(link=link, post=post, authority=authority, actor=Acting(authority, user, roles))


def mark_used(session: Session, *, link: ApprovalLink) -> None:
    link.used_at = clock.now()
    session.add(link)


def form_token(settings: Settings, *, token: str) -> str:
    """The CSRF value of the link's page: bound to the token, so that no other page can post
    a decision for it, and needing no cookie (the person may not be signed in)."""
    message = f"approval-form:{_hash(token)}".encode()
    return hmac.new(settings.secret.encode(), message, hashlib.sha256).hexdigest()


def check_form_token(settings: Settings, *, token: str, submitted: str) -> None:
    if not submitted or not hmac.compare_digest(form_token(settings, token=token), submitted):
        raise LinkCsrf()
