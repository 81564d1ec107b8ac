"""The dispatcher thread against the sandboxes, on both databases: due publications go out, never
early; a slow network does not hold up the others; stopping finishes what is in flight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import clock
from core.accounts.models import Account, Network
from core.config import Settings
from core.posts import publications
from core.posts.models import Post, PostStatus, Publication, PublicationStatus
from core.publishing import engine as publishing
from core.publishing.models import AccountPause
from scheduler.dispatch import Dispatcher, Pauses
from tests.conftest import SandboxServer, eventually
from tests.factories import make_authority, make_post


def status_of(session: Session, post: Post) -> PublicationStatus:
    session.rollback()
    session.expire_all()
    (publication,) = publications.of_post(session, post)
    return PublicationStatus(publication.status)


def publication_of(session: Session, post: Post) -> Publication:
    session.rollback()
    session.expire_all()
    (publication,) = publications.of_post(session, post)
    return publication


def test_due_publications_go_out_never_early_and_a_slow_network_holds_up_no_other(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    slow = sandbox_account(authority, Network.linkedin, latency=4.0)
    fast = [sandbox_account(authority, n) for n in (Network.mastodon, Network.bluesky)]
    now = clock.now()
    slow_post = make_post(
        session, authority, targets=[slow], status=PostStatus.approved, scheduled_at=now
    )
    fast_posts = [
        make_post(
            session,
            authority,
            targets=[account],
            status=PostStatus.approved,
            scheduled_at=now + timedelta(milliseconds=300),
        )
        for account in fast
    ]
    settings = pub_settings.model_copy(update={"network_timeout_seconds": 10.0})
    dispatcher = Dispatcher(db, settings, worker="dispatch-test:1")
    dispatcher.start()
    try:
        eventually(
            lambda: all(status_of(session, p) == "published" for p in fast_posts), timeout=10
        )
        # The fast networks went out while the slow one was still waiting for its answer.
        assert status_of(session, slow_post) == PublicationStatus.publishing
        for post, account in zip(fast_posts, fast, strict=True):
            (received,) = sandbox_server.sandbox.posts(str(account.network), account.remote_id)
            assert received.text == post.text
            assert received.created_at >= post.scheduled_at  # type: ignore[operator]
        eventually(lambda: status_of(session, slow_post) == "published", timeout=15)
    finally:
        dispatcher.stop()
    assert len(sandbox_server.sandbox.posts("linkedin", slow.remote_id)) == 1
    assert dispatcher.published == 3


def test_stopping_finishes_what_is_in_flight_and_claims_nothing_more(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    authority = make_authority(session)
    account = sandbox_account(authority, Network.mastodon, latency=1.5)
    first = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.approved,
        scheduled_at=clock.now(),
    )
    second = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.approved,
        scheduled_at=clock.now(),
    )
    dispatcher = Dispatcher(db, pub_settings, worker="dispatch-test:2")
    dispatcher.start()
    eventually(lambda: status_of(session, first) == "publishing", timeout=10)
    dispatcher.stop()

    assert status_of(session, first) == PublicationStatus.published
    after = publication_of(session, second)
    assert after.status == PublicationStatus.scheduled
    assert after.claimed_by is None
    assert len(sandbox_server.sandbox.posts("mastodon", account.remote_id)) == 1


def test_the_single_process_app_publishes_in_process(
    session: Session,
    db: Engine,
    pub_settings: Settings,
    sandbox_server: SandboxServer,
    sandbox_account: Callable[..., Account],
) -> None:
    from fastapi.testclient import TestClient

    from beffroi.app import create_app

    authority = make_authority(session)
    account = sandbox_account(authority, Network.bluesky)
    post = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.approved,
        scheduled_at=clock.now() + timedelta(milliseconds=200),
        text="Beffroi serve publie lui-même.",
    )
    app = create_app(pub_settings, engine=db, run_scheduler=True, run_mailer=False)
    with TestClient(app):
        assert app.state.dispatcher is not None
        eventually(lambda: status_of(session, post) == "published", timeout=15)
        metrics = TestClient(app).get("/metrics").text
    assert 'beffroi_publications{state="in_flight"} 0.0' in metrics
    (received,) = sandbox_server.sandbox.posts("bluesky", account.remote_id)
    assert received.text == "Beffroi serve publie lui-même."


def test_the_pauses_checked_before_each_call_are_read_again_when_older_than_their_limit(
    session: Session,
    db: Engine,
    sandbox_account: Callable[..., Account],
) -> None:
    account = sandbox_account(make_authority(session), Network.mastodon)
    assert account.id is not None
    pauses = Pauses(db, max_age=3600)
    assert account.id not in pauses

    # Another worker's pause: known here only from the database.
    session.add(
        AccountPause(account_id=account.id, until_at=clock.now() + timedelta(minutes=5), reason="")
    )
    session.commit()
    assert account.id not in pauses  # read less than an hour ago
    pauses.forget()  # this worker has just paused an account
    assert account.id in pauses
    assert account.id in Pauses(db, max_age=0)


def test_a_pause_decided_in_this_process_counts_before_it_is_committed(
    session: Session,
    db: Engine,
    sandbox_account: Callable[..., Account],
) -> None:
    # The metric collection met a 429; on SQLite, its transaction may wait for the write lock
    # while the dispatcher is about to send to the same account.
    account = sandbox_account(make_authority(session), Network.mastodon)
    assert account.id is not None
    pauses = Pauses(db, max_age=3600)
    assert account.id not in pauses
    with Session(db) as collecting:
        publishing.pause_account(
            collecting,
            account_id=account.id,
            until=clock.now() + timedelta(minutes=5),
            reason="429",
        )
        assert account.id in pauses  # not committed yet
        collecting.rollback()
    with Session(db) as other:
        assert account.id in publishing.paused_accounts(other, clock.now())
    # Its reset passed: the account is free again.
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        assert account.id not in pauses
