"""One-tap approval links: received over real SMTP, opened, used once, refused when reused,
outdated, expired or forged; opening one never decides anything."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import clock
from core.authorities.models import Role
from core.mail import service as mail
from core.posts.models import Post, PostEvent, PostStatus
from tests.conftest import Mailbox, body_of, make_settings, reload
from tests.factories import bearer, make_account, make_authority, make_member
from tests.web.helpers import text_of
from web.emails import render_email

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def deliver(client: TestClient, database_url: str, port: int) -> int:
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    return mail.deliver_pending(
        client.app.state.engine,  # type: ignore[attr-defined]
        sender=mail.sender_for(settings),
        render=render_email,
    )


@pytest.fixture
def submitted(
    client: TestClient, session: Session, smtp: tuple[Mailbox, int], database_url: str
) -> dict[str, object]:
    """A post submitted by an editor, and the link e-mailed to the mayor (the only approver)."""
    mailbox, port = smtp
    authority = make_authority(session, name="Commune de Figeac", slug="figeac")
    editor = make_member(session, authority, Role.editor, name="Camille Com")
    mayor = make_member(session, authority, Role.approver, name="Hélène Maire")
    account = make_account(session, authority, name="Figeac sur Mastodon")
    headers = bearer(session, editor)
    with clock.frozen(NOW):
        post = client.post(
            "/api/v1/authorities/figeac/posts",
            headers=headers,
            json={
                "text": "Marché nocturne vendredi soir, place Champollion.",
                "targets": [{"account_id": account.id}],
                "scheduled_at": "2026-06-05T18:00:00",
            },
        ).json()
        assert client.post(f"/api/v1/posts/{post['id']}/submit", headers=headers).status_code == 200
    assert deliver(client, database_url, port) == 1
    [message] = mailbox.wait_for(1)
    assert message["To"] == mayor.email
    assert message["Subject"] == "Publication à valider : Commune de Figeac"
    body = body_of(message)
    assert "Bonjour Hélène Maire," in body
    assert "Marché nocturne vendredi soir, place Champollion." in body
    assert "Mastodon · Figeac sur Mastodon" in body
    assert "Date de publication : 05/06/2026 à 18:00" in body
    link = re.search(r"http://testserver(/approval/\S+)", body)
    assert link is not None
    return {"post_id": post["id"], "path": link.group(1), "headers": headers, "mailbox": mailbox}


def form_token(page: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', page)
    assert match, page
    return match.group(1)


def post_of(session: Session, post_id: object) -> Post:
    session.rollback()
    post = session.get(Post, post_id)
    assert post is not None
    reload(session, post)
    return post


def test_approve_through_the_link_then_it_is_used(
    client: TestClient,
    session: Session,
    submitted: dict[str, object],
    smtp: tuple[Mailbox, int],
    database_url: str,
) -> None:
    path = str(submitted["path"])
    with clock.frozen(NOW + timedelta(hours=1)):
        page = client.get(path)
        assert page.status_code == 200
        assert "Marché nocturne vendredi soir" in text_of(page.text)
        assert page.headers["Referrer-Policy"] == "no-referrer"
        # Opening the page (as a mail scanner does) decides nothing.
        client.get(path)
        assert post_of(session, submitted["post_id"]).status == PostStatus.in_review

        done = client.post(
            f"{path}/approve", data={"form_token": form_token(page.text)}, follow_redirects=False
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/approval/done?decision=approved"
        post = post_of(session, submitted["post_id"])
        assert post.status == PostStatus.approved
        events = session.exec(
            select(PostEvent).where(PostEvent.post_id == post.id).order_by(col(PostEvent.id))
        ).all()
        assert [(e.kind, e.channel, e.actor_name) for e in events][-1] == (
            "approved",
            "email",
            "Hélène Maire",
        )

        reused = client.get(path)
        assert reused.status_code == 410
        assert "Ce lien de validation a déjà servi" in text_of(reused.text)
        assert "Commune de Figeac" in text_of(reused.text)
        again = client.post(f"{path}/approve", data={"form_token": form_token(page.text)})
        assert again.status_code == 410

    # The editor hears of the approval by e-mail.
    mailbox, port = smtp
    assert deliver(client, database_url, port) == 1
    decision = mailbox.wait_for(2)[1]
    assert decision["Subject"] == "Publication validée : Commune de Figeac"
    assert "Hélène Maire a validé la publication" in body_of(decision)


def test_a_link_after_an_edit_approves_nothing(
    client: TestClient, session: Session, submitted: dict[str, object]
) -> None:
    path = str(submitted["path"])
    with clock.frozen(NOW + timedelta(hours=1)):
        page = client.get(path)
        edited = client.patch(
            f"/api/v1/posts/{submitted['post_id']}",
            headers=submitted["headers"],  # type: ignore[arg-type]
            json={"text": "Marché nocturne annulé pour cause d'orage."},
        )
        assert edited.json()["version"] == 2
        outdated = client.get(path)
        assert outdated.status_code == 409
        assert "La publication a été modifiée depuis l'envoi de ce lien" in text_of(outdated.text)
        refused = client.post(f"{path}/approve", data={"form_token": form_token(page.text)})
        assert refused.status_code == 409
    post = post_of(session, submitted["post_id"])
    assert post.status == PostStatus.in_review
    assert post.approved_by_id is None


def test_an_expired_link(
    client: TestClient, session: Session, submitted: dict[str, object]
) -> None:
    with clock.frozen(NOW + timedelta(hours=49)):
        expired = client.get(str(submitted["path"]))
    assert expired.status_code == 410
    assert "Ce lien de validation a expiré" in text_of(expired.text)
    assert post_of(session, submitted["post_id"]).status == PostStatus.in_review


def test_a_forged_link_and_a_form_without_its_token(
    client: TestClient, session: Session, submitted: dict[str, object]
) -> None:
    path = str(submitted["path"])
    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    page = client.get(forged)
    assert page.status_code == 404
    assert "Ce lien de validation n'est pas valide" in text_of(page.text)
    assert client.post(f"{forged}/approve", data={"form_token": "0" * 64}).status_code == 403
    with clock.frozen(NOW + timedelta(hours=1)):
        assert client.post(f"{path}/approve", data={"form_token": ""}).status_code == 403
        assert client.post(f"{path}/approve", data={"form_token": "0" * 64}).status_code == 403
    assert post_of(session, submitted["post_id"]).status == PostStatus.in_review


def test_request_changes_through_the_link(
    client: TestClient, session: Session, submitted: dict[str, object]
) -> None:
    path = str(submitted["path"])
    with clock.frozen(NOW + timedelta(hours=1)):
        page = client.get(path)
        token = form_token(page.text)
        empty = client.post(f"{path}/request-changes", data={"form_token": token, "comment": " "})
        assert empty.status_code == 422
        assert "Expliquez votre décision dans un commentaire" in text_of(empty.text)
        assert post_of(session, submitted["post_id"]).status == PostStatus.in_review
        done = client.post(
            f"{path}/request-changes",
            data={"form_token": token, "comment": "Ajoutez l'horaire de fin."},
            follow_redirects=False,
        )
        assert done.status_code == 303
    post = post_of(session, submitted["post_id"])
    assert post.status == PostStatus.draft
    event = session.exec(
        select(PostEvent).where(PostEvent.post_id == post.id, PostEvent.kind == "changes_requested")
    ).one()
    assert (event.channel, event.comment) == ("email", "Ajoutez l'horaire de fin.")
