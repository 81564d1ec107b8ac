"""The editorial line: mission and tone, objectives, audiences, pillars, campaigns, elections.
Every member reads it; administrators write it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import AdminDep, MemberDep, PathId, SessionDep
from core.editorial import schemas
from core.editorial import service as editorial
from core.editorial.models import Audience, Campaign, Election, Objective, Pillar

router = APIRouter(prefix="/api/v1", tags=["ligne éditoriale"])
# Database ids are 32-bit on PostgreSQL: a larger number names nothing (422, not a crash).


@router.get("/authorities/{slug}/editorial-line", response_model=schemas.EditorialLineRead)
def read_line(session: SessionDep, member: MemberDep) -> schemas.EditorialLineRead:
    return editorial.read_line(session, authority=member.authority)


@router.put("/authorities/{slug}/editorial-line", response_model=schemas.EditorialLineRead)
def write_line(
    data: schemas.EditorialLineWrite, session: SessionDep, member: AdminDep
) -> schemas.EditorialLineRead:
    """Remplace la ligne éditoriale : mission, charte de ton, vouvoiement ou tutoiement, usage
    des émojis, mots-dièse (sans « # »), et à quoi sert chaque réseau (`network_roles`)."""
    return editorial.write_line(session, authority=member.authority, data=data, by=member.user)


# --- objectives ---------------------------------------------------------------------------------


def get_objective(session: SessionDep, member: MemberDep, objective_id: PathId) -> Objective:
    # Resolved before role checks and body validation: another authority's id is simply unknown.
    return editorial.get_item(session, Objective, authority=member.authority, item_id=objective_id)


ObjectiveDep = Annotated[Objective, Depends(get_objective)]


@router.get("/authorities/{slug}/objectives", response_model=list[schemas.ObjectiveRead])
def list_objectives(session: SessionDep, member: MemberDep) -> list[Objective]:
    return editorial.list_items(session, Objective, authority=member.authority)


@router.post(
    "/authorities/{slug}/objectives", status_code=201, response_model=schemas.ObjectiveRead
)
def create_objective(
    data: schemas.ObjectiveCreate, session: SessionDep, member: AdminDep
) -> Objective:
    """Un objectif avec son indicateur : métrique, valeur cible et période."""
    return editorial.create_item(session, Objective, authority=member.authority, data=data)


@router.get("/authorities/{slug}/objectives/{objective_id}", response_model=schemas.ObjectiveRead)
def read_objective(item: ObjectiveDep) -> Objective:
    return item


@router.patch("/authorities/{slug}/objectives/{objective_id}", response_model=schemas.ObjectiveRead)
def update_objective(
    item: ObjectiveDep, data: schemas.ObjectiveUpdate, session: SessionDep, member: AdminDep
) -> Objective:
    return editorial.update_item(session, item, authority=member.authority, data=data)


@router.delete("/authorities/{slug}/objectives/{objective_id}", status_code=204)
def delete_objective(item: ObjectiveDep, session: SessionDep, member: AdminDep) -> Response:
    """Refusé (409) si des publications ou des campagnes s'en servent : désactivez-le alors."""
    editorial.delete_item(session, item, authority=member.authority)
    return Response(status_code=204)


# --- audiences ----------------------------------------------------------------------------------


def get_audience(session: SessionDep, member: MemberDep, audience_id: PathId) -> Audience:
    return editorial.get_item(session, Audience, authority=member.authority, item_id=audience_id)


AudienceDep = Annotated[Audience, Depends(get_audience)]


@router.get("/authorities/{slug}/audiences", response_model=list[schemas.AudienceRead])
def list_audiences(session: SessionDep, member: MemberDep) -> list[Audience]:
    return editorial.list_items(session, Audience, authority=member.authority)


@router.post("/authorities/{slug}/audiences", status_code=201, response_model=schemas.AudienceRead)
def create_audience(
    data: schemas.AudienceCreate, session: SessionDep, member: AdminDep
) -> Audience:
    return editorial.create_item(session, Audience, authority=member.authority, data=data)


@router.get("/authorities/{slug}/audiences/{audience_id}", response_model=schemas.AudienceRead)
def read_audience(item: AudienceDep) -> Audience:
    return item


@router.patch("/authorities/{slug}/audiences/{audience_id}", response_model=schemas.AudienceRead)
def update_audience(
    item: AudienceDep, data: schemas.AudienceUpdate, session: SessionDep, member: AdminDep
) -> Audience:
    return editorial.update_item(session, item, authority=member.authority, data=data)


@router.delete("/authorities/{slug}/audiences/{audience_id}", status_code=204)
def delete_audience(item: AudienceDep, session: SessionDep, member: AdminDep) -> Response:
    editorial.delete_item(session, item, authority=member.authority)
    return Response(status_code=204)


# --- pillars ------------------------------------------------------------------------------------


def get_pillar(session: SessionDep, member: MemberDep, pillar_id: PathId) -> Pillar:
    return editorial.get_item(session, Pillar, authority=member.authority, item_id=pillar_id)


PillarDep = Annotated[Pillar, Depends(get_pillar)]


@router.get("/authorities/{slug}/pillars", response_model=list[schemas.PillarRead])
def list_pillars(session: SessionDep, member: MemberDep) -> list[schemas.PillarRead]:
    pillars = editorial.list_items(session, Pillar, authority=member.authority)
    return editorial.pillars_read(session, pillars)


@router.post("/authorities/{slug}/pillars", status_code=201, response_model=schemas.PillarRead)
def create_pillar(
    data: schemas.PillarCreate, session: SessionDep, member: AdminDep
) -> schemas.PillarRead:
    """Une thématique : couleur, part cible du mix mensuel en % (les parts des thématiques
    actives ne dépassent pas 100 %), élu·es valideurs désignés, drapeau `urgent` (alertes)."""
    pillar = editorial.create_item(session, Pillar, authority=member.authority, data=data)
    return editorial.pillar_read(session, pillar)


@router.get("/authorities/{slug}/pillars/{pillar_id}", response_model=schemas.PillarRead)
def read_pillar(item: PillarDep, session: SessionDep) -> schemas.PillarRead:
    return editorial.pillar_read(session, item)


@router.patch("/authorities/{slug}/pillars/{pillar_id}", response_model=schemas.PillarRead)
def update_pillar(
    item: PillarDep, data: schemas.PillarUpdate, session: SessionDep, member: AdminDep
) -> schemas.PillarRead:
    pillar = editorial.update_item(session, item, authority=member.authority, data=data)
    return editorial.pillar_read(session, pillar)


@router.delete("/authorities/{slug}/pillars/{pillar_id}", status_code=204)
def delete_pillar(item: PillarDep, session: SessionDep, member: AdminDep) -> Response:
    """Refusé (409) si des publications s'en servent : désactivez-la alors (`active: false`)."""
    editorial.delete_item(session, item, authority=member.authority)
    return Response(status_code=204)


# --- campaigns ----------------------------------------------------------------------------------


def get_campaign(session: SessionDep, member: MemberDep, campaign_id: PathId) -> Campaign:
    return editorial.get_item(session, Campaign, authority=member.authority, item_id=campaign_id)


CampaignDep = Annotated[Campaign, Depends(get_campaign)]


@router.get("/authorities/{slug}/campaigns", response_model=list[schemas.CampaignRead])
def list_campaigns(session: SessionDep, member: MemberDep) -> list[Campaign]:
    return editorial.list_items(session, Campaign, authority=member.authority)


@router.post("/authorities/{slug}/campaigns", status_code=201, response_model=schemas.CampaignRead)
def create_campaign(
    data: schemas.CampaignCreate, session: SessionDep, member: AdminDep
) -> Campaign:
    return editorial.create_item(session, Campaign, authority=member.authority, data=data)


@router.get("/authorities/{slug}/campaigns/{campaign_id}", response_model=schemas.CampaignRead)
def read_campaign(item: CampaignDep) -> Campaign:
    return item


@router.patch("/authorities/{slug}/campaigns/{campaign_id}", response_model=schemas.CampaignRead)
def update_campaign(
    item: CampaignDep, data: schemas.CampaignUpdate, session: SessionDep, member: AdminDep
) -> Campaign:
    return editorial.update_item(session, item, authority=member.authority, data=data)


@router.delete("/authorities/{slug}/campaigns/{campaign_id}", status_code=204)
def delete_campaign(item: CampaignDep, session: SessionDep, member: AdminDep) -> Response:
    editorial.delete_item(session, item, authority=member.authority)
    return Response(status_code=204)


# --- elections ----------------------------------------------------------------------------------


def get_election(session: SessionDep, member: MemberDep, election_id: PathId) -> Election:
    return editorial.get_item(session, Election, authority=member.authority, item_id=election_id)


ElectionDep = Annotated[Election, Depends(get_election)]


@router.get("/authorities/{slug}/elections", response_model=list[schemas.ElectionRead])
def list_elections(session: SessionDep, member: MemberDep) -> list[Election]:
    return editorial.list_items(session, Election, authority=member.authority)


@router.post("/authorities/{slug}/elections", status_code=201, response_model=schemas.ElectionRead)
def create_election(
    data: schemas.ElectionCreate, session: SessionDep, member: AdminDep
) -> Election:
    """Une élection qui concerne la collectivité : elle déclenche la période pré-électorale
    (art. L52-1 du code électoral) et les fenêtres de silence avant chaque tour (art. L49)."""
    return editorial.create_item(session, Election, authority=member.authority, data=data)


@router.get("/authorities/{slug}/elections/{election_id}", response_model=schemas.ElectionRead)
def read_election(item: ElectionDep) -> Election:
    return item


@router.patch("/authorities/{slug}/elections/{election_id}", response_model=schemas.ElectionRead)
def update_election(
    item: ElectionDep, data: schemas.ElectionUpdate, session: SessionDep, member: AdminDep
) -> Election:
    return editorial.update_item(session, item, authority=member.authority, data=data)


@router.delete("/authorities/{slug}/elections/{election_id}", status_code=204)
def delete_election(item: ElectionDep, session: SessionDep, member: AdminDep) -> Response:
    editorial.delete_item(session, item, authority=member.authority)
    return Response(status_code=204)
