"""The reach API against figures computed by hand from tests/core/reach/world.py."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.authorities.models import Role
from tests.core.reach import world
from tests.factories import bearer, make_authority, make_member

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def town(session: Session) -> world.World:
    return world.build(session)


def as_member(session: Session, w: world.World, role: Role = Role.editor) -> dict[str, str]:
    return bearer(session, make_member(session, w.authority, role))


def test_totals_and_networks_match_hand_computed_figures(
    client: TestClient, session: Session, town: world.World
) -> None:
    answer = client.get(
        f"/api/v1/authorities/{town.authority.slug}/reach",
        params=NOVEMBER,
        headers=as_member(session, town, Role.contributor),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == {
        "publications": 5,
        "impressions": 1400,  # X 400 (latest step) + LinkedIn 1000
        "publications_with_impressions": 2,
        "likes": 61,
        "reposts": 12,
        "replies": 8,
        "clicks": 50,
        "engagements": 131,
        "engagement_rate": 8.29,  # (36 + 80) / 1400
    }
    groups = {g["key"]: g for g in body["groups"]}
    assert [g["key"] for g in body["groups"]] == ["x", "bluesky", "linkedin", "mastodon"]
    assert groups["x"]["figures"]["impressions"] == 400
    assert groups["x"]["figures"]["engagements"] == 36
    assert groups["x"]["figures"]["engagement_rate"] == 9.0
    assert groups["linkedin"]["figures"]["engagement_rate"] == 8.0
    # Not provided by the network: null, never zero.
    assert groups["mastodon"]["figures"]["impressions"] is None
    assert groups["mastodon"]["figures"]["clicks"] is None
    assert groups["mastodon"]["figures"]["engagement_rate"] is None
    assert groups["mastodon"]["figures"]["engagements"] == 5
    assert groups["bluesky"]["figures"]["engagements"] == 10
    assert body["networks_without_impressions"] == ["bluesky", "mastodon"]


def test_groupings_objectives_pillar_mix_and_followers(
    client: TestClient, session: Session, town: world.World
) -> None:
    headers = as_member(session, town)
    url = f"/api/v1/authorities/{town.authority.slug}/reach"

    by_pillar = client.get(url, params={**NOVEMBER, "by": "pillar"}, headers=headers).json()
    figures = {g["label"]: g["figures"] for g in by_pillar["groups"]}
    assert figures["Culture"]["publications"] == 3
    assert figures["Culture"]["engagements"] == 90
    assert figures["Culture"]["impressions"] == 1000
    assert figures["Travaux"]["publications"] == 2
    assert figures["Travaux"]["engagements"] == 41

    by_objective = client.get(url, params={**NOVEMBER, "by": "objective"}, headers=headers).json()
    labels = {g["label"]: g["figures"]["publications"] for g in by_objective["groups"]}
    assert labels == {"Faire connaître les démarches en ligne": 2, "Sans objectif": 3}

    by_campaign = client.get(url, params={**NOVEMBER, "by": "campaign"}, headers=headers).json()
    labels = {g["label"]: g["figures"]["publications"] for g in by_campaign["groups"]}
    assert labels == {"Rentrée culturelle": 2, "Hors campagne": 3}

    by_audience = client.get(url, params={**NOVEMBER, "by": "audience"}, headers=headers).json()
    labels = {g["label"]: g["figures"]["engagements"] for g in by_audience["groups"]}
    assert labels == {"Familles": 41, "Sans cible": 90}

    by_account = client.get(url, params={**NOVEMBER, "by": "account"}, headers=headers).json()
    labels = {g["label"]: g["figures"]["publications"] for g in by_account["groups"]}
    assert labels["Ville sur X"] == 2

    [objective] = by_pillar["objectives"]
    # Clicks of the posts serving it (P1 directly, P2 through its campaign): 10 + 40.
    assert objective["value"] == 50
    # 300 clicks a month, prorated to 30 days: 300 × 30 / 30.4375.
    assert objective["target_for_period"] == 295.7
    assert objective["progress"] == 16.9

    mix = {m["name"]: (m["posts"], m["share"], m["target_share"]) for m in by_pillar["pillar_mix"]}
    assert mix == {"Culture": (2, 66.7, 60), "Travaux": (1, 33.3, 40)}

    followers = {f["name"]: f for f in by_pillar["followers"]}
    assert followers["Ville sur X"]["first"] == 1000
    assert followers["Ville sur X"]["last"] == 1100
    assert followers["Ville sur X"]["change"] == 100
    assert [p["day"] for p in followers["Ville sur X"]["points"]] == [
        "2026-11-01",
        "2026-11-15",
        "2026-11-30",
    ]
    assert followers["Ville sur LinkedIn"]["change"] is None


def test_post_metrics_give_each_publication_over_time(
    client: TestClient, session: Session, town: world.World
) -> None:
    answer = client.get(f"/api/v1/posts/{town.p1.id}/metrics", headers=as_member(session, town))
    assert answer.status_code == 200
    by_network = {p["network"]: p for p in answer.json()}
    assert [s["impressions"] for s in by_network["x"]["snapshots"]] == [100, 400]
    assert [s["step"] for s in by_network["x"]["snapshots"]] == [0, 1]
    assert by_network["x"]["provides_impressions"] is True
    assert by_network["mastodon"]["provides_impressions"] is False
    assert by_network["mastodon"]["snapshots"][0]["likes"] == 3


def test_monthly_report_and_csv(client: TestClient, session: Session, town: world.World) -> None:
    headers = as_member(session, town, Role.approver)
    slug = town.authority.slug
    body = client.get(
        f"/api/v1/authorities/{slug}/report", params={"month": "2026-11"}, headers=headers
    ).json()
    assert body["this_month"] == {"month": "2026-11", "publications": 5, "posts": 3}
    assert body["a_year_before"] == {"month": "2025-11", "publications": 1, "posts": 1}
    assert body["previous_month"] == {"month": "2026-10", "publications": 1, "posts": 1}
    assert [t["post_id"] for t in body["top_posts"]] == [town.p2.id, town.p1.id, town.p3.id]
    assert body["top_posts"][0]["engagements"] == 90

    answer = client.get(
        f"/api/v1/authorities/{slug}/report.csv", params={"month": "2026-11"}, headers=headers
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["section", "element", "publications", "impressions"]
    total = rows[1]
    assert total[:4] == ["total", "2026-11", "5", "1400"]
    assert rows[0][-3:] == ["valeur", "cible", "evolution"]
    followers = next(r for r in rows if r[0] == "abonnes" and r[1] == "Ville sur X")
    assert followers[-3:] == ["1100", "", "100"]
    objective = next(r for r in rows if r[0] == "objectif")
    assert objective[-3:] == ["50", "295.7", "16.9"]
    mastodon = next(r for r in rows if r[0] == "reseau" and r[1] == "Mastodon")
    assert mastodon[3] == ""  # non fourni, not 0
    assert next(r for r in rows if r[0] == "regularite_annee_precedente")[:3] == [
        "regularite_annee_precedente",
        "2025-11",
        "1",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "2020-01-01", "to": "2026-11-01"},
        {"from": "le premier novembre"},
        {"by": "humeur"},
    ],
)
def test_bad_periods_are_explained(
    client: TestClient, session: Session, params: dict[str, str]
) -> None:
    town = make_authority(session)
    user = make_member(session, town, Role.editor)
    answer = client.get(
        f"/api/v1/authorities/{town.slug}/reach", params=params, headers=bearer(session, user)
    )
    assert answer.status_code == 422
    assert answer.json()["detail"]


@pytest.mark.parametrize("month", ["2026-13", "novembre", "0000-01"])
def test_bad_months_are_explained(client: TestClient, session: Session, month: str) -> None:
    town = make_authority(session)
    user = make_member(session, town, Role.editor)
    answer = client.get(
        f"/api/v1/authorities/{town.slug}/report",
        params={"month": month},
        headers=bearer(session, user),
    )
    assert answer.status_code == 422
    assert "AAAA-MM" in answer.json()["detail"]


def test_other_authorities_see_nothing(
    client: TestClient, session: Session, town: world.World
) -> None:
    stranger = bearer(session, make_member(session, make_authority(session), Role.admin))
    slug = town.authority.slug
    for url in (
        f"/api/v1/authorities/{slug}/reach",
        f"/api/v1/authorities/{slug}/report",
        f"/api/v1/authorities/{slug}/report.csv",
        f"/api/v1/posts/{town.p1.id}/metrics",
    ):
        assert client.get(url, headers=stranger).status_code == 404, url
