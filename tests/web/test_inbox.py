"""The approval inbox: what waits for the signed-in elected official, as it will appear, with the
rules' warnings; approve, ask for changes, reject; refusals explained in French."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.authorities.models import Role
from core.config import Settings
from core.editorial.models import PillarApprover
from core.posts import approvals
from core.posts.models import Post, PostEvent, PostStatus
from tests.conftest import reload
from tests.factories import make_account, make_authority, make_election, make_member, make_pillar
from tests.factories import make_post as _make_post
from tests.web.helpers import csrf_of, sign_in, text_of

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 6, 5, 16, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock() -> object:
    with clock.frozen(NOW):
        yield


def make_post(session: Session, authority: object, **overrides: object) -> Post:
    return _make_post(
        session, authority, status=PostStatus.in_review, scheduled_at=LATER, **overrides
    )  # type: ignore[arg-type]


@pytest.fixture
def town(session: Session) -> dict[str, object]:
    authority = make_authority(session, name="Commune de Cahors", slug="cahors")
    mayor = make_member(session, authority, Role.approver, name="Hélène Maire")
    editor = make_member(session, authority, Role.editor, name="Camille Com")
    account = make_account(session, authority, name="Cahors sur Mastodon", handle="@cahors")
    post = make_post(
        session,
        authority,
        targets=[account],
        author=editor,
        text="Fête de la musique place François-Mitterrand : scènes ouvertes dès 18 h.",
    )
    return {
        "authority": authority,
        "mayor": mayor,
        "editor": editor,
        "account": account,
        "post": post,
    }


def test_the_inbox_shows_each_waiting_post_as_it_will_appear(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    page = client.get("/a/cahors/approvals")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Publications qui attendent votre décision : 1." in text
    assert "Mastodon Cahors sur Mastodon @cahors" in text
    assert "scènes ouvertes dès 18 h." in text
    assert "05/06/2026 à 18:00" in text  # Paris time
    assert "Rédigée par Camille Com" in text
    assert 'action="/a/cahors/approvals/' in page.text


def test_approve_in_one_tap_then_back_to_the_inbox_with_a_confirmation(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    post = town["post"]
    assert isinstance(post, Post)
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    answer = client.post(
        f"/a/cahors/approvals/{post.id}/approve",
        data={"csrf_token": csrf_of(client, "/a/cahors/approvals")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/a/cahors/approvals?done=approved"
    page = client.get(answer.headers["location"])
    text = text_of(page.text)
    assert "Publication validée : elle partira à l'heure prévue." in text
    assert "Rien à valider pour le moment." in text
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.approved_by_id == town["mayor"].id  # type: ignore[attr-defined]
    event = session.exec(select(PostEvent).where(PostEvent.post_id == post.id)).all()[-1]
    assert event.kind == "approved"
    assert event.channel == "web"


def test_asking_for_changes_needs_a_comment_and_keeps_nothing_half_done(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    post = town["post"]
    assert isinstance(post, Post)
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    csrf = csrf_of(client, "/a/cahors/approvals")
    empty = client.post(
        f"/a/cahors/approvals/{post.id}/request-changes",
        data={"csrf_token": csrf, "comment": "   "},
    )
    assert empty.status_code == 422
    assert "Expliquez votre décision dans un commentaire" in text_of(empty.text)
    reload(session, post)
    assert post.status == PostStatus.in_review

    done = client.post(
        f"/a/cahors/approvals/{post.id}/request-changes",
        data={"csrf_token": csrf, "comment": "Précisez l'heure de fin, s'il vous plaît."},
    )
    assert done.status_code == 200
    assert "Demande de modifications envoyée" in text_of(done.text)
    reload(session, post)
    assert post.status == PostStatus.draft
    event = session.exec(select(PostEvent).where(PostEvent.post_id == post.id)).all()[-1]
    assert event.kind == "changes_requested"
    assert event.comment == "Précisez l'heure de fin, s'il vous plaît."


def test_reject_with_a_comment(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    post = town["post"]
    assert isinstance(post, Post)
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    done = client.post(
        f"/a/cahors/approvals/{post.id}/reject",
        data={
            "csrf_token": csrf_of(client, "/a/cahors/approvals"),
            "comment": "Pas pendant la période de deuil.",
        },
    )
    assert "Publication refusée" in text_of(done.text)
    reload(session, post)
    assert post.status == PostStatus.rejected


def test_a_warning_to_acknowledge_is_shown_and_required(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session, name="Commune de Rodez", slug="rodez")
    mayor = make_member(session, authority, Role.approver)
    account = make_account(session, authority)
    pillar = make_pillar(session, authority, name="Réalisations", promotes_achievements=True)
    make_election(session, authority, first_round=date(2026, 9, 20), second_round=None)
    post = make_post(session, authority, targets=[account], pillar_id=pillar.id)
    sign_in(client, mayor.email)
    page = client.get("/a/rodez/approvals")
    text = text_of(page.text)
    assert "Avertissement" in text
    assert "Je prends acte de ces avertissements" in text
    assert 'value="pre_electoral_achievements"' in page.text

    csrf = csrf_of(client, "/a/rodez/approvals")
    refused = client.post(f"/a/rodez/approvals/{post.id}/approve", data={"csrf_token": csrf})
    assert refused.status_code == 422
    assert "ne respecte pas encore toutes les règles" in text_of(refused.text)
    reload(session, post)
    assert post.status == PostStatus.in_review

    done = client.post(
        f"/a/rodez/approvals/{post.id}/approve",
        data={"csrf_token": csrf, "acknowledge": ["pre_electoral_achievements"]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.acknowledged == ["pre_electoral_achievements"]


def test_only_the_designated_approver_sees_and_decides(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    authority = town["authority"]
    deputy = make_member(session, authority, Role.approver, name="Adjoint Culture")  # type: ignore[arg-type]
    pillar = make_pillar(session, authority, name="Culture")  # type: ignore[arg-type]
    session.add(
        PillarApprover(pillar_id=pillar.id, user_id=deputy.id, authority_id=authority.id)  # type: ignore[arg-type,attr-defined]
    )
    session.commit()
    culture = make_post(
        session, authority, targets=[town["account"]], pillar_id=pillar.id, text="Concert."
    )
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    page = client.get("/a/cahors/approvals")
    assert "Concert." not in text_of(page.text)
    refused = client.post(
        f"/a/cahors/approvals/{culture.id}/approve",
        data={"csrf_token": csrf_of(client, "/a/cahors/approvals")},
    )
    assert refused.status_code == 403
    assert "valideurs désignés sont : Adjoint Culture" in text_of(refused.text)
    reload(session, culture)
    assert culture.status == PostStatus.in_review


def test_people_who_do_not_approve_and_other_authorities(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    post = town["post"]
    assert isinstance(post, Post)
    sign_in(client, town["editor"].email)  # type: ignore[attr-defined]
    page = client.get("/a/cahors/approvals")
    assert "Seul·es les élu·es ayant le rôle de valideur" in text_of(page.text)
    refused = client.post(
        f"/a/cahors/approvals/{post.id}/approve",
        data={"csrf_token": csrf_of(client, "/a/cahors/approvals")},
    )
    assert refused.status_code == 403

    other = make_authority(session, slug="figeac")
    stranger = make_member(session, other, Role.approver)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, stranger.email)
    assert client.get("/a/cahors/approvals").status_code == 404
    answer = client.post(
        f"/a/figeac/approvals/{post.id}/approve",
        data={"csrf_token": csrf_of(client, "/a/figeac/approvals")},
    )
    assert answer.status_code == 404
    reload(session, post)
    assert post.status == PostStatus.in_review


def test_a_form_without_csrf_is_refused(
    client: TestClient, session: Session, town: dict[str, object]
) -> None:
    post = town["post"]
    assert isinstance(post, Post)
    sign_in(client, town["mayor"].email)  # type: ignore[attr-defined]
    answer = client.post(f"/a/cahors/approvals/{post.id}/approve", data={})
    assert answer.status_code == 403
    reload(session, post)
    assert post.status == PostStatus.in_review


def test_the_email_link_page_shows_the_warnings_and_takes_the_acknowledgement(
    client: TestClient, session: Session, settings: Settings
) -> None:
    authority = make_authority(session, name="Commune de Rodez", slug="rodez")
    mayor = make_member(session, authority, Role.approver, name="Hélène Maire")
    account = make_account(session, authority, name="Rodez sur Mastodon")
    pillar = make_pillar(session, authority, name="Réalisations", promotes_achievements=True)
    make_election(session, authority, first_round=date(2026, 9, 20), second_round=None)
    post = make_post(
        session,
        authority,
        targets=[account],
        pillar_id=pillar.id,
        text="La nouvelle médiathèque ouvre ses portes. #mediatheque",
    )
    token = approvals.issue(session, settings, post=post, user=mayor)
    session.commit()
    path = f"/approval/{token}"
    page = client.get(path)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Avertissement Le hashtag #mediatheque n'est pas écrit en CamelCase" in text
    assert "période préélectorale" in text
    assert "Je prends acte de ces avertissements" in text
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text)
    assert match is not None

    refused = client.post(f"{path}/approve", data={"form_token": match.group(1)})
    assert refused.status_code == 422
    assert "ne respecte pas encore toutes les règles" in text_of(refused.text)
    reload(session, post)
    assert post.status == PostStatus.in_review

    done = client.post(
        f"{path}/approve",
        data={"form_token": match.group(1), "acknowledge": "pre_electoral_achievements"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    reload(session, post)
    assert post.status == PostStatus.approved
    assert post.acknowledged == ["pre_electoral_achievements"]
