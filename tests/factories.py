"""Plain functions that build test data; each takes overrides for what a test cares about."""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from PIL import Image
from sqlmodel import Session, select

from core import security
from core.accounts.models import Account, AccountHealth, Network
from core.authorities.models import Authority, Membership, Role
from core.calendar.models import PostingSlot
from core.config import Settings
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
from core.media import service as media_service
from core.media.models import MediaAsset
from core.posts import publications
from core.posts.models import (
    Post,
    PostAudience,
    PostObjective,
    PostStatus,
    Publication,
    PublicationStatus,
)
from core.reach import collect
from core.reach.models import AccountSnapshot, MetricSnapshot
from core.users import service as users
from core.users.models import TokenKind, User

PASSWORD = "mot-de-passe-de-test"
_counter = itertools.count(1)


@cache
def _password_hash() -> str:
    # Argon2 is slow on purpose; hashing once keeps the suite fast.
    return security.hash_password(PASSWORD)


def make_authority(session: Session, **overrides: Any) -> Authority:
    n = next(_counter)
    values: dict[str, Any] = {"name": f"Commune {n}", "slug": f"commune-{n}"}
    values.update(overrides)
    authority = Authority(**values)
    session.add(authority)
    session.commit()
    return authority


def make_user(session: Session, **overrides: Any) -> User:
    n = next(_counter)
    values: dict[str, Any] = {
        "email": f"personne{n}@mairie.example.org",
        "name": f"Personne {n}",
        "password_hash": _password_hash(),
    }
    values.update(overrides)
    user = User(**values)
    session.add(user)
    session.commit()
    return user


def make_member(
    session: Session, authority: Authority, *roles: Role, **user_overrides: Any
) -> User:
    user = make_user(session, **user_overrides)
    session.add(
        Membership(
            authority_id=authority.id,  # type: ignore[arg-type]
            user_id=user.id,  # type: ignore[arg-type]
            roles=[role.value for role in roles or (Role.editor,)],
        )
    )
    session.commit()
    return user


def bearer(session: Session, user: User) -> dict[str, str]:
    raw, _ = users.issue_token(session, user=user, kind=TokenKind.api, ttl=timedelta(days=1))
    session.commit()
    return {"Authorization": f"Bearer {raw}"}


def make_media(
    session: Session,
    settings: Settings,
    authority: Authority,
    *,
    by: User | None = None,
    image: Image.Image | None = None,
    alt_text: str = "Le parvis de la mairie sous le soleil.",
) -> MediaAsset:
    """A media of `authority`, through the real pipeline (files under settings.data_dir)."""
    picture = image or Image.new("RGB", (96, 64), (29, 78, 137))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    buffer.seek(0)
    done = media_service.upload(
        session,
        settings,
        authority=authority,
        by=by,
        source=buffer,
        filename="image.png",
        alt_text=alt_text,
    )
    session.commit()
    return done.media


def make_account(session: Session, authority: Authority, **overrides: Any) -> Account:
    """An account row (no credentials: enough for listing, isolation, manual channels)."""
    n = next(_counter)
    values: dict[str, Any] = {
        "authority_id": authority.id,
        "network": Network.mastodon,
        "name": f"Compte {n}",
        "handle": f"compte{n}",
        "remote_id": str(n),
        "health": AccountHealth.unknown,
    }
    values.update(overrides)
    account = Account(**values)
    session.add(account)
    session.commit()
    return account


def make_pillar(session: Session, authority: Authority, **overrides: Any) -> Pillar:
    n = next(_counter)
    values: dict[str, Any] = {
        "authority_id": authority.id,
        "name": f"Thématique {n}",
        "color": "#2a9d8f",
        "target_share": 10,
    }
    values.update(overrides)
    pillar = Pillar(**values)
    session.add(pillar)
    session.commit()
    return pillar


def make_election(session: Session, authority: Authority, **overrides: Any) -> Election:
    values: dict[str, Any] = {
        "authority_id": authority.id,
        "kind": ElectionKind.municipales,
        "territory": authority.name,
        "first_round": date(2026, 3, 15),
        "second_round": date(2026, 3, 22),
    }
    values.update(overrides)
    election = Election(**values)
    session.add(election)
    session.commit()
    return election


def make_post(
    session: Session,
    authority: Authority,
    *,
    targets: Sequence[Account] = (),
    status: PostStatus = PostStatus.draft,
    scheduled_at: datetime | None = None,
    author: User | None = None,
    **overrides: Any,
) -> Post:
    """A post row with one publication per target; an approved post with a time has its
    publications scheduled, as the workflow leaves them."""
    n = next(_counter)
    values: dict[str, Any] = {
        "authority_id": authority.id,
        "author_id": author.id if author else None,
        "text": f"Publication de test numéro {n}.",
        "status": status,
        "scheduled_at": scheduled_at,
    }
    values.update(overrides)
    post = Post(**values)
    session.add(post)
    session.flush()
    for account in targets:
        session.add(
            Publication(
                authority_id=authority.id,  # type: ignore[arg-type]
                post_id=post.id,  # type: ignore[arg-type]
                account_id=account.id,  # type: ignore[arg-type]
            )
        )
    session.flush()
    if status == PostStatus.approved:
        publications.schedule(session, post)
    session.commit()
    return post


