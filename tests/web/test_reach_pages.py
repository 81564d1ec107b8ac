"""The reach page and the monthly report, served to members only, in French and English."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from core.authorities.models import Role
from tests.core.reach import world
from tests.factories import make_authority, make_member
from tests.web.helpers import csrf_of, sign_in, text_of


@pytest.fixture
def town(session: Session) -> world.World:
    return world.build(session, name="Commune de Val-de-Brume", slug="val-de-brume")


def member(session: Session, town: world.World, role: Role = Role.editor) -> str:
    return make_member(session, town.authority, role).email


def test_reach_page_shows_figures_and_says_what_is_not_provided(
    client: TestClient, session: Session, town: world.World
) -> None:
    sign_in(client, member(session, town))
    page = client.get("/a/val-de-brume/reach?from=2026-11-01&to=2026-11-30&by=network")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Du 1er novembre 2026 au 30 novembre 2026" in text
    assert "Portée cumulée (impressions ou vues) 1 400" in text.replace("\u202f", " ")
    assert "Bluesky, Mastodon ne fournissent pas d'impressions" in text
    row = re.search(r"<th scope=\"row\">Mastodon</th>(.*?)</tr>", page.text, re.S)
    assert row is not None
    assert "non fourni" in row.group(1)
    # Charts are SVG with a title and a description, and the data is in a table beside.
    assert page.text.count('<svg class="chart"') == 3
    assert '<title id="chart-groups-title">Interactions par réseau</title>' in page.text
    assert '<desc id="chart-groups-desc">' in page.text
    assert "Faire connaître les démarches en ligne" in text

    by_pillar = client.get("/a/val-de-brume/reach?from=2026-11-01&to=2026-11-30&by=pillar")
    assert "Interactions par thématique" in by_pillar.text


def test_a_bad_period_is_explained_on_the_page(
    client: TestClient, session: Session, town: world.World
) -> None:
    sign_in(client, member(session, town))
    page = client.get("/a/val-de-brume/reach?from=2026-11-30&to=2026-11-01")
    assert page.status_code == 422
    assert "Période non valable" in text_of(page.text)


def test_monthly_report_page_and_csv(
    client: TestClient, session: Session, town: world.World
) -> None:
    sign_in(client, member(session, town, Role.approver))
    page = client.get("/a/val-de-brume/report?month=2026-11")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Bilan de la communication numérique, novembre 2026" in text
    assert "Le festival des lumières" in text  # the top post
    assert "Même mois, année précédente (2025-11) 1 1" in text
    csv_page = client.get("/a/val-de-brume/report.csv?month=2026-11")
    assert csv_page.headers["content-type"].startswith("text/csv")
    assert csv_page.text == client.get("/a/val-de-brume/report?month=2026-11&format=csv").text
    assert "total;2026-11;5;1400" in csv_page.text

    assert client.get("/a/val-de-brume/report?month=2026-13").status_code == 422


def test_the_report_in_english(client: TestClient, session: Session, town: world.World) -> None:
    sign_in(client, member(session, town))
    client.post(
        "/language",
        data={"locale": "en", "next": "/", "csrf_token": csrf_of(client, "/")},
        follow_redirects=False,
    )
    text = text_of(client.get("/a/val-de-brume/report?month=2026-11").text)
    assert "Digital communication report, November 2026" in text
    assert "not provided" in text


def test_others_get_404(client: TestClient, session: Session, town: world.World) -> None:
    stranger = make_member(session, make_authority(session), Role.admin)
    sign_in(client, stranger.email)
    for path in ("/a/val-de-brume/reach", "/a/val-de-brume/report", "/a/val-de-brume/report.csv"):
        assert client.get(path).status_code == 404, path


def test_pages_of_an_authority_with_nothing_published(client: TestClient, session: Session) -> None:
    town = make_authority(session, slug="hameau")
    sign_in(client, make_member(session, town, Role.admin).email)
    reach_page = client.get("/a/hameau/reach")
    assert reach_page.status_code == 200
    assert "Aucune publication parue sur cette période." in text_of(reach_page.text)
    report = client.get("/a/hameau/report?month=2026-11")
    assert report.status_code == 200
    assert "Aucune publication parue ce mois-ci." in text_of(report.text)
