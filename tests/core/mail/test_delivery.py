from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core import clock
from core.config import Settings
from core.mail import service as mail
from core.mail.models import EmailStatus, OutboundEmail
from tests.conftest import Mailbox, body_of, eventually, free_port, make_settings, reload
from web.emails import render_email

CONTEXT = {
    "authority": "Ville d'Albi",
    "inviter": "Zoé",
    "roles": ["editor"],
    "name": "Léo",
    "link": "http://testserver/login",
}


def _enqueue(session: Session, **overrides: object) -> OutboundEmail:
    values: dict[str, object] = {
        "to": "leo@albi.example.org",
        "template": "membership_added",
        "context": CONTEXT,
    }
    values.update(overrides)
    email = mail.enqueue(session, **values)  # type: ignore[arg-type]
    session.commit()
    return email


def test_delivers_french_mail_over_smtp(
    db: Engine, session: Session, database_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    _enqueue(session)
    _enqueue(session, to="en@albi.example.org", locale="en")
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="Mairie <comm@albi.example.org>",
    )
    assert mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email) == 2
    french, english = sorted(mailbox.wait_for(2), key=lambda m: m["To"])[::-1]
    assert french["Subject"] == "Vous avez rejoint Ville d'Albi sur Beffroi"
    assert french["From"] == "Mairie <comm@albi.example.org>"
    assert "Zoé vous a ajouté·e à Ville d'Albi sur Beffroi." in body_of(french)
    assert english["Subject"] == "You joined Ville d'Albi on Beffroi"
    assert mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email) == 0


def test_a_broken_mail_server_is_retried_with_backoff(
    db: Engine, session: Session, database_url: str
) -> None:
    email = _enqueue(session)
    settings = make_settings(
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_timeout_seconds=2,
    )
    start = clock.now()
    with clock.frozen(start) as move_to:
        assert mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email) == 0
        reload(session, email)
        assert email.status == EmailStatus.pending
        assert email.attempts == 1
        assert "Connection refused" in (email.last_error or "")
        assert email.next_attempt_at == start + timedelta(minutes=1)
        # Not due yet: nothing is tried.
        mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email)
        reload(session, email)
        assert email.attempts == 1
        for minutes in (1, 6, 36, 156, 516):
            move_to(start + timedelta(minutes=minutes))
            mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email)
        reload(session, email)
        assert email.attempts == 6
        assert email.status == EmailStatus.failed


def test_without_smtp_mail_is_kept_for_the_development_page(
    db: Engine, session: Session, settings: Settings
) -> None:
    _enqueue(session)
    mail.deliver_pending(db, sender=mail.sender_for(settings), render=render_email)
    stored = session.exec(select(OutboundEmail)).one()
    assert stored.status == EmailStatus.logged
    assert stored.body_text
    assert "Zoé vous a ajouté·e" in stored.body_text


def test_the_mailer_thread_delivers_soon_after_a_kick(
    db: Engine, session: Session, database_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    mailer = mail.Mailer(
        db, sender=mail.sender_for(settings), render=render_email, poll_seconds=3600
    )
    mailer.start()
    try:
        _enqueue(session)
        mailer.kick()
        assert len(mailbox.wait_for(1, timeout=10)) == 1

        def sent() -> bool:
            session.rollback()
            return session.exec(select(OutboundEmail)).one().status == EmailStatus.sent

        eventually(sent)
    finally:
        mailer.stop()


def test_mail_of_a_rolled_back_action_is_never_sent(db: Engine) -> None:
    with Session(db) as session:
        mail.enqueue(session, to="x@albi.example.org", template="membership_added", context=CONTEXT)
        session.rollback()
    with Session(db) as session:
        assert session.exec(select(OutboundEmail)).all() == []
