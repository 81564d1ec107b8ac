"""The outbox: messages are written in the transaction of the action that causes them, so that an
action rolled back sends nothing, and delivered afterwards, so that a slow or broken mail server
never blocks or breaks that action. A failed delivery is retried with backoff and recorded.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core import clock
from core.config import Settings
from core.mail.models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)

# Pause before each new attempt; after the last one the message is marked failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None = None


Renderer = Callable[[str, dict[str, Any], str], RenderedEmail]


class Sender(Protocol):
    delivered_status: EmailStatus

    def send(self, *, to: str, message: RenderedEmail) -> None: ...


def enqueue(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    locale: str = "fr",
    authority_id: int | None = None,
) -> OutboundEmail:
    email = OutboundEmail(
        to_address=to,
        template=template,
        context=context,
        locale=locale,
        authority_id=authority_id,
    )
    session.add(email)
    # Read by the request's session dependency: after the commit, it wakes the mailer.
    session.info["mail_enqueued"] = True
    return email


class SmtpSender:
    delivered_status = EmailStatus.sent

    def __init__(self, settings: Settings) -> None:
        assert settings.smtp_host
        self.settings = settings

    def send(self, *, to: str, message: RenderedEmail) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.smtp_from
        msg["To"] = to
        msg["Subject"] = message.subject
        msg["Message-ID"] = make_msgid(domain="beffroi")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(message.text)
        if message.html:
            msg.add_alternative(message.html, subtype="html")
        assert s.smtp_host is not None
        smtp: smtplib.SMTP
        if s.smtp_security == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host,
                s.smtp_port,
                timeout=s.smtp_timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_user, password)
            smtp.send_message(msg)


class LogSender:
    """Development without an SMTP server: messages go to the log and the development page."""

    delivered_status = EmailStatus.logged

    def send(self, *, to: str, message: RenderedEmail) -> None:
        log.info("E-mail (non envoyé, pas de serveur SMTP) à %s : %s", to, message.subject)


def sender_for(settings: Settings) -> Sender:
    return SmtpSender(settings) if settings.smtp_host else LogSender()


# A claimed message is not due again for this long: if the process dies while sending, the message
# is retried afterwards (at least once delivery; a lost invitation is worse than a duplicate).
CLAIM_LEASE = timedelta(minutes=5)


def deliver_pending(engine: Engine, *, sender: Sender, render: Renderer, limit: int = 100) -> int:
    """Deliver due messages; returns how many were delivered.

    Each message is claimed in a short transaction, sent outside any transaction (a slow mail
    server never holds a database lock), then its outcome is recorded."""
    delivered = 0
    for _ in range(limit):
        email = _claim_next(engine)
        if email is None:
            break
        outcome = _send(email, sender=sender, render=render)
        with Session(engine, expire_on_commit=False) as session:
            session.add(outcome)
            session.commit()
        delivered += outcome.status != EmailStatus.pending
    return delivered


def _claim_next(engine: Engine) -> OutboundEmail | None:
    while True:
        with Session(engine, expire_on_commit=False) as session:
            email = session.exec(
                select(OutboundEmail)
                .where(
                    OutboundEmail.status == EmailStatus.pending,
                    col(OutboundEmail.next_attempt_at) <= clock.now(),
                )
                .order_by(col(OutboundEmail.next_attempt_at), col(OutboundEmail.id))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if email is None:
                return None
            # Conditional on what was read: when two deliverers race, the loser updates nothing.
            claimed = session.execute(
                sa.update(OutboundEmail)
                .where(
                    col(OutboundEmail.id) == email.id,
                    col(OutboundEmail.status) == EmailStatus.pending,
                    col(OutboundEmail.next_attempt_at) == email.next_attempt_at,
                )
                .values(
                    next_attempt_at=clock.now() + CLAIM_LEASE,
                    attempts=OutboundEmail.attempts + 1,
                )
            )
            session.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                session.refresh(email)
                session.expunge(email)
                return email


def _send(email: OutboundEmail, *, sender: Sender, render: Renderer) -> OutboundEmail:
    try:
        message = render(email.template, email.context, email.locale)
        email.subject, email.body_text, email.body_html = (
            message.subject,
            message.text,
            message.html,
        )
        sender.send(to=email.to_address, message=message)
    except Exception as exc:  # any failure of rendering or transport is recorded and retried
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if email.attempts > len(RETRY_DELAYS):
            email.status = EmailStatus.failed
            log.error("E-mail %s abandonné après %s tentatives : %s", email.id, email.attempts, exc)
        else:
            email.next_attempt_at = clock.now() + RETRY_DELAYS[email.attempts - 1]
            log.warning("E-mail %s non remis (tentative %s) : %s", email.id, email.attempts, exc)
        return email
    email.status = sender.delivered_status
    email.sent_at = clock.now()
    email.last_error = None
    return email


def recent(session: Session, *, limit: int = 100) -> list[OutboundEmail]:
    stmt = select(OutboundEmail).order_by(col(OutboundEmail.id).desc()).limit(limit)
    return list(session.exec(stmt))


class Mailer:
    """A background thread of an API process that delivers the outbox soon after a commit
    (`kick`), and every `poll_seconds` for retries."""

    def __init__(
        self, engine: Engine, *, sender: Sender, render: Renderer, poll_seconds: float = 30.0
    ) -> None:
        self.engine, self.sender, self.render = engine, sender, render
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="beffroi-mailer", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                deliver_pending(self.engine, sender=self.sender, render=self.render)
            except Exception:  # the database may be briefly unreachable: try again later
                log.exception("La remise des e-mails a échoué ; nouvel essai plus tard.")
