"""What the API reads and writes for the editorial line (the tables are in `models`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from core import validation
from core.accounts.models import Network
from core.editorial.models import ElectionKind, KpiMetric, KpiPeriod
from core.validation import DbId

Name = Annotated[str, AfterValidator(validation.name), Field(max_length=200)]
Color = Annotated[str, AfterValidator(validation.color)]
Description = Annotated[str, Field(max_length=5000)]


def _hashtag(value: str) -> str:
    value = value.strip().lstrip("#")
    if not value or len(value) > 100 or any(c.isspace() or c in "#,;" for c in value):
        raise ValueError(
            f"« {value} » n'est pas un mot-dièse : un seul mot, sans espace, sans « # », "
            "par exemple « ValDeBrume »."
        )
    return value


Hashtag = Annotated[str, AfterValidator(_hashtag)]


class EditorialLineWrite(BaseModel):
    mission: Annotated[str, Field(max_length=10000)] = ""
    tone_charter: Annotated[str, Field(max_length=10000)] = ""
    address_form: Literal["vous", "tu"] = "vous"
    emoji_policy: Annotated[str, Field(max_length=1000)] = ""
    hashtags: Annotated[list[Hashtag], Field(max_length=100)] = []
    # What each network is for, in French (« X : actualité et journalistes »).
    network_roles: dict[Network, Annotated[str, Field(max_length=500)]] = {}


class EditorialLineRead(EditorialLineWrite):
    updated_at: datetime | None = None


class ObjectiveCreate(BaseModel):
    name: Name
    description: Description = ""
    kpi_metric: KpiMetric
    kpi_target: Annotated[int, Field(ge=1, le=1_000_000_000)]
    kpi_period: KpiPeriod
    active: bool = True


class ObjectiveUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None
    kpi_metric: KpiMetric | None = None
    kpi_target: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    kpi_period: KpiPeriod | None = None
    active: bool | None = None


class ObjectiveRead(ObjectiveCreate):
    id: int
    created_at: datetime


class AudienceCreate(BaseModel):
    name: Name
    description: Description = ""


class AudienceUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None


class AudienceRead(AudienceCreate):
    id: int
    created_at: datetime


Share = Annotated[int, Field(ge=0, le=100)]
ApproverIds = Annotated[list[DbId], Field(max_length=50)]


class PillarCreate(BaseModel):
    """`target_share` is the share of the monthly mix, in percent; `approver_ids` are the user
    ids (see GET …/members) of the elected officials who approve this pillar's posts."""

    name: Name
    description: Description = ""
    color: Color
    target_share: Share = 0
    urgent: bool = False
    promotes_achievements: bool = False
    active: bool = True
    approver_ids: ApproverIds = []


class PillarUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None
    color: Color | None = None
    target_share: Share | None = None
    urgent: bool | None = None
    promotes_achievements: bool | None = None
    active: bool | None = None
    approver_ids: ApproverIds | None = None


class PillarRead(PillarCreate):
    id: int
    created_at: datetime


class CampaignCreate(BaseModel):
    name: Name
    description: Description = ""
    objective_id: DbId | None = None
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _ordered(self) -> CampaignCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("La campagne doit finir le jour où elle commence ou après.")
        return self


class CampaignUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None
    objective_id: DbId | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class CampaignRead(BaseModel):
    id: int
    name: str
    description: str
    objective_id: int | None
    starts_on: date
    ends_on: date
    created_at: datetime


class ElectionCreate(BaseModel):
    kind: ElectionKind
    territory: Name
    first_round: date
    second_round: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ElectionCreate:
        if self.second_round is not None and self.second_round <= self.first_round:
            raise ValueError("Le second tour doit avoir lieu après le premier.")
        return self


class ElectionUpdate(BaseModel):
    kind: ElectionKind | None = None
    territory: Name | None = None
    first_round: date | None = None
    second_round: date | None = None


class ElectionRead(BaseModel):
    id: int
    kind: ElectionKind
    territory: str
    first_round: date
    second_round: date | None
    created_at: datetime
