"""The editorial line of an authority: mission and tone, objectives, audiences, pillars,
campaigns, elections. Tables only; the rules live in `core.editorial.service`."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core import clock
from core.db import UTCDateTime
from core.i18n import N_


class EditorialLine(SQLModel, table=True):
    """One per authority: mission statement, tone charter and what each network is for."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", unique=True)
    mission: str = Field(default="", sa_type=sa.Text)
    tone_charter: str = Field(default="", sa_type=sa.Text)
    # "vous" (vouvoiement) or "tu".
    address_form: str = Field(default="vous", max_length=8)
    emoji_policy: str = Field(default="", max_length=1000)
    # Hashtags the authority uses, written in CamelCase, without "#".
    hashtags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    # Network value ("facebook", "x", …) → what the authority uses it for, in French.
    network_roles: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")


class KpiMetric(StrEnum):
    impressions = "impressions"
    reach = "reach"
    engagements = "engagements"
    clicks = "clicks"
    shares = "shares"
    followers = "followers"
    posts = "posts"


KPI_METRIC_LABELS = {
    KpiMetric.impressions: N_("Impressions"),
    KpiMetric.reach: N_("Personnes atteintes"),
    KpiMetric.engagements: N_("Interactions"),
    KpiMetric.clicks: N_("Clics"),
    KpiMetric.shares: N_("Partages"),
    KpiMetric.followers: N_("Nouveaux abonnés"),
    KpiMetric.posts: N_("Publications"),
}


class KpiPeriod(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


KPI_PERIOD_LABELS = {
    KpiPeriod.week: N_("par semaine"),
    KpiPeriod.month: N_("par mois"),
    KpiPeriod.quarter: N_("par trimestre"),
    KpiPeriod.year: N_("par an"),
}


class Objective(SQLModel, table=True):
    """What communication must achieve, with a measurable KPI: e.g. « faire connaître les
    nouveaux services en ligne : 2 000 clics par trimestre »."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    kpi_metric: KpiMetric = Field(sa_type=sa.String(32))
    kpi_target: int = Field(ge=1)
    kpi_period: KpiPeriod = Field(sa_type=sa.String(16))
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Audience(SQLModel, table=True):
    """A group the authority speaks to (cible): residents, families, seniors, businesses…"""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class Pillar(SQLModel, table=True):
    """A theme of the mix (thématique): travaux, culture, démarches, alertes…"""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    color: str = Field(max_length=7)
    # Target share of the monthly mix, in percent; the shares of active pillars add up to 100 at
    # most.
    target_share: int = Field(default=0, ge=0, le=100)
    # Alerts (flood, heatwave, road closure): an editor may publish without approval, and only
    # these go out during the silence window before a vote.
    urgent: bool = False
    # Posts that promote the authority's achievements: during a pre-electoral period they need
    # the approver's explicit acknowledgement (electoral code, art. L52-1).
    promotes_achievements: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class PillarApprover(SQLModel, table=True):
    """A designated approver of a pillar (the deputy mayor in charge of that area)."""

    pillar_id: int = Field(foreign_key="pillar.id", ondelete="CASCADE", primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE", primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)


class Campaign(SQLModel, table=True):
    """A named, dated set of posts serving one objective (a project, an event)."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    objective_id: int | None = Field(default=None, foreign_key="objective.id", ondelete="SET NULL")
    starts_on: date
    ends_on: date
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)


class ElectionKind(StrEnum):
    municipales = "municipales"
    communautaires = "communautaires"
    departementales = "departementales"
    regionales = "regionales"
    legislatives = "legislatives"
    senatoriales = "senatoriales"
    presidentielle = "presidentielle"
    europeennes = "europeennes"
    referendum = "referendum"


ELECTION_KIND_LABELS = {
    ElectionKind.municipales: N_("Élections municipales"),
    ElectionKind.communautaires: N_("Élections communautaires"),
    ElectionKind.departementales: N_("Élections départementales"),
    ElectionKind.regionales: N_("Élections régionales"),
    ElectionKind.legislatives: N_("Élections législatives"),
    ElectionKind.senatoriales: N_("Élections sénatoriales"),
    ElectionKind.presidentielle: N_("Élection présidentielle"),
    ElectionKind.europeennes: N_("Élections européennes"),
    ElectionKind.referendum: N_("Référendum local"),
}


class Election(SQLModel, table=True):
    """An election concerning the authority; drives the pre-electoral rules (core.electoral)."""

    id: int | None = Field(default=None, primary_key=True)
    authority_id: int = Field(foreign_key="authority.id", ondelete="CASCADE", index=True)
    kind: ElectionKind = Field(sa_type=sa.String(32))
    territory: str = Field(max_length=200)
    first_round: date
    # None for a single-round vote.
    second_round: date | None = None
    created_at: datetime = Field(default_factory=clock.now, sa_type=UTCDateTime)
