"""The editorial line through the API: admins write it, every member reads it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.authorities.models import Role
from core.editorial.models import Pillar, PillarApprover
from tests.factories import bearer, make_authority, make_member, make_post


def test_an_admin_writes_the_editorial_line_and_members_read_it(
    client: TestClient, session: Session
) -> None:
    authority = make_authority(session, slug="tulle")
    admin = bearer(session, make_member(session, authority, Role.admin))
    agent = bearer(session, make_member(session, authority, Role.contributor))
    assert (
        client.get("/api/v1/authorities/tulle/editorial-line", headers=agent).json()["mission"]
        == ""
    )
    line = {
        "mission": "Informer chaque habitant de la vie de la commune.",
        "tone_charter": "Clair, chaleureux, sans jargon.",
        "address_form": "vous",
        "emoji_policy": "Un émoji au plus, jamais dans les alertes.",
        "hashtags": ["#Tulle", "VieLocale"],
        "network_roles": {"facebook": "Vie quotidienne", "x": "Actualité et journalistes"},
    }
    written = client.put("/api/v1/authorities/tulle/editorial-line", headers=admin, json=line)
    assert written.status_code == 200, written.text
    read = client.get("/api/v1/authorities/tulle/editorial-line", headers=agent).json()
    assert read["hashtags"] == ["Tulle", "VieLocale"]
    assert read["network_roles"] == {
        "facebook": "Vie quotidienne",
        "x": "Actualité et journalistes",
    }
    assert read["tone_charter"] == "Clair, chaleureux, sans jargon."
    refused = client.put("/api/v1/authorities/tulle/editorial-line", headers=agent, json=line)
    assert refused.status_code == 403
    bad = client.put(
        "/api/v1/authorities/tulle/editorial-line",
        headers=admin,
        json={**line, "network_roles": {"myspace": "?"}},
    )
    assert bad.status_code == 422


def test_pillars_shares_approvers_and_deletion(client: TestClient, session: Session) -> None:
    authority = make_authority(session, slug="ussel")
    admin = bearer(session, make_member(session, authority, Role.admin))
    deputy = make_member(session, authority, Role.approver, name="Marc Adjoint")
    editor = make_member(session, authority, Role.editor)
    base = "/api/v1/authorities/ussel/pillars"
    works = client.post(
        base,
        headers=admin,
        json={
            "name": "Travaux",
            "color": "#E76F51",
            "target_share": 60,
            "approver_ids": [deputy.id],
        },
    )
    assert works.status_code == 201, works.text
    assert works.json()["approver_ids"] == [deputy.id]
    assert works.json()["color"] == "#e76f51"
    over = client.post(
        base, headers=admin, json={"name": "Culture", "color": "#2a9d8f", "target_share": 50}
    )
    assert over.status_code == 422
    assert over.json()["error"] == "shares_over_100"
    assert over.json()["available"] == 40
    assert "Indiquez au plus 40 %" in over.json()["detail"]
    # An inactive pillar does not count.
    idle = client.post(
        base,
        headers=admin,
        json={"name": "Culture", "color": "#2a9d8f", "target_share": 50, "active": False},
    )
    assert idle.status_code == 201
    reactivate = client.patch(f"{base}/{idle.json()['id']}", headers=admin, json={"active": True})
    assert reactivate.status_code == 422
    not_approver = client.patch(
        f"{base}/{works.json()['id']}", headers=admin, json={"approver_ids": [editor.id]}
    )
    assert not_approver.status_code == 422
    assert not_approver.json()["invalid"] == [editor.id]
    session.rollback()
    assert [a.user_id for a in session.exec(select(PillarApprover)).all()] == [deputy.id]

    pillar_id = works.json()["id"]
    make_post(session, authority, pillar_id=pillar_id)
    used = client.delete(f"{base}/{pillar_id}", headers=admin)
    assert used.status_code == 409
    assert "Désactivez-la plutôt" in used.json()["detail"]
    assert (
        client.patch(f"{base}/{pillar_id}", headers=admin, json={"active": False}).json()["active"]
        is False
    )
    assert client.delete(f"{base}/{idle.json()['id']}", headers=admin).status_code == 204
    session.rollback()
    assert [p.name for p in session.exec(select(Pillar)).all()] == ["Travaux"]


def test_objectives_audiences_campaigns_elections(client: TestClient, session: Session) -> None:
    authority = make_authority(session, slug="egletons")
    admin = bearer(session, make_member(session, authority, Role.admin))
    editor = bearer(session, make_member(session, authority, Role.editor))
    base = "/api/v1/authorities/egletons"
    objective = client.post(
        f"{base}/objectives",
        headers=admin,
        json={
            "name": "Faire connaître les services en ligne",
            "kpi_metric": "clicks",
            "kpi_target": 2000,
            "kpi_period": "quarter",
        },
    )
    assert objective.status_code == 201, objective.text
    oid = objective.json()["id"]
    assert client.post(f"{base}/objectives", headers=editor, json={}).status_code == 403
    audience = client.post(f"{base}/audiences", headers=admin, json={"name": "Familles"}).json()
    assert client.get(f"{base}/audiences", headers=editor).json() == [audience]

    unordered = client.post(
        f"{base}/campaigns",
        headers=admin,
        json={"name": "Rentrée", "starts_on": "2026-09-30", "ends_on": "2026-09-01"},
    )
    assert unordered.status_code == 422
    assert "finir" in unordered.json()["detail"]
    campaign = client.post(
        f"{base}/campaigns",
        headers=admin,
        json={
            "name": "Rentrée",
            "starts_on": "2026-09-01",
            "ends_on": "2026-09-30",
            "objective_id": oid,
        },
    ).json()
    late = client.patch(
        f"{base}/campaigns/{campaign['id']}", headers=admin, json={"starts_on": "2026-10-15"}
    )
    assert late.status_code == 422
    blocked = client.delete(f"{base}/objectives/{oid}", headers=admin)
    assert blocked.status_code == 409
    assert "campagne" in blocked.json()["detail"]

    rounds = client.post(
        f"{base}/elections",
        headers=admin,
        json={
            "kind": "municipales",
            "territory": "Égletons",
            "first_round": "2026-03-22",
            "second_round": "2026-03-15",
        },
    )
    assert rounds.status_code == 422
    assert "second tour" in rounds.json()["detail"]
    election = client.post(
        f"{base}/elections",
        headers=admin,
        json={"kind": "municipales", "territory": "Égletons", "first_round": "2026-03-15"},
    )
    assert election.status_code == 201
    assert (
        client.get(f"{base}/elections/{election.json()['id']}", headers=editor).json()[
            "second_round"
        ]
        is None
    )
    assert client.get(f"{base}/objectives/999999", headers=editor).status_code == 404
