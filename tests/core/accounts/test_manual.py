"""Manual channels: when a publication is due, the assigned member receives the prepared text."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.accounts import manual
from core.accounts.models import Network
from core.authorities.models import Role
from core.config import Settings
from core.mail import service as mail
from networks.base import Image, Post
from tests.conftest import Mailbox, body_of
from tests.factories import make_account, make_authority, make_member
from web.emails import render_email


def test_the_assigned_member_gets_the_prepared_publication_once(
    db: Engine, session: Session, settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    authority = make_authority(session, name="Commune de Val-de-Brume")
    agent = make_member(session, authority, Role.editor, name="Camille Martin")
    make_member(session, authority, Role.admin)
    channel = make_account(
        session, authority, network=Network.manual, name="PanneauPocket", assignee_id=agent.id
    )
    post = Post(
        text="Coupure d'eau rue Haute mardi de 8 h à 12 h.",
        images=[Image(b"", "image/jpeg", "Plan du quartier", url="https://beffroi.example/m/1")],
        link="https://www.val-de-brume.fr/eau",
    )
    due = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    sent = manual.deliver(session, account=channel, post=post, due_at=due, idempotency_key="p-1")
    again = manual.deliver(session, account=channel, post=post, due_at=due, idempotency_key="p-1")
    session.commit()
    assert len(sent) == 1
    assert again == []

    sender = mail.SmtpSender(
        settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
        )
    )
    assert mail.deliver_pending(db, sender=sender, render=render_email) == 1
    [message] = mailbox.wait_for(1)
    assert message["To"] == agent.email
    assert message["Subject"] == "À publier sur PanneauPocket le 01/12/2026 08:00"
    body = body_of(message)
    assert "Coupure d'eau rue Haute mardi de 8 h à 12 h." in body
    assert "https://www.val-de-brume.fr/eau" in body
    assert "Texte alternatif : Plan du quartier" in body


def test_without_an_assignee_the_communication_team_gets_it(session: Session) -> None:
    authority = make_authority(session)
    editor = make_member(session, authority, Role.editor)
    admin = make_member(session, authority, Role.admin)
    make_member(session, authority, Role.contributor)
    channel = make_account(session, authority, network=Network.manual, name="Site web")
    assert {u.id for u in manual.recipients(session, account=channel)} == {editor.id, admin.id}