def make_editorial(
    session: Session,
    authority: Authority,
    *,
    targets: Sequence[Account] = (),
    author: User | None = None,
) -> dict[str, int]:
    """One of each piece of the editorial line, and a draft post using them; returns their ids
    by path parameter name."""
    objective = Objective(
        authority_id=authority.id,  # type: ignore[arg-type]
        name="Faire connaître les démarches en ligne",
        kpi_metric=KpiMetric.clicks,
        kpi_target=2000,
        kpi_period=KpiPeriod.quarter,
    )
    audience = Audience(authority_id=authority.id, name="Familles")  # type: ignore[arg-type]
    session.add_all([objective, audience])
    session.flush()
    campaign = Campaign(
        authority_id=authority.id,  # type: ignore[arg-type]
        name="Rentrée",
        objective_id=objective.id,
        starts_on=date(2026, 9, 1),
        ends_on=date(2026, 9, 30),
    )
    session.add(campaign)
    session.commit()
    pillar = make_pillar(session, authority)
    election = make_election(session, authority)
    post = make_post(session, authority, targets=targets, author=author, pillar_id=pillar.id)
    publication_ids = [p.id for p in publications.of_post(session, post)]
    return {
        "publication_id": publication_ids[0] if publication_ids else 0,
        "objective_id": objective.id,  # type: ignore[dict-item]
        "audience_id": audience.id,  # type: ignore[dict-item]
        "campaign_id": campaign.id,  # type: ignore[dict-item]
        "pillar_id": pillar.id,  # type: ignore[dict-item]
        "election_id": election.id,  # type: ignore[dict-item]
        "post_id": post.id,  # type: ignore[dict-item]
    }


def make_slot(session: Session, account: Account, **overrides: Any) -> PostingSlot:
    values: dict[str, Any] = {
        "authority_id": account.authority_id,
        "account_id": account.id,
        "weekday": 1,
        "local_time": time(12, 15),
    }
    values.update(overrides)
    slot = PostingSlot(**values)
    session.add(slot)
    session.commit()
    return slot


def make_published(
    session: Session,
    authority: Authority,
    *,
    targets: Sequence[Account],
    at: datetime,
    remote_ids: Sequence[str] | None = None,
    objectives: Sequence[Objective] = (),
    audiences: Sequence[Audience] = (),
    **overrides: Any,
) -> Post:
    """A published post (issue 9, reach): one published publication per target with its
    `remote_id` (made up unless given), linked to `objectives` and `audiences`."""
    post = make_post(session, authority, status=PostStatus.published, scheduled_at=at, **overrides)
    for index, account in enumerate(targets):
        remote_id = remote_ids[index] if remote_ids else f"remote-{next(_counter)}"
        session.add(
            Publication(
                authority_id=authority.id,  # type: ignore[arg-type]
                post_id=post.id,  # type: ignore[arg-type]
                account_id=account.id,  # type: ignore[arg-type]
                status=PublicationStatus.published,
                due_at=at,
                published_at=at,
                remote_id=remote_id,
            )
        )
    for objective in objectives:
        session.add(PostObjective(post_id=post.id, objective_id=objective.id))  # type: ignore[arg-type]
    for audience in audiences:
        session.add(PostAudience(post_id=post.id, audience_id=audience.id))  # type: ignore[arg-type]
    session.commit()
    return post


def make_snapshot(
    session: Session, publication: Publication, *, step: int = 0, **figures: Any
) -> MetricSnapshot:
    """A metric snapshot of `publication`, recorded as the collection does (with its latest)."""
    values: dict[str, Any] = {
        "authority_id": publication.authority_id,
        "publication_id": publication.id,
        "step": step,
        "collected_at": (publication.published_at or datetime.now(UTC)) + timedelta(hours=1),
        **dict.fromkeys(("impressions", "likes", "reposts", "replies", "clicks")),
    }
    values.update(figures)
    assert collect.record(session, values)
    session.commit()
    return session.exec(
        select(MetricSnapshot).where(
            MetricSnapshot.publication_id == publication.id, MetricSnapshot.step == step
        )
    ).one()


def make_followers(
    session: Session, account: Account, day: date, followers: int
) -> AccountSnapshot:
    snapshot = AccountSnapshot(
        authority_id=account.authority_id,
        account_id=account.id,  # type: ignore[arg-type]
        day=day,
        followers=followers,
        collected_at=datetime.combine(day, time(12), tzinfo=UTC),
    )
    session.add(snapshot)
    session.commit()
    return snapshot


def connect_sandbox_account(
    session: Session,
    settings: Settings,
    authority: Authority,
    *,
    network: Network,
    **overrides: Any,
) -> Account:
    """An account connected to the networks' sandbox (credentials encrypted as the API stores
    them): the engine publishes to it over real HTTP."""
    from core import crypto
    from networks.sandbox.provision import provision

    n = next(_counter)
    grant = provision(settings, network, name=f"Compte bac à sable {n}")
    values: dict[str, Any] = {
        "authority_id": authority.id,
        "network": network,
        "name": f"Compte bac à sable {n}",
        "handle": grant.handle,
        "remote_id": grant.remote_id,
        "instance_url": grant.instance_url,
        "sandbox": True,
        "credentials_encrypted": crypto.encrypt(settings, grant.credentials),
        "token_expires_at": grant.expires_at,
        "health": AccountHealth.ok,
    }
    values.update(overrides)
    account = Account(**values)
    session.add(account)
    session.commit()
    return account
