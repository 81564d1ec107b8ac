"""Publishing by hand through the API: publish now, retry a failure, mark a manual channel's
publication as published; and cancel or move a post while a worker is about to claim it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import clock
from core.accounts.models import Account, Network
from core.authorities.models import Role
from core.config import Settings
from core.posts import publications
from core.posts.models import PostStatus, Publication, PublicationStatus
from core.publishing import claim as claims
from core.publishing import engine as publishing
from tests.conftest import SandboxServer, make_settings, reload
from tests.factories import (
    bearer,
    connect_sandbox_account,
    make_account,
    make_authority,
    make_member,
    make_post,
)


@pytest.fixture
def race_settings(database_url: str, tmp_path: object, sandbox_server: SandboxServer) -> Settings:
    return make_settings(
        database_url,
        data_dir=tmp_path / "data",  # type: ignore[operator]
        sandbox_url=sandbox_server.url,
        sandbox=True,
        network_timeout_seconds=3.0,
    )


def test_publish_now_moves_an_approved_post_to_this_moment(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    contributor = make_member(session, authority, Role.contributor)
    account = make_account(session, authority)
    post = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.approved,
        scheduled_at=clock.now() + timedelta(days=2),
        author=contributor,
    )
    draft = make_post(session, authority, targets=[account], author=contributor)

    refused = client.post(
        f"/api/v1/posts/{post.id}/publish-now", headers=bearer(session, contributor)
    )
    assert refused.status_code == 403
    assert "chargé·es de communication" in refused.json()["detail"]

    answer = client.post(f"/api/v1/posts/{post.id}/publish-now", headers=bearer(session, editor))
    assert answer.status_code == 200
    (target,) = answer.json()["targets"]
    assert target["status"] == "scheduled"
    session.rollback()
    (publication,) = publications.of_post(session, post)
    reload(session, publication)
    assert publication.due_at is not None
    assert publication.due_at <= clock.now()
    assert target["publication_id"] == publication.id

    not_yet = client.post(f"/api/v1/posts/{draft.id}/publish-now", headers=bearer(session, editor))
    assert not_yet.status_code == 409
    assert not_yet.json()["error"] == "not_approved"
    assert "Faites-la valider" in not_yet.json()["detail"]


def test_a_failed_publication_can_be_retried_once_fixed(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    first, second = make_account(session, authority), make_account(session, authority)
    post = make_post(
        session,
        authority,
        targets=[first, second],
        status=PostStatus.approved,
        scheduled_at=clock.now() - timedelta(minutes=5),
    )
    failed, published = publications.of_post(session, post)
    failed.status = PublicationStatus.failed
    failed.error = "Mastodon refuse l'accès à ce compte : un administrateur doit le reconnecter."
    published.status = PublicationStatus.published
    post.status = PostStatus.partially_published
    session.add_all([failed, published, post])
    session.commit()
    headers = bearer(session, editor)

    answer = client.post(f"/api/v1/publications/{failed.id}/retry", headers=headers)

    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "approved"
    assert [t["status"] for t in body["targets"]] == ["scheduled", "published"]
    assert body["targets"][0]["error"] is None
    again = client.post(f"/api/v1/publications/{published.id}/retry", headers=headers)
    assert again.status_code == 409
    assert "Seule une publication en échec" in again.json()["detail"]
    other = make_authority(session)
    stranger = make_member(session, other, Role.editor)
    hidden = client.post(
        f"/api/v1/publications/{failed.id}/retry", headers=bearer(session, stranger)
    )
    assert hidden.status_code == 404
    assert client.post("/api/v1/publications/999999/retry", headers=headers).status_code == 404


def test_a_manual_channel_is_marked_published_by_its_person(
    client: TestClient, session: Session, db: Engine, settings: Settings
) -> None:
    authority = make_authority(session)
    agent = make_member(session, authority, Role.contributor)
    bystander = make_member(session, authority, Role.approver)
    channel = make_account(session, authority, network=Network.manual, assignee_id=agent.id)
    network = make_account(session, authority)
    post = make_post(
        session,
        authority,
        targets=[channel, network],
        status=PostStatus.approved,
        scheduled_at=clock.now() - timedelta(seconds=1),
        text="Fermeture de la mairie le 26 décembre.",
    )
    manual_pub, network_pub = publications.of_post(session, post)
    agent_headers, bystander_headers = bearer(session, agent), bearer(session, bystander)
    editor_headers = bearer(session, make_member(session, authority, Role.editor))
    ids = claims.claim(db, worker="w", lease=timedelta(minutes=1), limit=10)
    assert manual_pub.id in ids
    assert (
        publishing.publish(db, settings, publication_id=manual_pub.id, worker="w")  # type: ignore[arg-type]
        == publishing.Result.delivered
    )

    refused = client.post(
        f"/api/v1/publications/{manual_pub.id}/mark-published", headers=bystander_headers
    )
    assert refused.status_code == 403
    bad = client.post(
        f"/api/v1/publications/{manual_pub.id}/mark-published",
        headers=agent_headers,
        json={"url": "panneaupocket"},
    )
    assert bad.status_code == 422
    assert "https://" in bad.json()["detail"]
    not_manual = client.post(
        f"/api/v1/publications/{network_pub.id}/mark-published", headers=editor_headers
    )
    assert not_manual.status_code == 409
    assert "canal manuel" in not_manual.json()["detail"]

    done = client.post(
        f"/api/v1/publications/{manual_pub.id}/mark-published",
        headers=agent_headers,
        json={"url": "https://app.panneaupocket.com/ville/123"},
    )

    assert done.status_code == 200
    target = done.json()["targets"][0]
    assert target["status"] == "published"
    assert target["remote_url"] == "https://app.panneaupocket.com/ville/123"
    twice = client.post(
        f"/api/v1/publications/{manual_pub.id}/mark-published", headers=agent_headers
    )
    assert twice.status_code == 409


def _race(
    db: Engine,
    settings: Settings,
    client: TestClient,
    session: Session,
    sandbox_server: SandboxServer,
    action: Callable[[int, dict[str, str]], tuple[bool, int]],
    rounds: int,
) -> tuple[int, int]:
    """`action(post_id, headers)` cancels or moves the post and returns (told it was sent,
    status code), while a worker claims and publishes it. Returns (sent, stopped) counts."""
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    headers = bearer(session, editor)
    sent = stopped = 0
    for n in range(rounds):
        account: Account = connect_sandbox_account(
            session, settings, authority, network=Network.mastodon
        )
        post = make_post(
            session,
            authority,
            targets=[account],
            status=PostStatus.approved,
            scheduled_at=clock.now() - timedelta(milliseconds=10),
            text=f"Course contre la montre numéro {n}.",
        )
        start = threading.Barrier(2)

        def work(start: threading.Barrier = start) -> None:
            start.wait()
            for publication_id in claims.claim(
                db, worker="racer", lease=timedelta(minutes=1), limit=5
            ):
                publishing.publish(db, settings, publication_id=publication_id, worker="racer")

        worker = threading.Thread(target=work)
        worker.start()
        start.wait()
        told_sent, status = action(post.id, headers)  # type: ignore[arg-type]
        worker.join(30)
        received = sandbox_server.sandbox.posts("mastodon", account.remote_id)
        session.rollback()
        (publication,) = publications.of_post(session, post)
        reload(session, publication)
        if told_sent:
            assert len(received) == 1, (n, status)
            assert publication.status == PublicationStatus.published
            sent += 1
        else:
            assert received == [], (n, status)
            assert publication.status in (PublicationStatus.cancelled, PublicationStatus.scheduled)
            stopped += 1
    return sent, stopped


def test_cancel_while_a_worker_claims_sends_once_or_not_at_all_and_says_which(
    client: TestClient,
    session: Session,
    db: Engine,
    race_settings: Settings,
    sandbox_server: SandboxServer,
) -> None:
    def cancel(post_id: int, headers: dict[str, str]) -> tuple[bool, int]:
        answer = client.post(f"/api/v1/posts/{post_id}/cancel", headers=headers)
        if answer.status_code == 409:  # it went out before the click: the answer says so
            assert answer.json()["status"] == "published"
            assert "« Publiée »" in answer.json()["detail"]
            return True, 409
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["already_sent"]), answer.status_code

    sent, stopped = _race(db, race_settings, client, session, sandbox_server, cancel, 12)
    assert sent + stopped == 12


def test_moving_while_a_worker_claims_sends_once_or_not_at_all_and_says_which(
    client: TestClient,
    session: Session,
    db: Engine,
    race_settings: Settings,
    sandbox_server: SandboxServer,
) -> None:
    def move(post_id: int, headers: dict[str, str]) -> tuple[bool, int]:
        later = (clock.now() + timedelta(days=1)).isoformat()
        answer = client.patch(
            f"/api/v1/posts/{post_id}", headers=headers, json={"scheduled_at": later}
        )
        assert answer.status_code in (200, 409), answer.text
        if answer.status_code == 409:
            detail = answer.json()["detail"]
            assert "déjà partie (ou en cours d'envoi)" in detail or "« Publiée »" in detail
        return answer.status_code == 409, answer.status_code

    sent, stopped = _race(db, race_settings, client, session, sandbox_server, move, 12)
    assert sent + stopped == 12


def test_post_json_carries_each_target_state(client: TestClient, session: Session) -> None:
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    account = make_account(session, authority)
    post = make_post(
        session,
        authority,
        targets=[account],
        status=PostStatus.approved,
        scheduled_at=clock.now(),
    )
    session.execute(
        sa.update(Publication)
        .where(Publication.post_id == post.id)  # type: ignore[arg-type]
        .values(
            status="failed",
            error="Texte trop long pour X : raccourcissez-le.",
            error_code="network_refused",
        )
    )
    session.commit()
    (target,) = client.get(f"/api/v1/posts/{post.id}", headers=bearer(session, editor)).json()[
        "targets"
    ]
    assert target["status"] == "failed"
    assert target["error"] == "Texte trop long pour X : raccourcissez-le."
    assert target["error_code"] == "network_refused"
