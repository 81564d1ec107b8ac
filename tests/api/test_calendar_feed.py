from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlmodel import Session

from core import clock
from core.accounts.models import Network
from core.authorities.models import Role
from core.posts.models import PostStatus
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_member,
    make_pillar,
    make_post,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _events(body: bytes) -> list:  # type: ignore[type-arg]
    return list(Calendar.from_ical(body).walk("VEVENT"))


def test_feed_parsed_back_in_the_authority_timezone(client: TestClient, session: Session) -> None:
    town = make_authority(session, name="Saint-Denis", timezone="Indian/Reunion")
    editor = make_member(session, town, Role.editor)
    account = make_account(session, town, network=Network.mastodon, name="Ville")
    pillar = make_pillar(session, town, name="Culture")
    approved = make_post(
        session,
        town,
        targets=[account],
        text="Concert gratuit au jardin de l'État samedi soir.",
        pillar_id=pillar.id,
        status=PostStatus.approved,
        scheduled_at=datetime(2026, 12, 5, 14, 30, tzinfo=UTC),  # 18:30 in La Réunion
    )
    draft = make_post(
        session, town, targets=[account], scheduled_at=datetime(2026, 12, 7, 5, tzinfo=UTC)
    )
    make_post(session, town, targets=[account])  # no time: not in the feed
    make_post(
        session,
        town,
        targets=[account],
        status=PostStatus.cancelled,
        scheduled_at=datetime(2026, 12, 8, 5, tzinfo=UTC),
    )
    with clock.frozen(NOW):
        headers = bearer(session, editor)
        created = client.post(
            f"/api/v1/authorities/{town.slug}/calendar/feed-token", headers=headers
        )
        assert created.status_code == 201
        url = created.json()["url"]
        assert url.startswith("http")
        token = created.json()["token"]
        # Calendar apps send no header: the token is the credential.
        response = client.get(f"/api/v1/authorities/{town.slug}/calendar.ics?token={token}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert calendar["X-WR-TIMEZONE"] == "Indian/Reunion"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Indian/Reunion"]
    events = _events(response.content)
    assert [str(e["UID"]).split("@")[0] for e in events] == [
        f"post-{approved.id}",
        f"post-{draft.id}",
    ]
    first = events[0]
    start = first.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (18, 30, "Indian/Reunion")
    assert start == datetime(2026, 12, 5, 14, 30, tzinfo=UTC)
    assert first["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert str(first["SUMMARY"]) == "[Culture] Concert gratuit au jardin de l'État samedi soir."
    assert "Réseaux : Mastodon (Ville)" in str(first["DESCRIPTION"])
    assert "État : Validée" in str(first["DESCRIPTION"])
    assert str(first["STATUS"]) == "CONFIRMED"
    assert str(events[1]["STATUS"]) == "TENTATIVE"

    # Moving a post moves its event.
    approved.scheduled_at = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
    session.add(approved)
    session.commit()
    with clock.frozen(NOW):
        moved = _events(
            client.get(f"/api/v1/authorities/{town.slug}/calendar.ics?token={token}").content
        )
    assert moved[0].decoded("DTSTART") == datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def test_tokens_are_revocable_and_per_member(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    other_town = make_authority(session)
    contributor = make_member(session, town, Role.contributor)
    account = make_account(session, town)
    mine = make_post(
        session,
        town,
        targets=[account],
        author=contributor,
        scheduled_at=datetime(2026, 12, 3, 9, tzinfo=UTC),
    )
    make_post(session, town, targets=[account], scheduled_at=datetime(2026, 12, 4, 9, tzinfo=UTC))
    with clock.frozen(NOW):
        headers = bearer(session, contributor)
        base = f"/api/v1/authorities/{town.slug}"
        token = client.post(f"{base}/calendar/feed-token", headers=headers).json()["token"]
        events = _events(client.get(f"{base}/calendar.ics?token={token}").content)
        # A contributor's feed has only their own posts.
        assert [str(e["UID"]).split("@")[0] for e in events] == [f"post-{mine.id}"]
        # Another authority's slug with this token: unknown.
        elsewhere = client.get(f"/api/v1/authorities/{other_town.slug}/calendar.ics?token={token}")
        assert elsewhere.status_code == 404
        assert client.get(f"{base}/calendar.ics").status_code == 404
        assert client.get(f"{base}/calendar.ics?token=bfc_faux").status_code == 404
        # A new token replaces the old one.
        newer = client.post(f"{base}/calendar/feed-token", headers=headers).json()["token"]
        assert client.get(f"{base}/calendar.ics?token={token}").status_code == 404
        assert client.get(f"{base}/calendar.ics?token={newer}").status_code == 200
        # Revoked: the feed stops at once, with a French sentence.
        assert client.delete(f"{base}/calendar/feed-token", headers=headers).status_code == 204
        gone = client.get(f"{base}/calendar.ics?token={newer}")
    assert gone.status_code == 404
    assert gone.json()["detail"].startswith("Ce lien d'agenda n'existe pas ou a été révoqué")
