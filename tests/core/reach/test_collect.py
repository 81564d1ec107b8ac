"""Metric and follower collection through the schedule, on a frozen clock, against the sandboxes
over real HTTP (the real client libraries)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import clock, crypto
from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.config import Settings
from core.posts.models import Publication
from core.publishing.engine import pause_account
from core.publishing.models import AccountPause
from core.reach import collect
from core.reach.models import AccountSnapshot, LatestSnapshot, MetricSnapshot
from networks import registry
from networks.base import Post
from networks.sandbox.provision import provision
from tests.conftest import SandboxServer, make_settings
from tests.factories import make_account, make_authority, make_published

T0 = datetime.now(UTC).replace(microsecond=0)


def sandbox_account(
    session: Session, settings: Settings, authority: Authority, network: Network
) -> Account:
    grant = provision(settings, network, name=f"Ville {network.value}")
    return make_account(
        session,
        authority,
        network=network,
        sandbox=True,
        remote_id=grant.remote_id,
        handle=grant.handle,
        instance_url=grant.instance_url,
        credentials_encrypted=crypto.encrypt(settings, grant.credentials),
        token_expires_at=grant.expires_at,
    )


def publish(settings: Settings, account: Account, text: str) -> str:
    adapter = registry.adapter_for(account, settings)
    return adapter.publish(Post(text=text), idempotency_key=f"reach-{account.id}").remote_id


def snapshots(session: Session, publication_id: int) -> list[MetricSnapshot]:
    session.rollback()
    stmt = (
        select(MetricSnapshot)
        .where(MetricSnapshot.publication_id == publication_id)
        .order_by(MetricSnapshot.step)  # type: ignore[arg-type]
    )
    return list(session.exec(stmt))


def publications_of(session: Session, post_id: int | None) -> dict[int, Publication]:
    rows = session.exec(select(Publication).where(Publication.post_id == post_id))
    return {row.account_id: row for row in rows}


def test_due_step_follows_the_decaying_schedule() -> None:
    assert collect.due_step(T0, T0 + timedelta(minutes=59)) is None
    assert collect.due_step(T0, T0 + timedelta(hours=1)) == 0
    assert collect.due_step(T0, T0 + timedelta(hours=23)) == 1
    assert collect.due_step(T0, T0 + timedelta(days=2)) == 2
    assert collect.due_step(T0, T0 + timedelta(days=6)) == 3
    assert collect.due_step(T0, T0 + timedelta(days=29)) == 4
    assert collect.due_step(T0, T0 + timedelta(days=31)) == 5


def test_metrics_are_collected_on_the_schedule_and_grow(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    with clock.frozen(T0) as move_to:
        authority = make_authority(session)
        mastodon = sandbox_account(session, settings, authority, Network.mastodon)
        linkedin = sandbox_account(session, settings, authority, Network.linkedin)
        remote = [
            publish(settings, a, "Le marché de Noël ouvre samedi.") for a in (mastodon, linkedin)
        ]
        post = make_published(
            session, authority, targets=[mastodon, linkedin], at=T0, remote_ids=remote
        )
        pubs = publications_of(session, post.id)
        m_id, l_id = pubs[mastodon.id].id, pubs[linkedin.id].id  # type: ignore[index]
        assert m_id is not None
        assert l_id is not None

        move_to(T0 + timedelta(minutes=30))
        assert collect.collect_metrics(db, settings).collected == 0

        move_to(T0 + timedelta(hours=1))
        assert collect.collect_metrics(db, settings).collected == 2
        # The same step again (a second worker, the next tick): nothing new.
        move_to(T0 + timedelta(hours=1, minutes=5))
        assert collect.collect_metrics(db, settings).collected == 0

        move_to(T0 + timedelta(hours=6))
        assert collect.collect_metrics(db, settings).collected == 2
        # A worker stopped for days: the latest step due is read once (7 days), not 24 h and 3 d.
        move_to(T0 + timedelta(days=10))
        assert collect.collect_metrics(db, settings).collected == 2
        move_to(T0 + timedelta(days=30, hours=2))
        assert collect.collect_metrics(db, settings).collected == 2
        move_to(T0 + timedelta(days=45))
        assert collect.collect_metrics(db, settings).collected == 0

    on_linkedin = snapshots(session, l_id)
    assert [s.step for s in on_linkedin] == [0, 1, 4, 5]
    impressions = [s.impressions or 0 for s in on_linkedin]
    assert impressions == sorted(impressions)
    assert len(set(impressions)) == 4
    assert impressions[0] > 0
    assert next(s.collected_at for s in on_linkedin) == T0 + timedelta(hours=1)

    on_mastodon = snapshots(session, m_id)
    assert [s.step for s in on_mastodon] == [0, 1, 4, 5]
    # Mastodon gives no impressions: kept as unknown, never as zero.
    assert all(s.impressions is None for s in on_mastodon)
    likes = [s.likes or 0 for s in on_mastodon]
    assert likes == sorted(likes)
    assert likes[-1] > likes[0]


def test_one_account_failing_or_rate_limited_does_not_stop_the_others(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    sandbox = sandbox_server.sandbox
    with clock.frozen(T0) as move_to:
        authority = make_authority(session)
        limited = sandbox_account(session, settings, authority, Network.mastodon)
        revoked = sandbox_account(session, settings, authority, Network.mastodon)
        healthy = sandbox_account(session, settings, make_authority(session), Network.mastodon)
        not_connected = make_account(session, authority, network=Network.mastodon)
        for account in (limited, revoked, healthy):
            make_published(
                session,
                session.get(Authority, account.authority_id),  # type: ignore[arg-type]
                targets=[account],
                at=T0,
                remote_ids=[publish(settings, account, f"Conseil municipal {account.id}")],
            )
        make_published(session, authority, targets=[not_connected], at=T0)
        # Deleted on the network since: an empty snapshot, so that it is not asked again.
        gone = make_published(
            session,
            session.get(Authority, healthy.authority_id),  # type: ignore[arg-type]
            targets=[healthy],
            at=T0,
            remote_ids=["109999999999999999"],
        )
        sandbox.set_knobs("mastodon", limited.remote_id, rate_limited=10, rate_limit_reset=3600)
        sandbox.revoke("mastodon", revoked.remote_id)

        move_to(T0 + timedelta(hours=1))
        outcome = collect.collect_metrics(db, settings)
        assert outcome.collected == 2
        assert outcome.failed == 1
        assert outcome.skipped_accounts == {limited.id, revoked.id}
        session.rollback()
        # The same pause as the publishing engine's: no publication goes there either.
        pause = session.get(AccountPause, limited.id)
        assert pause is not None
        assert T0 + timedelta(hours=1) < pause.until_at <= T0 + timedelta(hours=2, minutes=1)

        # Paused: no request reaches the network before the reset.
        received = len(sandbox.account("mastodon", limited.remote_id).received)
        move_to(T0 + timedelta(hours=1, minutes=30))
        sandbox.set_knobs("mastodon", limited.remote_id, rate_limited=0)
        assert limited.id not in {
            d.account_id for d in collect.due_metrics(session, now=clock.now())
        }
        collect.collect_metrics(db, settings)
        assert len(sandbox.account("mastodon", limited.remote_id).received) == received

        move_to(T0 + timedelta(hours=2, minutes=5))
        assert collect.collect_metrics(db, settings).collected == 1  # the limited one, at last
    session.rollback()
    counted = session.exec(select(MetricSnapshot)).all()
    assert len(counted) == 3
    [empty] = [
        s for s in counted if s.publication_id == publications_of(session, gone.id)[healthy.id].id
    ]
    assert (empty.impressions, empty.likes, empty.reposts) == (None, None, None)


def test_a_pause_met_by_another_worker_stops_the_collection_between_two_readings(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    sandbox = sandbox_server.sandbox
    authority = make_authority(session)
    account = sandbox_account(session, settings, authority, Network.mastodon)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1, minutes=5)
    for n in range(3):
        make_published(
            session,
            authority,
            targets=[account],
            at=an_hour_ago,
            remote_ids=[publish(settings, account, f"Marché de Noël, épisode {n}")],
        )
    assert account.id is not None
    before = len(sandbox.account("mastodon", account.remote_id).received)
    # Each reading takes 0.6 s; the publishing engine meets a 429 on the account during the
    # first one (another worker, recorded in the shared pause).
    sandbox.set_knobs("mastodon", account.remote_id, latency=0.6)
    outcome: list[collect.Outcome] = []
    collecting = threading.Thread(
        target=lambda: outcome.append(collect.collect_metrics(db, settings))
    )
    collecting.start()
    time.sleep(0.3)
    with Session(db) as other:
        pause_account(
            other,
            account_id=account.id,
            until=datetime.now(UTC) + timedelta(minutes=15),
            reason="429 reçu par un autre worker",
        )
        other.commit()
    collecting.join(30)

    # At most the reading already on its way reached the account; the others wait the reset.
    assert len(sandbox.account("mastodon", account.remote_id).received) - before <= 1
    assert outcome[0].skipped_accounts == {account.id}
    assert outcome[0].collected <= 1


def test_followers_are_read_once_a_day_per_account(
    db: Engine, session: Session, database_url: str, sandbox_server: SandboxServer
) -> None:
    settings = make_settings(database_url, sandbox_url=sandbox_server.url)
    day = T0.replace(hour=8, minute=0, second=0)
    with clock.frozen(day) as move_to:
        authority = make_authority(session)
        mastodon = sandbox_account(session, settings, authority, Network.mastodon)
        linkedin = sandbox_account(session, settings, authority, Network.linkedin)
        make_account(session, authority, network=Network.manual, name="PanneauPocket")
        assert collect.collect_followers(db, settings).collected == 2
        move_to(day + timedelta(hours=5))
        assert collect.collect_followers(db, settings).collected == 0
        move_to(day + timedelta(days=3))
        assert collect.collect_followers(db, settings).collected == 2
    session.rollback()
    rows = session.exec(
        select(AccountSnapshot)
        .where(AccountSnapshot.account_id == linkedin.id)
        .order_by(AccountSnapshot.day)  # type: ignore[arg-type]
    ).all()
    assert [r.day for r in rows] == [day.date(), (day + timedelta(days=3)).date()]
    # The sandbox's audience grows by about four followers a day.
    assert rows[1].followers - rows[0].followers == 12
    assert mastodon.id is not None


def test_the_latest_snapshot_is_the_highest_step_whatever_the_order(
    db: Engine, session: Session
) -> None:
    authority = make_authority(session)
    account = make_account(session, authority)
    post = make_published(session, authority, targets=[account], at=T0)
    publication = publications_of(session, post.id)[account.id]

    def values(step: int, likes: int) -> dict[str, object]:
        return {
            "authority_id": authority.id,
            "publication_id": publication.id,
            "step": step,
            "collected_at": T0 + collect.SCHEDULE[step],
            "likes": likes,
        }

    # Two workers: the 24 h step lands before the 6 h one; the same step twice is kept once.
    assert collect.record(session, values(2, 30))
    assert collect.record(session, values(1, 10))
    assert not collect.record(session, values(2, 99))
    session.commit()
    latest = session.get(LatestSnapshot, publication.id)
    assert latest is not None
    assert (latest.step, latest.likes) == (2, 30)
    assert [s.likes for s in snapshots(session, publication.id or 0)] == [10, 30]
