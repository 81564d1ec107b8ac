"""Daylight saving in Europe/Paris: posts at 02:30 and 03:00 local on the spring and autumn change
days are due at the right instant (or refused with a suggestion when the time does not exist),
and the claim takes them at that instant, not a moment earlier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.authorities.models import Role
from core.posts import publications
from core.posts.models import Post
from core.publishing import claim as claims
from tests.factories import bearer, make_account, make_authority, make_member

LEASE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        ("2027-03-28T03:00:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),  # first summer minute
        ("2027-10-31T02:30:00", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # first occurrence
        ("2027-10-31T03:00:00", datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),  # after the change
        ("2027-03-28T01:59:00", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),
    ],
)
def test_a_post_on_a_change_day_is_claimed_at_its_instant(
    client: TestClient, session: Session, db: Engine, local: str, expected_utc: datetime
) -> None:
    authority = make_authority(session, timezone="Europe/Paris")
    editor = make_member(session, authority, Role.editor)
    mayor = make_member(session, authority, Role.approver)
    account = make_account(session, authority)
    created = client.post(
        f"/api/v1/authorities/{authority.slug}/posts",
        headers=bearer(session, editor),
        json={
            "text": "Changement d'heure : pensez à régler vos horloges.",
            "targets": [{"account_id": account.id}],
            "scheduled_at": local,
        },
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]
    assert (
        client.post(f"/api/v1/posts/{post_id}/submit", headers=bearer(session, editor)).status_code
        == 200
    )
    approved = client.post(f"/api/v1/posts/{post_id}/approve", headers=bearer(session, mayor))
    assert approved.status_code == 200, approved.text

    session.rollback()
    post = session.get(Post, post_id)
    assert post is not None
    (publication,) = publications.of_post(session, post)
    assert publication.due_at == expected_utc

    just_before = expected_utc - timedelta(milliseconds=1)
    assert claims.claim(db, worker="w", lease=LEASE, limit=5, now=just_before) == []
    assert claims.claim(db, worker="w", lease=LEASE, limit=5, now=expected_utc) == [publication.id]


def test_the_missing_spring_half_hour_is_refused_with_a_suggestion(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session, timezone="Europe/Paris")
    editor = make_member(session, authority, Role.editor)
    account = make_account(session, authority)
    answer = client.post(
        f"/api/v1/authorities/{authority.slug}/posts",
        headers=bearer(session, editor),
        json={
            "text": "Changement d'heure.",
            "targets": [{"account_id": account.id}],
            "scheduled_at": "2027-03-28T02:30:00",
        },
    )
    assert answer.status_code == 422
    assert "heure d'été" in answer.json()["detail"]
    assert "03:" in answer.json()["detail"]
