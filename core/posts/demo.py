"""The demo's editorial line and posts: one post in every state of the workflow, made through
the real services, so that the history and the notifications (in the outbox, visible on the
development e-mails page) are those a real authority would have."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.authorities.models import Authority, Membership, Role
from core.config import Settings
from core.editorial import schemas as editorial_schemas
from core.editorial import service as editorial
from core.editorial.models import (
    Audience,
    Campaign,
    Election,
    ElectionKind,
    KpiMetric,
    KpiPeriod,
    Objective,
    Pillar,
)
from core.posts import service as posts
from core.posts import workflow
from core.posts.access import Acting
from core.posts.models import Post, PostStatus, Publication, PublicationStatus
from core.posts.schemas import PostCreate, TargetIn
from core.users.models import User


def seed(session: Session, settings: Settings, *, authority: Authority) -> None:
    """Idempotent: does nothing once the authority has an editorial line."""
    if editorial.line_of(session, authority=authority) is not None:
        return
    people = _people(session, authority)
    admin = people["admin@val-de-brume.example.org"]
    editorial.write_line(
        session,
        authority=authority,
        by=admin.user,
        data=editorial_schemas.EditorialLineWrite(
            mission="Informer chaque habitant de Val-de-Brume de ce qui change dans sa vie "
            "quotidienne, et lui donner envie de participer à la vie de la commune.",
            tone_charter="Clair, chaleureux, concret ; des phrases courtes ; jamais de jargon "
            "administratif sans explication.",
            address_form="vous",
            emoji_policy="Un émoji au plus par publication, jamais dans les alertes.",
            hashtags=["ValDeBrume", "VieLocale"],
            network_roles={
                Network.facebook: "Vie quotidienne, familles et associations",
                Network.x: "Actualité, alertes et journalistes",
                Network.linkedin: "Attractivité économique et recrutements",
                Network.instagram: "Visuels, patrimoine et jeunes publics",
            },
        ),
    )
    aid = authority.id
    objective = Objective(
        authority_id=aid,  # type: ignore[arg-type]
        name="Faire connaître les démarches en ligne",
        kpi_metric=KpiMetric.clicks,
        kpi_target=2000,
        kpi_period=KpiPeriod.quarter,
    )
    families = Audience(authority_id=aid, name="Familles")  # type: ignore[arg-type]
    seniors = Audience(authority_id=aid, name="Seniors")  # type: ignore[arg-type]
    session.add_all([objective, families, seniors])
    session.flush()
    deputy = people["adjoint.travaux@val-de-brume.example.org"]
    pillars = {
        name: editorial.create_item(
            session,
            Pillar,
            authority=authority,
            data=editorial_schemas.PillarCreate(
                name=name, color=color, target_share=share, urgent=urgent, approver_ids=approvers
            ),
        )
        for name, color, share, urgent, approvers in (
            ("Travaux", "#e76f51", 25, False, [deputy.user.id]),
            ("Culture", "#2a9d8f", 30, False, []),
            ("Démarches", "#264653", 30, False, []),
            ("Alertes", "#d62828", 15, True, []),
        )
    }
    today = clock.now().date()
    campaign = Campaign(
        authority_id=aid,  # type: ignore[arg-type]
        name="Rentrée des services en ligne",
        objective_id=objective.id,
        starts_on=today,
        ends_on=today + timedelta(days=30),
    )
    session.add(campaign)
    session.add(
        Election(
            authority_id=aid,  # type: ignore[arg-type]
            kind=ElectionKind.municipales,
            territory="Val-de-Brume",
            first_round=date(2032, 3, 14),
            second_round=date(2032, 3, 21),
        )
    )
    session.flush()
    _posts(session, settings, authority, people, pillars, campaign, [families.id, seniors.id])  # type: ignore[list-item]


def _people(session: Session, authority: Authority) -> dict[str, Acting]:
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.authority_id == authority.id)
    )
    return {
        user.email: Acting(authority, user, frozenset(Role(r) for r in m.roles)) for m, user in rows
    }


def _posts(
    session: Session,
    settings: Settings,
    authority: Authority,
    people: dict[str, Acting],
    pillars: dict[str, Pillar],
    campaign: Campaign,
    audience_ids: list[int],
) -> None:
    editor = people["communication@val-de-brume.example.org"]
    mayor = people["maire@val-de-brume.example.org"]
    deputy = people["adjoint.travaux@val-de-brume.example.org"]
    agent = people["agent@val-de-brume.example.org"]
    accounts = list(
        session.exec(
            select(Account).where(Account.authority_id == authority.id).order_by(col(Account.id))
        )
    )
    facebook = [a.id for a in accounts if a.network == Network.facebook and a.id is not None]
    mastodon = [a.id for a in accounts if a.network == Network.mastodon and a.id is not None]
    bluesky = [a.id for a in accounts if a.network == Network.bluesky and a.id is not None]
    soon = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)

    def make(by: Acting, text: str, pillar: str, account_ids: list[int], days: int) -> Post:
        return posts.create(
            session,
            settings,
            actor=by,
            data=PostCreate(
                text=text,
                pillar_id=pillars[pillar].id,
                audience_ids=audience_ids,
                campaign_id=campaign.id if pillar == "Démarches" else None,
                targets=[TargetIn(account_id=i) for i in account_ids],
                scheduled_at=soon + timedelta(days=days) if by is not agent else None,
                suggested_at=soon + timedelta(days=days) if by is agent else None,
            ),
        )

    make(
        agent,
        "Le festival des arts de la rue revient le 14 : programme en mairie.",
        "Culture",
        facebook,
        6,
    )
    review = make(
        editor,
        "Carte d'identité : prenez rendez-vous en ligne, sans vous déplacer.",
        "Démarches",
        facebook + mastodon,
        3,
    )
    workflow.submit(session, settings, actor=editor, post=review)
    works = make(
        editor,
        "Rue des Tilleuls : travaux de voirie du 3 au 7, déviation par le marché.",
        "Travaux",
        facebook,
        4,
    )
    workflow.submit(session, settings, actor=editor, post=works)
    workflow.approve(session, settings, actor=deputy, post=works, comment="Bon pour moi.")
    rejected = make(
        editor, "Bilan de mandat : tout ce que nous avons réalisé !", "Culture", facebook, 5
    )
    workflow.submit(session, settings, actor=editor, post=rejected)
    workflow.reject(
        session,
        settings,
        actor=mayor,
        post=rejected,
        comment="Pas de bilan de mandat sur nos comptes.",
    )
    changes = make(editor, "Inscriptions à la cantine ouvertes.", "Démarches", bluesky, 2)
    workflow.submit(session, settings, actor=editor, post=changes)
    workflow.request_changes(
        session,
        settings,
        actor=mayor,
        post=changes,
        comment="Ajoutez la date limite d'inscription.",
    )
    cancelled = make(editor, "Concert au kiosque samedi.", "Culture", mastodon, 7)
    workflow.cancel(session, settings, actor=editor, post=cancelled, comment="Concert reporté.")
    alert = make(
        editor,
        "Alerte canicule : la salle des fêtes est ouverte et rafraîchie.",
        "Alertes",
        facebook + mastodon,
        0,
    )
    workflow.publish_urgent(session, settings, actor=editor, post=alert)
    # What the publishing engine leaves behind: published, partly published, failed.
    for text, outcomes in (
        ("La médiathèque ouvre le dimanche matin.", [PublicationStatus.published] * 2),
        ("Vide-grenier du quartier Nord.", [PublicationStatus.published, PublicationStatus.failed]),
        ("Collecte des encombrants mardi.", [PublicationStatus.failed]),
    ):
        post = make(editor, text, "Culture", (facebook + mastodon)[: len(outcomes)], 1)
        workflow.submit(session, settings, actor=editor, post=post)
        workflow.approve(session, settings, actor=mayor, post=post)
        _as_if_sent(session, post, outcomes, at=clock.now() - timedelta(days=2))


def _as_if_sent(
    session: Session, post: Post, outcomes: list[PublicationStatus], *, at: datetime
) -> None:
    post.scheduled_at = at
    pubs = session.exec(
        select(Publication).where(Publication.post_id == post.id).order_by(col(Publication.id))
    ).all()
    for pub, outcome in zip(pubs, outcomes, strict=True):
        pub.status = outcome
        pub.due_at = at
        pub.attempts = 1
        if outcome == PublicationStatus.published:
            pub.published_at = at
            pub.remote_id = f"demo-{post.id}-{pub.account_id}"
        else:
            pub.error = "Le réseau a refusé le jeton d'accès : reconnectez le compte."
            pub.error_code = "auth_expired"
        session.add(pub)
    done = {PublicationStatus(o) for o in outcomes}
    if done == {PublicationStatus.published}:
        post.status = PostStatus.published
    elif PublicationStatus.published in done:
        post.status = PostStatus.partially_published
    else:
        post.status = PostStatus.failed
    session.add(post)
    session.flush()
