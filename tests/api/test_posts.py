"""Posts and their workflow through the API, for each role (DESIGN.md section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account
from core.authorities.models import Authority, Role
from core.config import Settings
from core.editorial.models import PillarApprover
from core.mail.models import OutboundEmail
from core.posts.models import ApprovalLink, Post, PostStatus, Publication, PublicationStatus
from core.users.models import User
from tests.conftest import reload
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_election,
    make_media,
    make_member,
    make_pillar,
    make_post,
)

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


@dataclass
class Team:
    authority: Authority
    admin: User
    editor: User
    approver: User
    deputy: User
    contributor: User
    accounts: list[Account]

    def h(self, session: Session, user: User) -> dict[str, str]:
        return bearer(session, user)


@pytest.fixture
def team(session: Session) -> Team:
    authority = make_authority(session, name="Commune de Brive", slug="brive")
    return Team(
        authority=authority,
        admin=make_member(session, authority, Role.admin, name="Anne Admin"),
        editor=make_member(session, authority, Role.editor, name="Camille Com"),
        approver=make_member(session, authority, Role.approver, name="Hélène Maire"),
        deputy=make_member(session, authority, Role.approver, name="Marc Adjoint"),
        contributor=make_member(session, authority, Role.contributor, name="Karim Agent"),
        accounts=[make_account(session, authority), make_account(session, authority)],
    )


def outbox(session: Session, template: str) -> list[OutboundEmail]:
    session.rollback()
    rows = session.exec(select(OutboundEmail).where(OutboundEmail.template == template))
    return sorted(rows, key=lambda e: e.to_address)


def kinds(client: TestClient, post_id: int, headers: dict[str, str]) -> list[str]:
    return [
        e["kind"] for e in client.get(f"/api/v1/posts/{post_id}/history", headers=headers).json()
    ]


def test_the_whole_workflow_through_the_api(
    client: TestClient, session: Session, team: Team
) -> None:
    agent = bearer(session, team.contributor)
    editor = bearer(session, team.editor)
    mayor = bearer(session, team.approver)
    a1, a2 = team.accounts
    with clock.frozen(NOW):
        # A contributor proposes a post with a suggested date (local time of the authority).
        created = client.post(
            "/api/v1/authorities/brive/posts",
            headers=agent,
            json={
                "text": "La piscine rouvre lundi !",
                "targets": [
                    {"account_id": a1.id},
                    {"account_id": a2.id, "text": "Piscine : lundi"},
                ],
                "suggested_at": "2026-06-10T09:00:00",
            },
        )
        assert created.status_code == 201, created.text
        post = created.json()
        assert post["status"] == "draft"
        assert post["version"] == 1
        assert post["suggested_at"] == "2026-06-10T07:00:00Z"  # 09:00 in Paris, summer time
        assert [(t["account_id"], t["status"], t["text"]) for t in post["targets"]] == [
            (a1.id, "pending", None),
            (a2.id, "pending", "Piscine : lundi"),
        ]
        pid = post["id"]
        # Only editors set the time.
        refused = client.patch(
            f"/api/v1/posts/{pid}", headers=agent, json={"scheduled_at": "2026-06-10T09:00:00"}
        )
        assert refused.status_code == 403
        assert "suggested_at" in refused.json()["detail"]

        submitted = client.post(f"/api/v1/posts/{pid}/submit", headers=agent)
        assert submitted.status_code == 200, submitted.text
        assert submitted.json()["status"] == "in_review"
        asked = outbox(session, "approval_request")
        assert [e.to_address for e in asked] == sorted([team.approver.email, team.deputy.email])
        assert asked[0].context["text"] == "La piscine rouvre lundi !"
        assert asked[0].context["link"].startswith("http://testserver/approval/")

        # The approver sees what waits for them.
        waiting = client.get(
            "/api/v1/authorities/brive/posts?status=in_review&awaiting=me", headers=mayor
        ).json()
        assert [p["id"] for p in waiting] == [pid]
        assert (
            client.get("/api/v1/authorities/brive/posts?awaiting=me", headers=editor).json() == []
        )

        # Changes requested need a comment; they send the post back to draft.
        no_comment = client.post(f"/api/v1/posts/{pid}/request-changes", headers=mayor, json={})
        assert no_comment.status_code == 422
        assert no_comment.json()["error"] == "comment_required"
        changes = client.post(
            f"/api/v1/posts/{pid}/request-changes",
            headers=mayor,
            json={"comment": "Précisez les horaires."},
        )
        assert changes.json()["status"] == "draft"
        told = outbox(session, "post_decision")
        assert sorted(e.to_address for e in told) == sorted(
            [team.contributor.email, team.editor.email]
        )
        assert told[0].context["comment"] == "Précisez les horaires."
        comments = client.get(f"/api/v1/posts/{pid}/comments", headers=agent).json()
        assert [(c["actor_name"], c["comment"]) for c in comments] == [
            ("Hélène Maire", "Précisez les horaires.")
        ]

        # The editor rewrites it, sets its time and submits it again.
        edited = client.patch(
            f"/api/v1/posts/{pid}",
            headers=editor,
            json={
                "text": "La piscine rouvre lundi à 10 h !",
                "scheduled_at": "2026-06-10T10:00:00+02:00",
            },
        ).json()
        assert edited["version"] == 2
        assert edited["scheduled_at"] == "2026-06-10T08:00:00Z"
        assert client.post(f"/api/v1/posts/{pid}/submit", headers=editor).status_code == 200
        approved = client.post(
            f"/api/v1/posts/{pid}/approve", headers=mayor, json={"comment": "Parfait."}
        ).json()
        assert approved["status"] == "approved"
        assert approved["approved_by_id"] == team.approver.id
        assert [t["status"] for t in approved["targets"]] == ["scheduled", "scheduled"]
        session.rollback()
        pubs = session.exec(select(Publication).where(Publication.post_id == pid)).all()
        assert {p.due_at for p in pubs} == {datetime(2026, 6, 10, 8, 0, tzinfo=UTC)}

        # Moving it in time keeps the approval and moves its publications.
        moved = client.patch(
            f"/api/v1/posts/{pid}", headers=editor, json={"scheduled_at": "2026-06-11T10:00:00"}
        ).json()
        assert moved["status"] == "approved"
        assert moved["version"] == 2
        session.rollback()
        pubs = session.exec(select(Publication).where(Publication.post_id == pid)).all()
        assert {(p.status, p.due_at) for p in pubs} == {
            (PublicationStatus.scheduled, datetime(2026, 6, 11, 8, 0, tzinfo=UTC))
        }

        # Changing its content sends it back to review and stops its publications.
        back = client.patch(
            f"/api/v1/posts/{pid}",
            headers=editor,
            json={"targets": [{"account_id": a1.id}]},
        ).json()
        assert back["status"] == "in_review"
        assert back["version"] == 3
        assert back["approved_by_id"] is None
        assert [(t["account_id"], t["status"]) for t in back["targets"]] == [(a1.id, "pending")]

        # Cancelled before it went out: nothing had been sent.
        cancelled = client.post(f"/api/v1/posts/{pid}/cancel", headers=editor).json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["already_sent"] == []
        assert [t["status"] for t in cancelled["targets"]] == ["cancelled"]

    history = client.get(f"/api/v1/posts/{pid}/history", headers=editor).json()
    assert [(e["kind"], e["version"], e["actor_name"]) for e in history] == [
        ("created", 1, "Karim Agent"),
        ("submitted", 1, "Karim Agent"),
        ("changes_requested", 1, "Hélène Maire"),
        ("edited", 2, "Camille Com"),
        ("moved", 2, "Camille Com"),
        ("submitted", 2, "Camille Com"),
        ("approved", 2, "Hélène Maire"),
        ("moved", 2, "Camille Com"),
        ("edited", 3, "Camille Com"),
        ("back_to_review", 3, "Camille Com"),
        ("cancelled", 3, "Camille Com"),
    ]
    assert {e["channel"] for e in history} == {"api"}
    # Every link sent for this post stopped working.
    session.rollback()
    links = session.exec(select(ApprovalLink).where(ApprovalLink.post_id == pid)).all()
    # Two approvers asked three times: two submissions and the return to review.
    assert len(links) == 6
    assert [link.revoked_at is not None for link in links] == [True] * 6


def test_a_transition_that_does_not_exist_is_409_naming_the_state(
    client: TestClient, session: Session, team: Team
) -> None:
    post = make_post(session, team.authority, targets=team.accounts[:1], author=team.editor)
    response = client.post(
        f"/api/v1/posts/{post.id}/approve", headers=bearer(session, team.approver)
    )
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "invalid_transition"
    assert body["status"] == "draft"
    assert body["allowed"] == ["submit", "publish_urgent", "cancel"]
    assert body["detail"] == (
        "Cette publication est « Brouillon » : impossible de la valider. Depuis cet état, on "
        "peut : l'envoyer en validation, la publier en urgence sans validation, l'annuler."
    )
    published = make_post(session, team.authority, status=PostStatus.published)
    done = client.post(f"/api/v1/posts/{published.id}/cancel", headers=bearer(session, team.editor))
    assert done.status_code == 409
    assert "rien, elle est terminée" in done.json()["detail"]


def test_designated_approvers_route_the_approval(
    client: TestClient, session: Session, team: Team
) -> None:
    works = make_pillar(session, team.authority, name="Travaux")
    session.add(
        PillarApprover(pillar_id=works.id, user_id=team.deputy.id, authority_id=team.authority.id)  # type: ignore[arg-type]
    )
    session.commit()
    post = make_post(
        session,
        team.authority,
        targets=team.accounts[:1],
        author=team.editor,
        pillar_id=works.id,
        status=PostStatus.in_review,
    )
    mayor = bearer(session, team.approver)
    refused = client.post(f"/api/v1/posts/{post.id}/approve", headers=mayor)
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Cette publication relève de la thématique « Travaux », dont les valideurs désignés "
        "sont : Marc Adjoint. Vous n'en faites pas partie : c'est à l'un·e d'eux de décider."
    )
    assert client.get("/api/v1/authorities/brive/posts?awaiting=me", headers=mayor).json() == []
    deputy = bearer(session, team.deputy)
    assert [
        p["id"]
        for p in client.get("/api/v1/authorities/brive/posts?awaiting=me", headers=deputy).json()
    ] == [post.id]
    assert client.post(f"/api/v1/posts/{post.id}/approve", headers=deputy).json()["status"] == (
        "approved"
    )
    # An admin who is not an approver never approves.
    other = make_post(
        session, team.authority, targets=team.accounts[:1], status=PostStatus.in_review
    )
    admin = client.post(f"/api/v1/posts/{other.id}/approve", headers=bearer(session, team.admin))
    assert admin.status_code == 403


def test_an_urgent_post_goes_out_without_approval_and_says_so(
    client: TestClient, session: Session, team: Team
) -> None:
    alerts = make_pillar(session, team.authority, name="Alertes", urgent=True)
    culture = make_pillar(session, team.authority, name="Culture")
    editor = bearer(session, team.editor)
    approver = bearer(session, team.approver)
    with clock.frozen(NOW):
        normal = make_post(session, team.authority, targets=team.accounts, pillar_id=culture.id)
        refused = client.post(f"/api/v1/posts/{normal.id}/publish-urgent", headers=editor)
        assert refused.status_code == 409
        assert refused.json()["error"] == "not_urgent"
        alert = make_post(session, team.authority, targets=team.accounts, pillar_id=alerts.id)
        done = client.post(
            f"/api/v1/posts/{alert.id}/publish-urgent",
            headers=editor,
            json={"comment": "Crue de la Corrèze"},
        ).json()
    assert done["status"] == "approved"
    assert done["urgent_without_approval"] is True
    assert done["scheduled_at"] == "2026-06-01T08:00:00Z"
    assert [t["status"] for t in done["targets"]] == ["scheduled", "scheduled"]
    assert kinds(client, alert.id, editor) == ["published_urgent"]  # type: ignore[arg-type]
    contributor_post = make_post(
        session, team.authority, targets=team.accounts, pillar_id=alerts.id
    )
    refused_approver = client.post(
        f"/api/v1/posts/{contributor_post.id}/publish-urgent", headers=approver
    )
    assert refused_approver.status_code == 403


def test_moving_into_a_pre_electoral_period_sends_it_back_to_review(
    client: TestClient, session: Session, team: Team
) -> None:
    make_election(session, team.authority, first_round=date(2027, 3, 14), second_round=None)
    editor = bearer(session, team.editor)
    with clock.frozen(NOW):
        post = make_post(
            session,
            team.authority,
            targets=team.accounts[:1],
            status=PostStatus.approved,
            scheduled_at=datetime(2026, 6, 20, 8, 0, tzinfo=UTC),
        )
        kept = client.patch(
            f"/api/v1/posts/{post.id}", headers=editor, json={"scheduled_at": "2026-07-01T10:00:00"}
        ).json()
        assert kept["status"] == "approved"
        # The period starts on 1 September 2026 (sixth month before March 2027).
        back = client.patch(
            f"/api/v1/posts/{post.id}", headers=editor, json={"scheduled_at": "2026-09-02T10:00:00"}
        ).json()
    assert back["status"] == "in_review"
    assert [t["status"] for t in back["targets"]] == ["pending"]
    history = client.get(f"/api/v1/posts/{post.id}/history", headers=editor).json()
    assert history[-1]["kind"] == "back_to_review"
    assert history[-1]["data"] == {
        "reason": "electoral",
        "from": "approved",
        "windows": ["pre_electoral"],
    }


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"text": "   "}, 422, "Le texte de la publication est vide"),
        ({"text": "x", "scheduled_at": "2026-05-01T10:00:00+02:00"}, 422, "déjà passée"),
        ({"text": "x", "scheduled_at": "2027-03-28T02:30:00"}, 422, "heure d'été"),
        ({"text": "x", "scheduled_at": "2026-07-01T10:00:00+25:00"}, 422, "scheduled_at"),
        ({"text": "x", "scheduled_at": "demain"}, 422, "scheduled_at"),
        ({"text": "x", "scheduled_at": "9999-12-31T23:59:00"}, 422, "trop lointaine"),
        ({"text": "x", "pillar_id": "OTHER_PILLAR"}, 422, "thématique"),
        ({"text": "x", "targets": [{"account_id": "OTHER_ACCOUNT"}]}, 422, "Compte(s) inconnu(s)"),
        ({"text": "x", "media_ids": ["OTHER_MEDIA"]}, 422, "médiathèque"),
        (
            {"text": "x", "targets": [{"account_id": "OWN"}, {"account_id": "OWN"}]},
            422,
            "deux fois",
        ),
    ],
)
def test_bad_input_is_a_precise_4xx_and_writes_nothing(
    client: TestClient,
    session: Session,
    settings: Settings,
    team: Team,
    body: dict[str, object],
    status: int,
    fragment: str,
) -> None:
    other = make_authority(session)
    values = {
        "OTHER_PILLAR": make_pillar(session, other).id,
        "OTHER_ACCOUNT": make_account(session, other).id,
        "OWN": team.accounts[0].id,
    }
    if "media_ids" in body:
        values["OTHER_MEDIA"] = make_media(session, settings, other).id

    def fill(value: object) -> object:
        if isinstance(value, str) and value in values:
            return values[value]
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    with clock.frozen(NOW):
        response = client.post(
            "/api/v1/authorities/brive/posts", headers=bearer(session, team.editor), json=fill(body)
        )
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    session.rollback()
    assert session.exec(select(Post)).all() == []


def test_unknown_and_foreign_posts_are_404(
    client: TestClient, session: Session, team: Team
) -> None:
    other = make_authority(session)
    foreign = make_post(session, other)
    editor = bearer(session, team.editor)
    for post_id in (foreign.id, 999_999):
        response = client.get(f"/api/v1/posts/{post_id}", headers=editor)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_a_media_used_by_a_post_and_an_account_with_scheduled_posts_cannot_be_deleted(
    client: TestClient, session: Session, settings: Settings, team: Team
) -> None:
    media = make_media(session, settings, team.authority)
    admin = bearer(session, team.admin)
    with clock.frozen(NOW):
        created = client.post(
            "/api/v1/authorities/brive/posts",
            headers=admin,
            json={
                "text": "Vue de la mairie",
                "media_ids": [media.id],
                "targets": [{"account_id": team.accounts[0].id}],
                "scheduled_at": "2026-06-05T10:00:00",
            },
        ).json()
    library = client.get(f"/api/v1/authorities/brive/media/{media.id}", headers=admin).json()
    assert [(u["kind"], u["id"]) for u in library["usage"]] == [("post", created["id"])]
    refused = client.delete(f"/api/v1/authorities/brive/media/{media.id}", headers=admin)
    assert refused.status_code == 409
    assert "publication n° " in refused.json()["detail"]

    make_post(
        session,
        team.authority,
        targets=team.accounts[1:],
        status=PostStatus.approved,
        scheduled_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    gone = client.delete(f"/api/v1/authorities/brive/accounts/{team.accounts[1].id}", headers=admin)
    assert gone.status_code == 409
    assert "programmée" in gone.json()["detail"]
    session.rollback()
    assert session.get(Account, team.accounts[1].id) is not None


def test_contributors_see_and_change_only_their_own_posts(
    client: TestClient, session: Session, team: Team
) -> None:
    agent = bearer(session, team.contributor)
    own = make_post(session, team.authority, targets=team.accounts[:1], author=team.contributor)
    others = make_post(session, team.authority, targets=team.accounts[:1], author=team.editor)
    listed = client.get("/api/v1/authorities/brive/posts", headers=agent).json()
    assert [p["id"] for p in listed] == [own.id]
    assert client.get(f"/api/v1/posts/{others.id}", headers=agent).status_code == 404
    assert (
        client.patch(
            f"/api/v1/posts/{own.id}", headers=agent, json={"text": "Nouveau texte"}
        ).json()["text"]
        == "Nouveau texte"
    )
    own.status = PostStatus.approved
    session.add(own)
    session.commit()
    late = client.patch(f"/api/v1/posts/{own.id}", headers=agent, json={"text": "Encore"})
    assert late.status_code == 403
    reload(session, own)
    assert own.text == "Nouveau texte"


def test_filters_of_the_list(client: TestClient, session: Session, team: Team) -> None:
    works = make_pillar(session, team.authority)
    a1, a2 = team.accounts
    june = make_post(
        session, team.authority, targets=[a1], scheduled_at=datetime(2030, 6, 3, 8, tzinfo=UTC)
    )
    july = make_post(
        session,
        team.authority,
        targets=[a2],
        scheduled_at=datetime(2030, 7, 3, 8, tzinfo=UTC),
        pillar_id=works.id,
        status=PostStatus.in_review,
    )
    editor = bearer(session, team.editor)

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/authorities/brive/posts?{query}", headers=editor)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()]

    assert ids("") == [june.id, july.id]
    assert ids("from=2030-07-01T00:00:00") == [july.id]
    assert ids("to=2030-07-01T00:00:00%2B02:00") == [june.id]
    assert ids("status=in_review") == [july.id]
    assert ids(f"pillar={works.id}") == [july.id]
    assert ids(f"account={a1.id}") == [june.id]
    bad = client.get("/api/v1/authorities/brive/posts?status=perdu", headers=editor)
    assert bad.status_code == 422
    assert session.exec(select(Post).where(col(Post.id) > 0)).all()


def test_cancel_says_where_the_post_had_already_gone_out(
    client: TestClient, session: Session, team: Team
) -> None:
    a1, a2 = team.accounts
    post = make_post(
        session,
        team.authority,
        targets=[a1, a2],
        status=PostStatus.approved,
        scheduled_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    first = session.exec(
        select(Publication).where(Publication.post_id == post.id, Publication.account_id == a1.id)
    ).one()
    first.status = PublicationStatus.published
    first.remote_url = "https://social.example.org/@ville/1"
    session.add(first)
    session.commit()
    editor = bearer(session, team.editor)
    edit = client.patch(f"/api/v1/posts/{post.id}", headers=editor, json={"text": "Autre texte"})
    assert edit.status_code == 409
    assert edit.json()["account_ids"] == [a1.id]
    cancelled = client.post(f"/api/v1/posts/{post.id}/cancel", headers=editor).json()
    assert cancelled["status"] == "cancelled"
    assert [(t["account_id"], t["status"], t["remote_url"]) for t in cancelled["already_sent"]] == [
        (a1.id, "published", "https://social.example.org/@ville/1")
    ]
    assert [(t["account_id"], t["status"]) for t in cancelled["targets"]] == [
        (a1.id, "published"),
        (a2.id, "cancelled"),
    ]
    history = client.get(f"/api/v1/posts/{post.id}/history", headers=editor).json()
    assert history[-1]["data"] == {"already_sent": [a1.id]}
