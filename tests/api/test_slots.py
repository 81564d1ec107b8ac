from __future__ import annotations

from datetime import UTC, date, datetime, time

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import clock
from core.accounts.models import Network
from core.authorities.models import Role
from core.calendar import slots
from core.posts.models import PostStatus, Publication, PublicationStatus
from tests.conftest import reload
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_member,
    make_post,
    make_slot,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 December, 09:00 in Paris


def test_slots_crud(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    contributor = make_member(session, town, Role.contributor)
    account = make_account(session, town)
    url = f"/api/v1/authorities/{town.slug}/accounts/{account.id}/slots"
    headers = bearer(session, editor)
    created = client.post(url, json={"weekday": 3, "local_time": "12:15"}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "id": created.json()["id"],
        "account_id": account.id,
        "weekday": 3,
        "weekday_label": "jeudi",
        "local_time": "12:15",
    }
    client.post(url, json={"weekday": 1, "local_time": "18:00"}, headers=headers)
    again = client.post(url, json={"weekday": 3, "local_time": "12:15"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["detail"] == "Ce créneau existe déjà pour ce compte : le jeudi à 12:15."
    bad = client.post(url, json={"weekday": 7, "local_time": "12:15"}, headers=headers)
    assert bad.status_code == 422
    refused = client.post(
        url, json={"weekday": 2, "local_time": "09:00"}, headers=bearer(session, contributor)
    )
    assert refused.status_code == 403
    listed = client.get(url, headers=headers).json()
    assert [(s["weekday_label"], s["local_time"]) for s in listed] == [
        ("mardi", "18:00"),
        ("jeudi", "12:15"),
    ]
    deleted = client.delete(f"{url}/{listed[0]['id']}", headers=headers)
    assert deleted.status_code == 204
    assert [s["local_time"] for s in client.get(url, headers=headers).json()] == ["12:15"]
    other = make_account(session, town)
    wrong = client.delete(
        f"/api/v1/authorities/{town.slug}/accounts/{other.id}/slots/{listed[1]['id']}",
        headers=headers,
    )
    assert wrong.status_code == 404


def test_queue_takes_the_first_slot_free_for_every_target(
    client: TestClient, session: Session
) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    mastodon = make_account(session, town, network=Network.mastodon)
    bluesky = make_account(session, town, network=Network.bluesky)
    # Mastodon: Tuesdays and Thursdays 12:15; Bluesky: Thursdays 12:15 and Fridays 09:00.
    make_slot(session, mastodon, weekday=1, local_time=time(12, 15))
    make_slot(session, mastodon, weekday=3, local_time=time(12, 15))
    make_slot(session, bluesky, weekday=3, local_time=time(12, 15))
    make_slot(session, bluesky, weekday=4, local_time=time(9, 0))
    # Thursday 3 December 12:15 is taken on Bluesky.
    make_post(
        session, town, targets=[bluesky], scheduled_at=datetime(2026, 12, 3, 11, 15, tzinfo=UTC)
    )
    post = make_post(session, town, targets=[mastodon, bluesky], status=PostStatus.approved)
    with clock.frozen(NOW):
        response = client.post(f"/api/v1/posts/{post.id}/queue", headers=bearer(session, editor))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "post_id": post.id,
        "scheduled_at": "2026-12-10T11:15:00Z",
        "local_time": "2026-12-10T12:15+01:00",
    }
    reload(session, post)
    assert post.scheduled_at == datetime(2026, 12, 10, 11, 15, tzinfo=UTC)
    # The approved post's publications follow it.
    rows = session.exec(select(Publication).where(Publication.post_id == post.id)).all()
    assert {(r.status, r.due_at) for r in rows} == {
        (PublicationStatus.scheduled, datetime(2026, 12, 10, 11, 15, tzinfo=UTC))
    }
    # The move is in the post's history, like any other.
    history = client.get(f"/api/v1/posts/{post.id}/history", headers=bearer(session, editor))
    assert [e["kind"] for e in history.json()][-1] == "moved"
    # A single-target post takes Mastodon's next free slot: today 12:15; the next one, Thursday.
    for expected in ("2026-12-01T11:15:00Z", "2026-12-03T11:15:00Z"):
        single = make_post(session, town, targets=[mastodon])
        with clock.frozen(NOW):
            queued = client.post(
                f"/api/v1/posts/{single.id}/queue", headers=bearer(session, editor)
            )
        assert queued.json()["scheduled_at"] == expected


def test_queue_refusals(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    editor = make_member(session, town, Role.editor)
    contributor = make_member(session, town, Role.contributor)
    bare = make_account(session, town, name="Sans créneau")
    post = make_post(session, town, targets=[bare], author=contributor)
    with clock.frozen(NOW):
        no_slots = client.post(f"/api/v1/posts/{post.id}/queue", headers=bearer(session, editor))
        assert no_slots.status_code == 409
        assert no_slots.json()["error"] == "no_slots"
        assert "« Sans créneau » n'a pas de créneau" in no_slots.json()["detail"]
        as_contributor = client.post(
            f"/api/v1/posts/{post.id}/queue", headers=bearer(session, contributor)
        )
        assert as_contributor.status_code == 403
        published = make_post(session, town, targets=[bare], status=PostStatus.published)
        done = client.post(f"/api/v1/posts/{published.id}/queue", headers=bearer(session, editor))
        assert done.status_code == 409
        assert done.json()["error"] == "not_queueable"


def test_slot_in_the_spring_gap_moves_to_the_next_valid_time() -> None:
    # Sunday 29 March 2026, 02:30 does not exist in Paris: the slot goes out at 03:00.
    assert slots.slot_instant(date(2026, 3, 29), time(2, 30), "Europe/Paris") == (
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    )
    # Sunday 25 October 2026, 02:30 exists twice: the first one (UTC+2).
    assert slots.slot_instant(date(2026, 10, 25), time(2, 30), "Europe/Paris") == (
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )
