from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core import clock
from core.accounts.models import Network
from core.authorities.models import Role
from core.editorial.models import Audience, Objective
from core.posts.models import PostAudience, PostObjective, PostStatus
from tests.factories import (
    bearer,
    make_account,
    make_authority,
    make_election,
    make_member,
    make_pillar,
    make_post,
    make_published,
    make_slot,
)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday 1 December, 09:00 in Paris


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 local time in Paris (UTC+1) as UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


def test_the_month_in_the_authority_timezone(client: TestClient, session: Session) -> None:
    town = make_authority(session, settings={"school_zone": "B"})
    member = make_member(session, town, Role.approver)
    contributor = make_member(session, town, Role.contributor)
    created = datetime(2026, 10, 1, tzinfo=UTC)
    x = make_account(session, town, network=Network.x, daily_quota=1, created_at=created)
    mastodon = make_account(session, town, network=Network.mastodon, created_at=created)
    bluesky = make_account(session, town, network=Network.bluesky, name="Bsky", created_at=created)
    works = make_pillar(session, town, name="Travaux", target_share=50)
    culture = make_pillar(session, town, name="Culture", target_share=30)
    families = Audience(authority_id=town.id, name="Familles")  # type: ignore[arg-type]
    seniors = Audience(authority_id=town.id, name="Seniors")  # type: ignore[arg-type]
    objective = Objective(
        authority_id=town.id,  # type: ignore[arg-type]
        name="Services en ligne",
        kpi_metric="clicks",
        kpi_target=2000,
        kpi_period="quarter",
    )
    session.add_all([families, seniors, objective])
    session.commit()

    # Midnight-thirty on 1 December in Paris is still 30 November in UTC.
    first = make_post(
        session,
        town,
        targets=[x, mastodon],
        pillar_id=works.id,
        scheduled_at=at(1, 0, 30),
        status=PostStatus.approved,
    )
    make_post(session, town, targets=[x], pillar_id=works.id, scheduled_at=at(1, 18))
    make_post(session, town, targets=[mastodon], pillar_id=culture.id, scheduled_at=at(15, 12, 15))
    make_post(session, town, targets=[mastodon], scheduled_at=at(15, 17))
    make_post(
        session,
        town,
        targets=[x],
        pillar_id=culture.id,
        scheduled_at=at(20, 10),
        status=PostStatus.cancelled,
    )
    # Next month: not in December.
    make_post(session, town, targets=[x], scheduled_at=datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    session.add(PostAudience(post_id=first.id, audience_id=families.id))  # type: ignore[arg-type]
    session.add(PostObjective(post_id=first.id, objective_id=objective.id))  # type: ignore[arg-type]
    session.commit()
    make_slot(session, mastodon, weekday=1, local_time=time(12, 15))  # Tuesdays

    with clock.frozen(NOW):
        response = client.get(
            f"/api/v1/authorities/{town.slug}/calendar?month=2026-12",
            headers=bearer(session, member),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["month"] == "2026-12"
    assert body["timezone"] == "Europe/Paris"
    days = body["days"]
    assert len(days) == 31
    assert days[0]["date"] == "2026-12-01"
    assert days[0]["weekday"] == "mardi"
    assert [
        (p["time"], p["status"], [t["account_id"] for t in p["targets"]]) for p in days[0]["posts"]
    ] == [
        ("00:30", "approved", [x.id, mastodon.id]),
        ("18:00", "draft", [x.id]),
    ]
    assert days[0]["posts"][0]["targets"][0] == {
        "account_id": x.id,
        "network": "x",
        "status": "scheduled",
    }
    # The cancelled post is not in the calendar.
    assert days[19]["posts"] == []
    assert body["over_quota"] == [
        {"date": "2026-12-01", "account_id": x.id, "count": 2, "limit": 1}
    ]
    assert days[0]["over_quota"] == [{"account_id": x.id, "count": 2, "limit": 1}]
    assert body["pillar_mix"] == [
        {
            "pillar_id": culture.id,
            "name": "Culture",
            "color": "#2a9d8f",
            "target_share": 30,
            "posts": 1,
            "share": 25.0,
        },
        {
            "pillar_id": works.id,
            "name": "Travaux",
            "color": "#2a9d8f",
            "target_share": 50,
            "posts": 2,
            "share": 50.0,
        },
        {
            "pillar_id": None,
            "name": "Sans thématique",
            "color": None,
            "target_share": 0,
            "posts": 1,
            "share": 25.0,
        },
    ]
    assert body["audiences"] == [
        {"id": families.id, "name": "Familles", "posts": 1},
        {"id": seniors.id, "name": "Seniors", "posts": 0},
    ]
    assert body["objectives"] == [{"id": objective.id, "name": "Services en ligne", "posts": 1}]
    assert len(body["empty_days"]) == 29
    assert "2026-12-01" not in body["empty_days"]
    assert "2026-12-15" not in body["empty_days"]
    assert body["public_holidays"] == {"2026-12-25": "Noël"}
    assert days[24]["public_holiday"] == "Noël"
    assert body["school_zone"] == "B"
    assert days[18]["school_holiday"] == "Vacances de Noël"
    assert days[17]["school_holiday"] is None
    # Tuesdays at 12:15 for Mastodon, from now on: 1, 8, 22 and 29 December (the 15th is taken).
    free = [(d["date"], s["time"]) for d in days for s in d["free_slots"]]
    assert free == [
        ("2026-12-01", "12:15"),
        ("2026-12-08", "12:15"),
        ("2026-12-22", "12:15"),
        ("2026-12-29", "12:15"),
    ]
    assert body["free_slots"] == 4
    # Abandoned accounts: more than 14 days without a post.
    gaps = [
        (g["account_id"], g["since"], g["until"], g["days"]) for g in body["abandoned_accounts"]
    ]
    assert gaps == [
        (x.id, "2026-12-02", "2026-12-31", 30),
        (mastodon.id, "2026-12-16", "2026-12-31", 16),
        (bluesky.id, "2026-12-01", "2026-12-31", 91),
    ]
    assert body["pre_electoral_periods"] == []
    assert body["regularity"] is None

    # A contributor sees only their own posts day by day; the month's figures stay the same.
    own = make_post(
        session,
        town,
        targets=[bluesky],
        author=contributor,
        status=PostStatus.rejected,
        scheduled_at=at(2, 9),
    )
    with clock.frozen(NOW):
        seen = client.get(
            f"/api/v1/authorities/{town.slug}/calendar?month=2026-12",
            headers=bearer(session, contributor),
        ).json()
    assert [(d["date"], p["id"]) for d in seen["days"] for p in d["posts"]] == [
        ("2026-12-02", own.id)
    ]
    assert seen["empty_days"] == body["empty_days"]  # a rejected post fills no day
    assert seen["pillar_mix"] == body["pillar_mix"]


def test_pre_electoral_period_silence_and_regularity(client: TestClient, session: Session) -> None:
    town = make_authority(session, timezone="Indian/Reunion")
    member = make_member(session, town, Role.editor)
    election = make_election(
        session, town, first_round=date(2027, 3, 14), second_round=date(2027, 3, 21)
    )
    account = make_account(session, town, created_at=datetime(2025, 1, 1, tzinfo=UTC))
    # One post a week in the twelve months before 1 September 2026 (Réunion time).
    for n in range(52):
        make_published(
            session,
            town,
            targets=[account],
            at=datetime(2025, 9, 3, 6, tzinfo=UTC) + timedelta(weeks=n),
        )
    # March 2027: two posts in the week of 8 March, one the week of 1 March.
    for when in (
        datetime(2027, 3, 2, 6, tzinfo=UTC),
        datetime(2027, 3, 9, 6, tzinfo=UTC),
        datetime(2027, 3, 10, 6, tzinfo=UTC),
    ):
        make_post(session, town, targets=[account], scheduled_at=when)
    with clock.frozen(datetime(2027, 2, 1, tzinfo=UTC)):
        body = client.get(
            f"/api/v1/authorities/{town.slug}/calendar?month=2027-03",
            headers=bearer(session, member),
        ).json()
    (period,) = body["pre_electoral_periods"]
    assert period["election_id"] == election.id
    assert period["election"] == "Élections municipales"
    assert period["starts_at"] == "2026-08-31T20:00:00Z"  # 1 September 00:00 at UTC+4
    assert period["ends_at"] == "2027-03-21T16:00:00Z"  # 21 March 20:00
    assert [w["round_day"] for w in body["silence_windows"]] == ["2027-03-14", "2027-03-21"]
    days = body["days"]
    assert [d["date"] for d in days if d["silence"]] == [
        "2027-03-13",
        "2027-03-14",
        "2027-03-20",
        "2027-03-21",
    ]
    assert days[20]["pre_electoral"] is True
    assert days[21]["pre_electoral"] is False
    regularity = body["regularity"]
    assert regularity["threshold_percent"] == 120
    (figures,) = regularity["accounts"]
    assert figures["weekly_average_before"] == 1.0
    weeks = {w["week_start"]: (w["planned"], w["over"]) for w in figures["weeks"]}
    assert weeks["2027-03-01"] == (1, False)
    assert weeks["2027-03-08"] == (2, True)
    months = {m["month"]: (m["posts"], m["posts_a_year_before"]) for m in regularity["months"]}
    assert list(months) == [
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
        "2027-01",
        "2027-02",
        "2027-03",
    ]
    assert months["2027-03"] == (3, 4)

    # A week across two months counts the days of both (January 2027 starts on a Friday).
    make_post(session, town, targets=[account], scheduled_at=datetime(2026, 12, 29, 6, tzinfo=UTC))
    make_post(session, town, targets=[account], scheduled_at=datetime(2027, 1, 2, 6, tzinfo=UTC))
    with clock.frozen(datetime(2026, 12, 1, tzinfo=UTC)):
        january = client.get(
            f"/api/v1/authorities/{town.slug}/calendar?month=2027-01",
            headers=bearer(session, member),
        ).json()
    (figures,) = january["regularity"]["accounts"]
    assert figures["weeks"][0] == {"week_start": "2026-12-28", "planned": 2, "over": True}
    assert figures["weeks"][1] == {"week_start": "2027-01-04", "planned": 0, "over": False}
    assert months["2026-09"] == (0, 4)


def test_bad_month_and_school_zone_settings(client: TestClient, session: Session) -> None:
    town = make_authority(session)
    admin = make_member(session, town, Role.admin)
    editor = make_member(session, town, Role.editor)
    headers = bearer(session, admin)
    bad = client.get(f"/api/v1/authorities/{town.slug}/calendar?month=2026-13", headers=headers)
    assert bad.status_code == 422
    assert bad.json()["detail"] == "Indiquez le mois sous la forme AAAA-MM, par exemple 2026-12."
    url = f"/api/v1/authorities/{town.slug}/calendar/settings"
    assert (
        client.put(url, json={"school_zone": "C"}, headers=bearer(session, editor)).status_code
        == 403
    )
    assert client.put(url, json={"school_zone": "D"}, headers=headers).status_code == 422
    assert client.put(url, json={"school_zone": "C"}, headers=headers).json() == {
        "school_zone": "C"
    }
    assert client.get(url, headers=headers).json() == {"school_zone": "C"}
    with clock.frozen(NOW):
        body = client.get(
            f"/api/v1/authorities/{town.slug}/calendar", headers=bearer(session, admin)
        ).json()
    assert body["month"] == "2026-12"
    assert body["school_holidays"]["2026-12-21"] == "Vacances de Noël"
