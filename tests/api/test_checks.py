from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from core.accounts.models import Network
from core.authorities.models import Role
from tests.factories import bearer, make_account, make_authority, make_member, make_post


def test_checks_list_every_finding_per_target(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    x = make_account(session, town, network=Network.x)
    bluesky = make_account(session, town, network=Network.bluesky)
    post = make_post(
        session,
        town,
        targets=[x, bluesky],
        text="é" * 292,
        scheduled_at=datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
        acknowledged=["hashtag_camelcase"],
    )
    with clock.frozen(datetime(2026, 12, 1, tzinfo=UTC)):
        response = client.get(f"/api/v1/posts/{post.id}/checks", headers=bearer(session, editor))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "post_id": post.id,
        "errors": 1,
        "warnings": 0,
        "findings": [
            {
                "code": "text_length",
                "severity": "error",
                "message": "292 caractères sur 280 pour X : raccourcissez le texte de 12 "
                "caractères.",
                "figure": "292 / 280",
                "account_id": x.id,
                "acknowledgeable": False,
                "acknowledged": False,
            }
        ],
    }


def test_contributors_see_only_their_own_posts(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    contributor = make_member(session, town, Role.contributor)
    approver = make_member(session, town, Role.approver)
    account = make_account(session, town)
    mine = make_post(session, town, targets=[account], author=contributor)
    theirs = make_post(session, town, targets=[account])
    headers = bearer(session, contributor)
    assert client.get(f"/api/v1/posts/{mine.id}/checks", headers=headers).status_code == 200
    hidden = client.get(f"/api/v1/posts/{theirs.id}/checks", headers=headers)
    assert hidden.status_code == 404
    assert hidden.json()["error"] == "not_found"
    approver_headers = bearer(session, approver)
    assert (
        client.get(f"/api/v1/posts/{theirs.id}/checks", headers=approver_headers).status_code == 200
    )
    assert client.get("/api/v1/posts/999999/checks", headers=headers).status_code == 404
