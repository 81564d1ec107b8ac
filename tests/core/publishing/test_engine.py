"""One publication through the engine, against the sandboxes over real HTTP, on both databases:
published once, retried, parked, failed with a reason, reconciled after an unknown outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import clock
from core.accounts.models import Account, AccountHealth, Network
from core.authorities.models import Role
from core.config import Settings
from core.mail.models import OutboundEmail
from core.posts import publications
from core.posts.models import Post, PostStatus, Publication, PublicationStatus
from core.publishing import claim as claims
from core.publishing import engine as publishing
from core.publishing.models import AccountPause, AttemptOutcome, PublicationAttempt
from networks import registry
from tests.conftest import SandboxServer, eventually, reload
from tests.core.publishing.conftest import received_texts
from tests.factories import make_authority, make_election, make_member, make_pillar, make_post

WORKER = "test-worker:1"
LEASE = timedelta(seconds=30)


def due_post(session: Session, authority: object, targets: list[Account], **kw: object) -> Post:
    return make_post(
        session,
        authority,  # type: ignore[arg-type]
        targets=targets,
        status=PostStatus.approved,
        scheduled_at=clock.now() - timedelta(seconds=1),
        **kw,
    )


def run_once(db: Engine, settings: Settings) -> list[publishing.Result]:
    ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=50)
    return [publishing.publish(db, settings, publication_id=i, worker=WORKER) for i in ids]


def only_publication(session: Session, post: Post) -> Publication:
    session.rollback()
    session.expire_all()
    (publication,) = publications.of_post(session, post)
    return publication


def attempts_of(session: Session, publication: Publication) -> list[PublicationAttempt]:
    return list(
        session.exec(
            select(PublicationAttempt)
            .where(PublicationAttempt.publication_id == publication.id)
            .order_by(PublicationAttempt.number)  # type: ignore[arg-type]
        )
    )


def make_due_again(session: Session, publication: Publication) -> None:
    session.execute(
        sa.update(Publication)
        .where(Publication.id == publication.id)  # type: ignore[arg-type]
        .values(due_at=clock.now() - timedelta(seconds=1))
    )
    session.commit()


def test_a_due_publication_goes_out_once_with_its_link(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon)
    post = due_post(session, authority, [account], text="Le marché de Noël ouvre samedi.")

    assert run_once(db, pub_settings) == [publishing.Result.published]
    assert run_once(db, pub_settings) == []

    assert received_texts(sandbox_server, account) == ["Le marché de Noël ouvre samedi."]
    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.published
    remote = sandbox_server.sandbox.posts("mastodon", account.remote_id)[0]
    assert publication.remote_id == remote.id
    assert publication.remote_url
    assert remote.id in publication.remote_url
    assert publication.claimed_by is None
    assert publication.lease_until is None
    (attempt,) = attempts_of(session, publication)
    assert attempt.outcome == AttemptOutcome.published
    assert attempt.idempotency_key == publishing.idempotency_key(publication)
    assert remote.idempotency_key == attempt.idempotency_key
    reload(session, post)
    assert post.status == PostStatus.published


def test_an_error_after_the_network_stored_the_post_is_reconciled_not_resent(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    for network in (Network.mastodon, Network.bluesky, Network.x):
        account = sandbox_account(authority, network, fail_after_commit=1)
        post = due_post(session, authority, [account], text=f"Travaux rue {network.value}.")
        assert run_once(db, pub_settings) == [publishing.Result.retry]
        publication = only_publication(session, post)
        assert publication.status == PublicationStatus.scheduled
        assert attempts_of(session, publication)[-1].outcome == AttemptOutcome.unknown
        make_due_again(session, publication)

        assert run_once(db, pub_settings) == [publishing.Result.published]

        assert received_texts(sandbox_server, account) == [f"Travaux rue {network.value}."]
        publication = only_publication(session, post)
        assert publication.status == PublicationStatus.published
        assert (
            publication.remote_id
            == sandbox_server.sandbox.posts(network.value, account.remote_id)[0].id
        )
        assert [a.outcome for a in attempts_of(session, publication)] == [AttemptOutcome.found]


def test_a_worker_that_died_mid_call_is_taken_over_without_a_second_post(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.facebook)
    post = due_post(session, authority, [account], text="Collecte des sapins lundi.")
    (claimed,) = claims.claim(db, worker="dead:1", lease=LEASE, limit=5)
    publication = only_publication(session, post)
    key = publishing.idempotency_key(publication)
    # The dead worker committed its attempt, sent the post, and died before recording the result.
    session.add(
        PublicationAttempt(
            authority_id=authority.id,  # type: ignore[arg-type]
            publication_id=claimed,
            number=1,
            idempotency_key=key,
            worker="dead:1",
        )
    )
    session.commit()
    adapter = registry.adapter_for(account, pub_settings)
    adapter.publish(publishing.OutgoingPost(text="Collecte des sapins lundi."), idempotency_key=key)

    assert claims.recover_leases(db) == 0  # its lease still runs
    assert claims.recover_leases(db, now=clock.now() + LEASE + timedelta(seconds=1)) == 1
    assert run_once(db, pub_settings) == [publishing.Result.published]

    assert received_texts(sandbox_server, account) == ["Collecte des sapins lundi."]
    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.published
    assert [a.outcome for a in attempts_of(session, publication)] == [AttemptOutcome.found]


def test_a_worker_that_died_before_sending_lets_the_next_one_send(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.linkedin)
    post = due_post(session, authority, [account], text="Conseil municipal jeudi à 19 h.")
    (claimed,) = claims.claim(db, worker="dead:2", lease=LEASE, limit=5)
    publication = only_publication(session, post)
    session.add(
        PublicationAttempt(
            authority_id=authority.id,  # type: ignore[arg-type]
            publication_id=claimed,
            number=1,
            idempotency_key=publishing.idempotency_key(publication),
            worker="dead:2",
        )
    )
    session.commit()
    claims.recover_leases(db, now=clock.now() + LEASE + timedelta(seconds=1))

    assert run_once(db, pub_settings) == [publishing.Result.published]

    assert received_texts(sandbox_server, account) == ["Conseil municipal jeudi à 19 h."]
    outcomes = [a.outcome for a in attempts_of(session, only_publication(session, post))]
    assert outcomes == [AttemptOutcome.absent, AttemptOutcome.published]


def test_a_transient_error_is_retried_with_backoff_then_published(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    pub_settings = pub_settings.model_copy(update={"publish_backoff_base_seconds": 60.0})
    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon, fail_next=[503])
    post = due_post(session, authority, [account], text="Piscine fermée dimanche.")

    before = clock.now()
    assert run_once(db, pub_settings) == [publishing.Result.retry]
    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.scheduled
    assert publication.due_at is not None
    assert publication.due_at > before
    assert run_once(db, pub_settings) == []  # not before its backoff
    make_due_again(session, publication)
    assert run_once(db, pub_settings) == [publishing.Result.published]

    assert received_texts(sandbox_server, account) == ["Piscine fermée dimanche."]
    publication = only_publication(session, post)
    assert publication.attempts == 2
    outcomes = [a.outcome for a in attempts_of(session, publication)]
    # A 5xx may come after the network acted: the account is read back before sending again.
    assert outcomes == [AttemptOutcome.absent, AttemptOutcome.published]


def test_a_network_that_stays_down_fails_once_its_outcome_cannot_be_checked(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    settings = pub_settings.model_copy(update={"publish_max_attempts": 2})
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    account = sandbox_account(authority, Network.mastodon, error_rate=1.0)
    post = due_post(session, authority, [account])

    results = []
    for _ in range(8):
        results += run_once(db, settings)
        if results[-1] != publishing.Result.retry:
            break
        make_due_again(session, only_publication(session, post))

    # Sent once; the answer was a 5xx, so the account is read back before any second send, and
    # when it cannot be read the person is told to look.
    assert results == [publishing.Result.retry] * 2 + [publishing.Result.failed]
    sends = [
        r
        for r in sandbox_server.sandbox.received("mastodon", account.remote_id)
        if r.method == "POST" and r.path.endswith("/statuses")
    ]
    assert len(sends) == 1
    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.failed
    assert publication.error_code == "outcome_unknown"
    assert publication.error
    assert "Regardez sur le compte si elle est en ligne" in publication.error
    reload(session, post)
    assert post.status == PostStatus.failed
    (email,) = session.exec(select(OutboundEmail)).all()
    assert email.to_address == editor.email
    assert email.template == "publication_failed"
    assert email.context["reason"] == publication.error


def test_a_rate_limit_parks_every_publication_of_the_account_until_its_reset(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    limited = sandbox_account(authority, Network.x, rate_limited=1, rate_limit_reset=120)
    other = sandbox_account(authority, Network.x)
    first = due_post(session, authority, [limited])
    second = due_post(session, authority, [limited])

    results = run_once(db, pub_settings)
    assert sorted(results) == sorted([publishing.Result.parked])
    pause = session.get(AccountPause, limited.id)
    assert pause is not None
    assert pause.until_at > clock.now() + timedelta(seconds=100)
    sent_before = len(sandbox_server.sandbox.received("x", limited.remote_id))

    due_post(session, authority, [other], text="Une autre commune publie toujours.")
    assert run_once(db, pub_settings) == [publishing.Result.published]  # only the other account
    assert len(sandbox_server.sandbox.received("x", limited.remote_id)) == sent_before
    for post in (first, second):
        assert only_publication(session, post).status == PublicationStatus.scheduled

    # After the reset, both go out, one after the other.
    later = clock.now() + timedelta(seconds=121)
    with clock.frozen(later):
        ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=10)
        assert len(ids) == 1  # one publication in flight per account
        assert publishing.publish(db, pub_settings, publication_id=ids[0], worker=WORKER) == (
            publishing.Result.published
        )
        (last,) = claims.claim(db, worker=WORKER, lease=LEASE, limit=10)
        publishing.publish(db, pub_settings, publication_id=last, worker=WORKER)
    assert len(received_texts(sandbox_server, limited)) == 2


def test_a_pause_recorded_after_the_claim_stops_the_sending(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    """Another worker (or the metric collection) got a 429 for the account between this
    worker's claim and its call: nothing is sent, the publication waits for the reset."""
    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon)
    post = due_post(session, authority, [account])
    (claimed,) = claims.claim(db, worker=WORKER, lease=LEASE, limit=10)
    publishing.pause_account(
        session, account_id=account.id, until=clock.now() + timedelta(minutes=2), reason="429"
    )
    session.commit()
    result = publishing.publish(db, pub_settings, publication_id=claimed, worker=WORKER)
    assert result == publishing.Result.parked
    assert sandbox_server.sandbox.received("mastodon", account.remote_id) == []
    publication = only_publication(session, post)
    assert (publication.status, publication.claimed_by) == (PublicationStatus.scheduled, None)


