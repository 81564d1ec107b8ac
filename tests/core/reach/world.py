"""A month of an authority's publications with known figures, shared by the reach tests. The
expected aggregates are computed by hand in the tests that use it (and in docs/portee.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.editorial.models import Audience, Campaign, KpiMetric, KpiPeriod, Objective, Pillar
from core.posts.models import Post, Publication
from tests.factories import (
    make_account,
    make_authority,
    make_followers,
    make_pillar,
    make_published,
    make_snapshot,
)


@dataclass
class World:
    authority: Authority
    x: Account
    mastodon: Account
    linkedin: Account
    bluesky: Account
    works: Pillar
    culture: Pillar
    objective: Objective
    audience: Audience
    campaign: Campaign
    p1: Post
    p2: Post
    p3: Post


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def publication(session: Session, post: Post, account: Account) -> Publication:
    found = session.exec(
        select(Publication).where(
            Publication.post_id == post.id, Publication.account_id == account.id
        )
    ).one()
    return found


def build(session: Session, **authority: str) -> World:
    town = make_authority(session, timezone="Europe/Paris", **authority)
    x = make_account(session, town, network=Network.x, name="Ville sur X")
    mastodon = make_account(session, town, network=Network.mastodon, name="Ville sur Mastodon")
    linkedin = make_account(session, town, network=Network.linkedin, name="Ville sur LinkedIn")
    bluesky = make_account(session, town, network=Network.bluesky, name="Ville sur Bluesky")
    works = make_pillar(session, town, name="Travaux", target_share=40, color="#e76f51")
    culture = make_pillar(session, town, name="Culture", target_share=60, color="#2a9d8f")
    objective = Objective(
        authority_id=town.id,  # type: ignore[arg-type]
        name="Faire connaître les démarches en ligne",
        kpi_metric=KpiMetric.clicks,
        kpi_target=300,
        kpi_period=KpiPeriod.month,
    )
    audience = Audience(authority_id=town.id, name="Familles")  # type: ignore[arg-type]
    session.add_all([objective, audience])
    session.commit()
    campaign = Campaign(
        authority_id=town.id,  # type: ignore[arg-type]
        name="Rentrée culturelle",
        objective_id=objective.id,
        starts_on=date(2026, 11, 1),
        ends_on=date(2026, 11, 30),
    )
    session.add(campaign)
    session.commit()

    p1 = make_published(
        session,
        town,
        targets=[x, mastodon],
        at=at(2026, 11, 3, 10),
        pillar_id=works.id,
        objectives=[objective],
        audiences=[audience],
        text="Travaux rue de la Mairie : la circulation est alternée jusqu'au 15 novembre.",
    )
    make_snapshot(
        session,
        publication(session, p1, x),
        step=0,
        impressions=100,
        likes=5,
        reposts=1,
        replies=0,
        clicks=2,
    )
    make_snapshot(
        session,
        publication(session, p1, x),
        step=1,
        impressions=400,
        likes=20,
        reposts=4,
        replies=2,
        clicks=10,
    )
    make_snapshot(
        session,
        publication(session, p1, mastodon),
        step=0,
        impressions=None,
        likes=3,
        reposts=1,
        replies=1,
        clicks=None,
    )
    p2 = make_published(
        session,
        town,
        targets=[linkedin, bluesky],
        at=at(2026, 11, 10, 17),
        pillar_id=culture.id,
        campaign_id=campaign.id,
        text="Le festival des lumières illumine la place du Beffroi samedi soir.",
    )
    make_snapshot(
        session,
        publication(session, p2, linkedin),
        step=2,
        impressions=1000,
        likes=30,
        reposts=5,
        replies=5,
        clicks=40,
    )
    make_snapshot(
        session,
        publication(session, p2, bluesky),
        step=2,
        impressions=None,
        likes=8,
        reposts=2,
        replies=0,
        clicks=None,
    )
    # Published, not read yet: counted as a publication, adds no figure.
    p3 = make_published(
        session,
        town,
        targets=[x],
        at=at(2026, 11, 20, 8),
        pillar_id=culture.id,
        text="Exposition de photographies à la médiathèque.",
    )
    # 31 October 23:30 in Paris, and 1 December 00:30 in Paris: outside November.
    make_published(session, town, targets=[x], at=at(2026, 10, 31, 22, 30), pillar_id=works.id)
    make_published(session, town, targets=[x], at=at(2026, 11, 30, 23, 30), pillar_id=works.id)
    # The same month a year before.
    make_published(session, town, targets=[x], at=at(2025, 11, 12, 9), pillar_id=works.id)

    for day, count in (
        (date(2026, 10, 31), 990),
        (date(2026, 11, 1), 1000),
        (date(2026, 11, 15), 1040),
        (date(2026, 11, 30), 1100),
    ):
        make_followers(session, x, day, count)
    make_followers(session, mastodon, date(2026, 11, 2), 300)
    make_followers(session, mastodon, date(2026, 11, 29), 320)
    return World(
        town,
        x,
        mastodon,
        linkedin,
        bluesky,
        works,
        culture,
        objective,
        audience,
        campaign,
        p1,
        p2,
        p3,
    )
