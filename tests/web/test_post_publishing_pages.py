"""What the post page offers once a post is approved: publish now, relaunch a failed target, and
say a manual channel's publication is online. Server side, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.posts.models import EventChannel, Post, PostEvent, PostStatus, Publication
from core.posts.models import PublicationStatus as PS
from tests.factories import make_account, make_authority, make_member, make_post
from tests.web.helpers import csrf_of, sign_in, text_of

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def town(session: Session) -> Authority:
    return make_authority(session, name="Commune de Val-de-Brume", slug="val-de-brume")


def _publications(session: Session, post: Post) -> list[Publication]:
    session.rollback()  # the application committed meanwhile: read afresh
    session.expire_all()
    stmt = select(Publication).where(Publication.post_id == post.id).order_by(col(Publication.id))
    return list(session.exec(stmt))


def _last_event(session: Session, post: Post) -> PostEvent:
    stmt = select(PostEvent).where(PostEvent.post_id == post.id).order_by(col(PostEvent.id))
    return list(session.exec(stmt))[-1]


def test_an_editor_publishes_an_approved_post_now(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town, network=Network.mastodon, name="Ville")
    post = make_post(
        session, town, targets=[account], status=PostStatus.approved,
        scheduled_at=NOW + timedelta(days=3),
    )  # fmt: skip
    sign_in(client, editor.email)
    with clock.frozen(NOW):
        page = client.get(f"/posts/{post.id}")
        assert "Publier maintenant" in text_of(page.text)
        answer = client.post(
            f"/posts/{post.id}/publish-now",
            data={"csrf_token": csrf_of(client, f"/posts/{post.id}")},
            follow_redirects=True,
        )
    assert answer.status_code == 200
    assert "La publication part maintenant" in text_of(answer.text)
    [publication] = _publications(session, post)
    assert publication.status == PS.scheduled
    assert publication.due_at == NOW
    event = _last_event(session, post)
    assert (event.kind, event.channel) == ("publish_now", EventChannel.web)


def test_a_failed_target_is_relaunched_from_the_post_page(
    client: TestClient, session: Session, town: Authority
) -> None:
    editor = make_member(session, town, Role.editor)
    author = make_member(session, town, Role.contributor)
    account = make_account(session, town, network=Network.x, name="Ville sur X")
    post = make_post(session, town, targets=[account], status=PostStatus.approved, scheduled_at=NOW)
    [publication] = _publications(session, post)
    publication.status = PS.failed
    publication.error = "X refuse ce texte : il dépasse 280 caractères."
    post.status = PostStatus.failed
    session.add_all([publication, post])
    session.commit()

    # The author sees the failure, but relaunching is the comms team's.
    sign_in(client, author.email)
    assert client.get(f"/posts/{post.id}").status_code == 404  # not theirs
    sign_in(client, editor.email)
    page = client.get(f"/posts/{post.id}")
    assert "X refuse ce texte" in text_of(page.text)
    assert "Relancer l'envoi sur Ville sur X" in text_of(page.text)
    csrf = csrf_of(client, f"/posts/{post.id}")
    url = f"/posts/{post.id}/publications/{publication.id}/retry"
    with clock.frozen(NOW + timedelta(minutes=5)):
        answer = client.post(url, data={"csrf_token": csrf}, follow_redirects=True)
    assert answer.status_code == 200
    assert "L'envoi est relancé" in text_of(answer.text)
    [publication] = _publications(session, post)
    assert (publication.status, publication.error) == (PS.scheduled, None)
    assert publication.due_at == NOW + timedelta(minutes=5)
    assert session.get(Post, post.id).status == PostStatus.approved  # type: ignore[union-attr]

    # Once it waits again, a second relaunch is refused in French and changes nothing.
    again = client.post(url, data={"csrf_token": csrf})
    assert again.status_code == 409
    assert "Seule une publication en échec peut être relancée" in text_of(again.text)
    # A publication of another post is unknown here.
    other = make_post(session, town, targets=[account], status=PostStatus.approved,
                      scheduled_at=NOW)  # fmt: skip
    [foreign] = _publications(session, other)
    stray = client.post(
        f"/posts/{post.id}/publications/{foreign.id}/retry", data={"csrf_token": csrf}
    )
    assert stray.status_code == 404


def test_the_person_in_charge_of_a_manual_channel_says_it_is_online(
    client: TestClient, session: Session, town: Authority
) -> None:
    agent = make_member(session, town, Role.contributor, name="Marc Accueil")
    other_agent = make_member(session, town, Role.contributor)
    board = make_account(
        session, town, network=Network.manual, name="PanneauPocket", assignee_id=agent.id
    )
    post = make_post(session, town, targets=[board], status=PostStatus.approved, scheduled_at=NOW)
    [publication] = _publications(session, post)
    publication.status = PS.publishing  # the engine sent the prepared text by e-mail
    session.add(publication)
    session.commit()

    # Another agent does not even see the post; the person in charge does, with the form.
    sign_in(client, other_agent.email)
    assert client.get(f"/posts/{post.id}").status_code == 404
    sign_in(client, agent.email)
    page = client.get(f"/posts/{post.id}")
    assert page.status_code == 200
    assert "J'ai publié sur PanneauPocket" in text_of(page.text)
    csrf = csrf_of(client, f"/posts/{post.id}")
    url = f"/posts/{post.id}/publications/{publication.id}/mark-published"

    refused = client.post(url, data={"csrf_token": csrf, "url": "panneaupocket.com/x"})
    assert refused.status_code == 422
    assert "commençant par https://" in text_of(refused.text)
    assert _publications(session, post)[0].status == PS.publishing

    with clock.frozen(NOW + timedelta(minutes=20)):
        done = client.post(
            url,
            data={"csrf_token": csrf, "url": "https://app.panneaupocket.com/ville/42"},
            follow_redirects=True,
        )
    assert done.status_code == 200
    assert "la publication est indiquée comme publiée" in text_of(done.text)
    [publication] = _publications(session, post)
    assert publication.status == PS.published
    assert publication.remote_url == "https://app.panneaupocket.com/ville/42"
    assert publication.published_at == NOW + timedelta(minutes=20)
    event = _last_event(session, post)
    assert (event.kind, event.channel) == ("marked_published", EventChannel.web)