def test_expired_credentials_mark_the_account_and_tell_the_admins(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    admin = make_member(session, authority, Role.admin)
    editor = make_member(session, authority, Role.editor)
    account = sandbox_account(authority, Network.mastodon)
    sandbox_server.sandbox.revoke("mastodon", account.remote_id)
    post = due_post(session, authority, [account])

    assert run_once(db, pub_settings) == [publishing.Result.failed]

    publication = only_publication(session, post)
    assert publication.error_code == "network_auth"
    assert publication.error
    assert "reconnecter" in publication.error
    reload(session, account)
    assert account.health == AccountHealth.unhealthy
    emails = session.exec(select(OutboundEmail)).all()
    assert {e.to_address for e in emails} == {admin.email, editor.email}
    assert all(e.context["reconnect"] for e in emails)
    assert [a.outcome for a in attempts_of(session, publication)] == [AttemptOutcome.failed]


def test_a_permanent_refusal_fails_at_once(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.facebook, fail_next=[403])
    ok = sandbox_account(authority, Network.bluesky)
    post = due_post(session, authority, [account, ok])

    results = run_once(db, pub_settings)
    assert sorted(results) == sorted([publishing.Result.failed, publishing.Result.published])

    session.rollback()
    session.expire_all()
    failed, published = publications.of_post(session, post)
    assert failed.status == PublicationStatus.failed
    assert failed.attempts == 1
    assert failed.error
    assert "droits" in failed.error
    assert published.status == PublicationStatus.published
    reload(session, post)
    assert post.status == PostStatus.partially_published


def test_the_electoral_silence_holds_back_all_but_urgent_posts(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    make_election(session, authority, first_round=today + timedelta(days=1), second_round=None)
    account = sandbox_account(authority, Network.mastodon)
    urgent = make_pillar(session, authority, urgent=True)
    plain = due_post(session, authority, [account], text="Inauguration du stade.")
    alert = due_post(
        session, authority, [account], text="Alerte crue : quais fermés.", pillar_id=urgent.id
    )

    results = run_once(db, pub_settings) + run_once(db, pub_settings)

    assert sorted(results) == sorted([publishing.Result.failed, publishing.Result.published])
    assert received_texts(sandbox_server, account) == ["Alerte crue : quais fermés."]
    refused = only_publication(session, plain)
    assert refused.error_code == "electoral_silence"
    assert refused.error
    assert "L49" in refused.error
    assert only_publication(session, alert).status == PublicationStatus.published


def test_a_manual_channel_emails_the_prepared_text_and_waits_for_a_person(
    session: Session, db: Engine, pub_settings: Settings
) -> None:
    authority = make_authority(session)
    agent = make_member(session, authority, Role.contributor)
    channel = Account(
        authority_id=authority.id,  # type: ignore[arg-type]
        network=Network.manual,
        name="PanneauPocket",
        assignee_id=agent.id,
    )
    session.add(channel)
    session.commit()
    post = due_post(session, authority, [channel], text="Coupure d'eau mardi matin.")

    assert run_once(db, pub_settings) == [publishing.Result.delivered]
    assert run_once(db, pub_settings) == []

    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.publishing
    assert publication.lease_until is None
    (email,) = session.exec(select(OutboundEmail)).all()
    assert email.to_address == agent.email
    assert email.template == "manual_publication"
    assert email.context["text"] == "Coupure d'eau mardi matin."
    assert claims.recover_leases(db, now=clock.now() + timedelta(days=1)) == 0


def test_backoff_grows_exponentially_with_jitter_and_a_cap(pub_settings: Settings) -> None:
    import random

    settings = pub_settings.model_copy(
        update={"publish_backoff_base_seconds": 10.0, "publish_backoff_cap_seconds": 300.0}
    )
    rng = random.Random(7)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 40), (6, 300), (20, 300)):
        delays = {publishing.backoff(attempt, settings, rng=rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 40  # jitter: not all together


def test_the_claim_gives_each_publication_to_one_worker(
    session: Session, db: Engine, pub_settings: Settings
) -> None:
    from tests.factories import make_account

    authority = make_authority(session)
    accounts = [make_account(session, authority) for _ in range(6)]
    for account in accounts:
        due_post(session, authority, [account])
    future = make_post(
        session,
        authority,
        targets=[make_account(session, authority)],
        status=PostStatus.approved,
        scheduled_at=clock.now() + timedelta(hours=1),
    )

    first = claims.claim(db, worker="a", lease=LEASE, limit=4)
    second = claims.claim(db, worker="b", lease=LEASE, limit=10)

    assert len(first) == 4
    assert len(second) == 2
    assert not set(first) & set(second)
    assert claims.claim(db, worker="c", lease=LEASE, limit=10) == []
    session.rollback()
    session.expire_all()
    rows = session.exec(select(Publication).where(Publication.claimed_by == "a")).all()
    assert {r.id for r in rows} == set(first)
    assert all(r.lease_until is not None for r in rows)
    assert only_publication(session, future).status == PublicationStatus.scheduled
    assert claims.release(db, worker="b") == 2
    assert sorted(claims.claim(db, worker="c", lease=LEASE, limit=10)) == sorted(second)


def test_an_account_never_has_two_publications_in_flight(
    session: Session, db: Engine, pub_settings: Settings
) -> None:
    from tests.factories import make_account

    authority = make_authority(session)
    account = make_account(session, authority)
    posts = [due_post(session, authority, [account]) for _ in range(3)]

    (first,) = claims.claim(db, worker="a", lease=LEASE, limit=10)
    assert claims.claim(db, worker="b", lease=LEASE, limit=10) == []
    assert first == only_publication(session, posts[0]).id
    session.add(
        AccountPause(account_id=account.id, until_at=clock.now() + timedelta(minutes=5))  # type: ignore[arg-type]
    )
    session.commit()
    claims.release(db, worker="a")
    assert claims.claim(db, worker="b", lease=LEASE, limit=10) == []


def test_the_claim_takes_the_earliest_first_and_each_account_in_its_own_order(
    session: Session, db: Engine, pub_settings: Settings
) -> None:
    from tests.factories import make_account

    authority = make_authority(session)
    busy, quiet, late = (make_account(session, authority) for _ in range(3))
    now = clock.now()

    def at(account: Account, minutes_ago: int) -> int:
        post = make_post(
            session,
            authority,
            targets=[account],
            status=PostStatus.approved,
            scheduled_at=now - timedelta(minutes=minutes_ago),
        )
        publication_id = only_publication(session, post).id
        assert publication_id is not None
        return publication_id

    # `busy`: two due at the same minute (the one created first goes first), one due earlier
    # but created last; `quiet`: one due; `late`: one due, the most recent.
    busy_tie_first = at(busy, 5)
    busy_tie_second = at(busy, 5)
    quiet_one = at(quiet, 3)
    late_one = at(late, 1)
    busy_earliest = at(busy, 9)

    # Earliest due first, one per account, the limit counted in publications.
    assert claims.claim(db, worker="a", lease=LEASE, limit=2) == [busy_earliest, quiet_one]
    assert claims.claim(db, worker="a", lease=LEASE, limit=10) == [late_one]
    claims.release(db, worker="a", ids=[busy_earliest])
    session.rollback()
    session.expire_all()
    session.get_one(Publication, busy_earliest).status = PublicationStatus.published
    session.commit()
    assert claims.claim(db, worker="b", lease=LEASE, limit=10) == [busy_tie_first]
    assert claims.claim(db, worker="b", lease=LEASE, limit=10) == []
    claims.release(db, worker="b")
    session.get_one(Publication, busy_tie_first).status = PublicationStatus.cancelled
    session.commit()
    assert claims.claim(db, worker="b", lease=LEASE, limit=10) == [busy_tie_second]


def test_images_go_out_with_the_post_read_only_when_it_is_sent(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    from core.media import service as media_service
    from core.media import storage
    from core.posts.models import PostMedia
    from tests.factories import make_media

    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon)
    alts = ["Le marché, vue 1.", "Le marché, vue 2."]
    photos = [make_media(session, pub_settings, authority, alt_text=alt) for alt in alts]
    post = due_post(session, authority, [account], text="Le marché de Noël ouvre samedi.")
    for position, photo in enumerate(photos):
        session.add(PostMedia(post_id=post.id, media_id=photo.id, position=position))  # type: ignore[arg-type]
    session.commit()

    ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=10)
    (job,) = publishing.prepare(db, pub_settings, ids, worker=WORKER).values()
    assert isinstance(job, publishing.Job)
    # Prepared ahead, waiting its turn: the images are known, their bytes not read yet.
    assert [image.alt for image in job.outgoing.images] == alts
    assert all(image.data == b"" for image in job.outgoing.images)

    assert publishing.send(db, pub_settings, job, worker=WORKER) == publishing.Result.published

    (sent,) = sandbox_server.sandbox.posts("mastodon", account.remote_id)
    assert sent.text == post.text
    renditions = [
        media_service.rendition_for(session, pub_settings, media=photo, network=Network.mastodon)
        or photo
        for photo in photos
    ]
    assert [image.data for image in sent.images] == [
        storage.read(pub_settings, r.path) for r in renditions
    ]
    assert all(image.data for image in sent.images)
    assert [image.alt for image in sent.images] == alts
    assert only_publication(session, post).status == PublicationStatus.published


def test_a_batch_is_prepared_in_one_go_its_attempts_on_record_before_anything_is_sent(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    accounts = [sandbox_account(authority, network) for network in (Network.mastodon,) * 3]
    posts = [
        due_post(session, authority, [a], text=f"Conseil municipal n°{i}")
        for i, a in enumerate(accounts)
    ]
    ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=50)
    assert len(ids) == 3

    prepared = publishing.prepare(db, pub_settings, ids, worker=WORKER)

    # Committed before any call: another session sees every attempt `started`.
    for post in posts:
        (attempt,) = attempts_of(session, only_publication(session, post))
        assert attempt.outcome == AttemptOutcome.started
    assert all(received_texts(sandbox_server, a) == [] for a in accounts)
    writer = publishing.ResultWriter(db, worker=WORKER)
    jobs = [prepared[i] for i in ids]
    for job in jobs:
        assert isinstance(job, publishing.Job)
        result = publishing.send(db, pub_settings, job, worker=WORKER, writer=writer)
        assert result == publishing.Result.published
    # Sent, not yet written: still claimed (a crash now is reconciled after the lease).
    assert only_publication(session, posts[0]).status == PublicationStatus.publishing

    assert writer.flush() == 3

    for post, account in zip(posts, accounts, strict=True):
        publication = only_publication(session, post)
        assert publication.status == PublicationStatus.published
        assert publication.remote_id
        (attempt,) = attempts_of(session, publication)
        assert attempt.outcome == AttemptOutcome.published
        assert attempt.remote_id == publication.remote_id
        assert received_texts(sandbox_server, account) == [post.text]
        reload(session, post)
        assert post.status == PostStatus.published


def test_a_prepared_publication_whose_account_was_paused_meanwhile_is_withdrawn_unsent(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon)
    post = due_post(session, authority, [account])
    (claimed,) = claims.claim(db, worker=WORKER, lease=LEASE, limit=50)
    job = publishing.prepare(db, pub_settings, [claimed], worker=WORKER)[claimed]
    assert isinstance(job, publishing.Job)

    assert publishing.withdraw(db, job, worker=WORKER) == publishing.Result.parked

    publication = only_publication(session, post)
    assert publication.status == PublicationStatus.scheduled
    assert publication.claimed_by is None
    assert publication.attempts == 0
    assert attempts_of(session, publication) == []  # nothing was attempted
    assert received_texts(sandbox_server, account) == []
    # Due again: it goes out normally, as its first attempt.
    assert run_once(db, pub_settings) == [publishing.Result.published]
    (attempt,) = attempts_of(session, only_publication(session, post))
    assert attempt.number == 1


def test_a_batch_prepares_only_the_publications_still_claimed(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    accounts = [sandbox_account(authority, Network.mastodon) for _ in range(3)]
    posts = [
        due_post(session, authority, [a], text=f"Marché de Noël n°{i}")
        for i, a in enumerate(accounts)
    ]
    ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=50)
    # One claim passed to another worker (its lease ran out) before the batch is prepared.
    lost = only_publication(session, posts[1])
    session.execute(
        sa.update(Publication).where(Publication.id == lost.id).values(claimed_by="other:2")  # type: ignore[arg-type]
    )
    session.commit()

    prepared = publishing.prepare(db, pub_settings, ids, worker=WORKER)

    assert prepared[lost.id] == publishing.Result.lost  # type: ignore[index]
    assert attempts_of(session, only_publication(session, posts[1])) == []
    jobs = [job for job in prepared.values() if isinstance(job, publishing.Job)]
    assert len(jobs) == 2
    writer = publishing.ResultWriter(db, worker=WORKER)
    for job in jobs:
        assert publishing.send(db, pub_settings, job, worker=WORKER, writer=writer) == (
            publishing.Result.published
        )
    assert writer.flush() == 2
    for post in (posts[0], posts[2]):
        publication = only_publication(session, post)
        (attempt,) = attempts_of(session, publication)
        assert attempt.outcome == AttemptOutcome.published
        assert publication.status == PublicationStatus.published
        assert publication.attempts == 1
    assert received_texts(sandbox_server, accounts[1]) == []


def test_the_last_two_publications_of_a_post_ending_at_once_settle_it(
    session: Session,
    db: Engine,
    test_engine: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    """Two transactions end a post's two publications at the same moment (two workers, or a
    person marking a manual channel): whichever commits second settles the post, having read
    the first's. (On SQLite the second waits for the first's write lock.)"""
    authority = make_authority(session)
    first, second = (sandbox_account(authority, Network.mastodon) for _ in range(2))
    post = due_post(session, authority, [first, second], text="Fête de la musique")
    ids = claims.claim(db, worker=WORKER, lease=LEASE, limit=50)
    prepared = publishing.prepare(db, pub_settings, ids, worker=WORKER)
    jobs = {job.account_id: job for job in prepared.values() if isinstance(job, publishing.Job)}
    assert first.id is not None
    assert second.id is not None
    assert post.id is not None
    writer = publishing.ResultWriter(db, worker=WORKER)
    sent = publishing.send(db, pub_settings, jobs[second.id], worker=WORKER, writer=writer)
    assert sent == publishing.Result.published

    # The first ends in another transaction, still open: the second's is still being sent.
    other = Session(test_engine)
    try:
        assert publishing.record_published(
            other, jobs[first.id].publication_id, remote_id="1", url=None
        )
        assert publishing.settle_posts(other, {post.id}) == {}
        # The worker writes its result meanwhile: it waits for the post, which `other` holds.
        flushed: list[int] = []
        flushing = threading.Thread(target=lambda: flushed.append(writer.flush()))
        flushing.start()
        eventually(lambda: waiting_for_a_lock(session) or not flushing.is_alive())
        other.commit()
    finally:
        other.close()
    flushing.join(10)

    assert flushed == [1]
    reload(session, post)
    assert post.status == PostStatus.published
    statuses = {p.status for p in publications.of_post(session, post)}
    assert statuses == {PublicationStatus.published}


def waiting_for_a_lock(session: Session) -> bool:
    if session.get_bind().dialect.name == "sqlite":
        return True  # the other transaction holds the write lock: the flush cannot get ahead
    session.rollback()
    waiting = session.execute(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    ).scalar_one()
    return bool(waiting)
