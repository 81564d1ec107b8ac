"""The editorial line's pages: administrators create, edit and delete (with a confirmation) each
piece; errors are French sentences with the input kept; others read only; another authority's
items do not exist."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.authorities.models import Authority, Role
from core.editorial.models import (
    Audience,
    Campaign,
    EditorialLine,
    Election,
    Objective,
    Pillar,
    PillarApprover,
)
from core.users.models import User
from tests.conftest import reload
from tests.factories import make_authority, make_editorial, make_member, make_pillar
from tests.web.helpers import csrf_of, sign_in, text_of


@pytest.fixture
def town(session: Session) -> tuple[Authority, User]:
    authority = make_authority(session, name="Commune de Millau", slug="millau")
    admin = make_member(session, authority, Role.admin, name="Anne Admin")
    return authority, admin


def post_form(client: TestClient, path: str, data: dict[str, object]) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_of(client, "/a/millau/editorial")})


def rows(session: Session, model: Any) -> list[Any]:
    session.rollback()  # a new read snapshot: see what the pages wrote
    session.expire_all()
    return list(session.exec(select(model)).all())


def test_the_admin_writes_the_mission_tone_and_network_roles(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    page = post_form(
        client,
        "/a/millau/editorial/line",
        {
            "mission": "Informer chaque habitant de ce qui change dans sa commune.",
            "tone_charter": "Phrases courtes, pas de jargon administratif.",
            "address_form": "vous",
            "emoji_policy": "Un émoji au plus, jamais pour une alerte.",
            "hashtags": "Millau ConseilMunicipal",
            "role_x": "Actualité et journalistes",
            "role_facebook": "Vie quotidienne",
        },
    )
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Informer chaque habitant" in text
    [line] = rows(session, EditorialLine)
    assert line.hashtags == ["Millau", "ConseilMunicipal"]
    assert line.network_roles == {"x": "Actualité et journalistes", "facebook": "Vie quotidienne"}

    bad = post_form(
        client,
        "/a/millau/editorial/line",
        {"mission": "Nouvelle mission", "address_form": "vous", "hashtags": "#Millau #"},
    )
    assert bad.status_code == 422
    assert "n'est pas un mot-dièse" in text_of(bad.text)
    assert "Nouvelle mission" in bad.text
    reload(session, line)
    assert line.mission == "Informer chaque habitant de ce qui change dans sa commune."


def test_objectives_audiences_campaigns_and_elections_are_created_edited_and_deleted(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    post_form(
        client,
        "/a/millau/editorial/objectives",
        {
            "name": "Faire connaître les démarches en ligne",
            "kpi_metric": "clicks",
            "kpi_target": "2000",
            "kpi_period": "quarter",
            "active": "1",
        },
    )
    objective = rows(session, Objective)[0]
    assert (objective.kpi_metric, objective.kpi_target, objective.kpi_period) == (
        "clicks",
        2000,
        "quarter",
    )
    page = client.get("/a/millau/editorial")
    assert "2 000 clics par trimestre" in text_of(page.text)

    post_form(client, "/a/millau/editorial/audiences", {"name": "Familles"})
    post_form(
        client,
        "/a/millau/editorial/campaigns",
        {
            "name": "Rentrée scolaire",
            "objective_id": str(objective.id),
            "starts_on": "2026-08-25",
            "ends_on": "2026-09-15",
        },
    )
    post_form(
        client,
        "/a/millau/editorial/elections",
        {
            "kind": "municipales",
            "territory": "Millau",
            "first_round": "2026-03-15",
            "second_round": "",
        },
    )
    campaign = rows(session, Campaign)[0]
    assert campaign.objective_id == objective.id
    election = rows(session, Election)[0]
    assert election.second_round is None
    text = text_of(client.get("/a/millau/editorial").text)
    assert "Familles" in text
    assert "du 25 août 2026 au 15 septembre 2026" in text
    assert "1er tour : 15 mars 2026" in text

    edited = post_form(
        client,
        f"/a/millau/editorial/elections/{election.id}",
        {
            "kind": "municipales",
            "territory": "Millau",
            "first_round": "2026-03-15",
            "second_round": "2026-03-22",
        },
    )
    assert edited.status_code == 200
    reload(session, election)
    assert str(election.second_round) == "2026-03-22"

    # Deleting asks first, then deletes; an objective still used by a campaign is kept.
    confirm = client.get(f"/a/millau/editorial/objectives/{objective.id}/delete")
    assert "Supprimer « Faire connaître les démarches en ligne » ?" in text_of(confirm.text)
    refused = post_form(client, f"/a/millau/editorial/objectives/{objective.id}/delete", {})
    assert refused.status_code == 409
    assert "Cet objectif est celui de 1 campagne(s)" in text_of(refused.text)
    post_form(client, f"/a/millau/editorial/campaigns/{campaign.id}/delete", {})
    post_form(client, f"/a/millau/editorial/objectives/{objective.id}/delete", {})
    assert rows(session, Objective) == []
    assert rows(session, Campaign) == []
    assert len(rows(session, Audience)) == 1


def test_a_campaign_ending_before_it_starts_is_refused_with_the_input_kept(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    _, admin = town
    sign_in(client, admin.email)
    page = post_form(
        client,
        "/a/millau/editorial/campaigns",
        {"name": "Fête du Tarn", "starts_on": "2026-07-10", "ends_on": "2026-07-01"},
    )
    assert page.status_code == 422
    assert "La campagne doit finir le jour où elle commence ou après." in text_of(page.text)
    assert 'value="Fête du Tarn"' in page.text
    assert 'value="2026-07-01"' in page.text
    assert rows(session, Campaign) == []


def test_pillar_shares_over_100_get_the_french_error_and_approvers_are_chosen(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    deputy = make_member(session, authority, Role.approver, name="Paul Adjoint")
    existing = make_pillar(session, authority, name="Travaux", target_share=70)
    sign_in(client, admin.email)
    page = post_form(
        client,
        "/a/millau/editorial/pillars",
        {"name": "Culture", "color": "#c0392b", "target_share": "40", "active": "1"},
    )
    assert page.status_code == 422
    text = text_of(page.text)
    assert "Les parts des thématiques actives dépasseraient 100 % (110 %)" in text
    assert "Indiquez au plus 30 %" in text
    assert 'value="Culture"' in page.text
    assert len(rows(session, Pillar)) == 1

    done = post_form(
        client,
        "/a/millau/editorial/pillars",
        {
            "name": "Culture",
            "color": "#c0392b",
            "target_share": "30",
            "active": "1",
            "approver_ids": [str(deputy.id)],
        },
    )
    assert "Parts visées des thématiques actives : 100 % sur 100 %." in text_of(done.text)
    culture = next(p for p in rows(session, Pillar) if p.name == "Culture")
    assert [a.user_id for a in rows(session, PillarApprover)] == [deputy.id]
    assert "validée par Paul Adjoint" in text_of(done.text)

    edit = client.get(f"/a/millau/editorial/pillars/{existing.id}")
    assert 'value="70"' in edit.text
    too_much = post_form(
        client,
        f"/a/millau/editorial/pillars/{existing.id}",
        {"name": "Travaux", "color": "#2a9d8f", "target_share": "80", "active": "1"},
    )
    assert too_much.status_code == 422
    assert "Indiquez au plus 70 %" in text_of(too_much.text)
    assert 'value="80"' in too_much.text
    reload(session, existing)
    assert existing.target_share == 70
    lowered = post_form(
        client,
        f"/a/millau/editorial/pillars/{existing.id}",
        {"name": "Travaux", "color": "#2a9d8f", "target_share": "50", "urgent": "1", "active": "1"},
    )
    assert lowered.status_code == 200
    reload(session, existing)
    assert (existing.target_share, existing.urgent) == (50, True)
    assert culture.id is not None


def test_others_read_but_do_not_write_and_other_authorities_are_unknown(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, _ = town
    ids = make_editorial(session, authority)
    editor = make_member(session, authority, Role.editor)
    sign_in(client, editor.email)
    page = client.get("/a/millau/editorial")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Faire connaître les démarches en ligne" in text
    assert "Seuls les administrateurs modifient la ligne éditoriale." in text
    assert 'action="/a/millau/editorial/' not in page.text
    refused = post_form(client, "/a/millau/editorial/audiences", {"name": "Seniors"})
    assert refused.status_code == 403
    assert "réservée aux administrateurs" in text_of(refused.text)
    assert client.get(f"/a/millau/editorial/audiences/{ids['audience_id']}").status_code == 403
    assert len(rows(session, Audience)) == 1

    other = make_authority(session, slug="rodez")
    stranger = make_member(session, other, Role.admin)
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    sign_in(client, stranger.email)
    assert client.get("/a/millau/editorial").status_code == 404
    assert client.get(f"/a/rodez/editorial/audiences/{ids['audience_id']}").status_code == 404
    gone = client.post(
        f"/a/rodez/editorial/audiences/{ids['audience_id']}/delete",
        data={"csrf_token": csrf_of(client, "/a/rodez/editorial")},
    )
    assert gone.status_code == 404
    assert client.get("/a/rodez/editorial/nothing/1").status_code == 404
    assert len(rows(session, Audience)) == 1


def test_the_pages_speak_english_when_chosen(
    client: TestClient, session: Session, town: tuple[Authority, User]
) -> None:
    authority, admin = town
    make_pillar(session, authority, name="Travaux", target_share=40)
    sign_in(client, admin.email)
    client.post(
        "/language",
        data={"locale": "en", "next": "/", "csrf_token": csrf_of(client, "/a/millau/editorial")},
    )
    editorial = text_of(client.get("/a/millau/editorial").text)
    assert "Target shares of active pillars: 40 % of 100 %." in editorial
    assert "40 % of the month" in editorial
    assert "Connect an account" in text_of(client.get("/a/millau/accounts").text)
    assert "School-holiday zone" in text_of(client.get("/a/millau/settings").text)
    approvals = text_of(client.get("/a/millau/approvals").text)
    assert "Only elected officials with the approver role approve posts." in approvals
