"""Reach figures for the demo authority (`beffroi demo`): three months of follower counts per
account and the snapshots its published posts would have had, so that the reach page and the
monthly report show something before any real collection. Idempotent: nothing is added twice."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.posts.models import Publication, PublicationStatus
from core.reach import collect
from core.reach.models import AccountSnapshot, LatestSnapshot
from core.reach.report import WITHOUT_CLICKS, WITHOUT_IMPRESSIONS
from core.tenancy import for_authority

DAYS = 90


def _seed(value: str) -> int:
    return int(hashlib.sha256(value.encode()).hexdigest()[:6], 16)


def seed(session: Session, *, authority: Authority) -> None:
    assert authority.id is not None
    now = clock.now()
    accounts = session.exec(
        for_authority(select(Account), authority.id).where(col(Account.network) != Network.manual)
    ).all()
    for account in accounts:
        assert account.id is not None
        known = session.exec(
            select(AccountSnapshot.id).where(AccountSnapshot.account_id == account.id)
        ).first()
        if known is not None:
            continue
        base = 300 + _seed(account.name) % 2000
        for offset in range(DAYS, 0, -1):
            day = (now - timedelta(days=offset)).date()
            session.add(
                AccountSnapshot(
                    authority_id=authority.id,
                    account_id=account.id,
                    day=day,
                    followers=base + 3 * (DAYS - offset) + (offset * 7) % 5,
                    collected_at=now - timedelta(days=offset),
                )
            )
    networks = {a.id: Network(a.network) for a in accounts}
    published = session.exec(
        for_authority(select(Publication), authority.id)
        .outerjoin(LatestSnapshot, col(LatestSnapshot.publication_id) == col(Publication.id))
        .where(
            col(Publication.status) == PublicationStatus.published,
            col(LatestSnapshot.publication_id).is_(None),
        )
    ).all()
    for publication in published:
        network = networks.get(publication.account_id)
        if network is None or publication.published_at is None:
            continue
        step = collect.due_step(publication.published_at, now)
        if step is None:
            continue
        seen = (200 + _seed(f"{publication.id}") % 800) * (step + 1)
        collect.record(
            session,
            {
                "authority_id": authority.id,
                "publication_id": publication.id,
                "step": step,
                "collected_at": publication.published_at + collect.SCHEDULE[step],
                "impressions": None if network in WITHOUT_IMPRESSIONS else seen,
                "likes": seen // 18,
                "reposts": seen // 70,
                "replies": seen // 110,
                "clicks": None if network in WITHOUT_CLICKS else seen // 25,
            },
        )
    session.flush()
