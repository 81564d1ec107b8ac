from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.authorities.models import Membership, Role
from core.mail import service as mail
from core.mail.models import EmailStatus, OutboundEmail
from core.users.models import User
from tests.conftest import Mailbox, body_of, make_settings, reload
from tests.factories import make_authority, make_member
from tests.web.helpers import csrf_of, sign_in, text_of
from web.emails import render_email


def test_admin_invites_and_the_person_joins_by_the_emailed_link(
    client: TestClient, session: Session, smtp: tuple[Mailbox, int], database_url: str
) -> None:
    mailbox, port = smtp
    authority = make_authority(session, name="Commune de Sarlat", slug="sarlat")
    admin = make_member(session, authority, Role.admin, name="Anne Admin")
    sign_in(client, admin.email)

    page = client.post(
        "/a/sarlat/members",
        data={
            "email": "paul.agent@sarlat.example.org",
            "name": "Paul Agent",
            "roles": ["contributor"],
            "csrf_token": csrf_of(client, "/a/sarlat"),
        },
    )
    assert page.status_code == 200  # followed the 303 back to the members page
    assert "Paul Agent" in page.text
    assert "invitation envoyée" in page.text

    settings = make_settings(
        database_url, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none"
    )
    delivered = mail.deliver_pending(
        client.app.state.engine, sender=mail.sender_for(settings), render=render_email
    )
    assert delivered == 1
    [message] = mailbox.wait_for(1)
    assert message["To"] == "paul.agent@sarlat.example.org"
    assert message["Subject"] == "Anne Admin vous invite sur Beffroi pour Commune de Sarlat"
    body = body_of(message)
    assert "Bonjour Paul Agent," in body
    link = re.search(r"http://testserver(/invitation/\S+)", body)
    assert link is not None
    stored = session.exec(select(OutboundEmail)).one()
    assert stored.status == EmailStatus.sent
    assert stored.subject == message["Subject"]

    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    invitation = client.get(link.group(1))
    assert "Bienvenue, Paul Agent" in invitation.text
    mismatch = client.post(
        link.group(1),
        data={
            "password": "une longue phrase",
            "confirmation": "une autre phrase",
            "csrf_token": csrf_of(client, link.group(1)),
        },
    )
    assert mismatch.status_code == 422
    assert "différents" in text_of(mismatch.text)

    joined = client.post(
        link.group(1),
        data={
            "password": "une longue phrase",
            "confirmation": "une longue phrase",
            "csrf_token": csrf_of(client, link.group(1)),
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303
    assert "Commune de Sarlat" in client.get("/").text

    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    reused = client.get(link.group(1))
    assert reused.status_code == 410
    assert "a expiré ou a déjà servi" in text_of(reused.text)
    forged = client.get(link.group(1)[:-3] + "abc")
    assert forged.status_code == 400
    assert "n'est pas valable" in text_of(forged.text)


def test_admin_changes_roles_and_cannot_remove_the_last_admin(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session, slug="gourdon")
    admin = make_member(session, authority, Role.admin)
    agent = make_member(session, authority, Role.contributor)
    sign_in(client, admin.email)
    agent_member = session.exec(select(Membership).where(Membership.user_id == agent.id)).one()
    admin_member = session.exec(select(Membership).where(Membership.user_id == admin.id)).one()

    changed = client.post(
        f"/a/gourdon/members/{agent_member.id}",
        data={"roles": ["editor", "approver"], "csrf_token": csrf_of(client, "/a/gourdon")},
    )
    assert changed.status_code == 200, text_of(changed.text)
    reload(session, agent_member)
    assert agent_member.roles == ["editor", "approver"]

    refused = client.post(
        f"/a/gourdon/members/{admin_member.id}/remove",
        data={"csrf_token": csrf_of(client, "/a/gourdon")},
    )
    assert refused.status_code == 409
    assert "au moins un administrateur" in text_of(refused.text)

    client.post(
        f"/a/gourdon/members/{agent_member.id}/remove",
        data={"csrf_token": csrf_of(client, "/a/gourdon")},
    )
    session.rollback()
    assert session.exec(select(Membership).where(Membership.user_id == agent.id)).first() is None
    assert session.get(User, agent.id) is not None  # the person keeps their account


def test_members_page_hides_admin_forms_from_others(client: TestClient, session: Session) -> None:
    authority = make_authority(session, slug="cahors")
    editor = make_member(session, authority, Role.editor)
    sign_in(client, editor.email)
    page = client.get("/a/cahors")
    assert page.status_code == 200
    assert "Inviter une personne" not in page.text
    refused = client.post(
        "/a/cahors/members",
        data={
            "email": "x@cahors.example.org",
            "roles": ["admin"],
            "csrf_token": csrf_of(client, "/a/cahors"),
        },
    )
    assert refused.status_code == 403
