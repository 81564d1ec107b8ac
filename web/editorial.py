"""The editorial line's pages: every member reads it, administrators write it. Mission and tone,
what each network is for, then the lists (objectives with their KPI, audiences, pillars with
target shares and designated approvers, campaigns, elections): create, edit, delete with a
confirmation. Everything goes through core.editorial.service, as in the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from babel.dates import format_date
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel
from starlette.datastructures import FormData

from api.deps import Member, PathId, SessionDep
from core.accounts.models import Network
from core.authorities import service as authorities
from core.authorities.models import Role
from core.editorial import schemas
from core.editorial import service as editorial
from core.editorial.models import (
    ELECTION_KIND_LABELS,
    KPI_METRIC_LABELS,
    KPI_PERIOD_LABELS,
    Audience,
    Campaign,
    Election,
    ElectionKind,
    KpiMetric,
    KpiPeriod,
    Objective,
    Pillar,
)
from core.errors import AppError, NotFound
from core.i18n import N_
from web import forms, i18n
from web.deps import CsrfDep, PageAdminDep, PageMemberDep
from web.forms import Field
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

FormDep = Annotated[FormData, Depends(forms.form_of)]
Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Kind:
    """One list of the editorial line, as the pages show and edit it."""

    key: str  # the path segment, as in the API
    model: type[SQLModel]
    create: type[BaseModel]
    update: type[BaseModel]
    title: str
    singular: str
    fields: Callable[[Session, Member], list[Field]]
    summary: Callable[[Session, Any, Gettext, str], list[str]]


def _enum_choices(labels: dict[Any, str]) -> forms.Choices:
    return lambda: [(str(value), label) for value, label in labels.items()]


def _day(value: Any, locale: str) -> str:
    return format_date(value, "long", locale=i18n.babel_locale(locale)) if value else "—"


def _objective_fields(_session: Session, _member: Member) -> list[Field]:
    return [
        Field("name", N_("Nom"), required=True),
        Field("description", N_("Description"), "textarea"),
        Field(
            "kpi_metric",
            N_("Indicateur"),
            "select",
            required=True,
            choices=_enum_choices(KPI_METRIC_LABELS),
        ),
        Field("kpi_target", N_("Valeur cible"), "number", required=True, extra={"min": 1}),
        Field(
            "kpi_period",
            N_("Période"),
            "select",
            required=True,
            choices=_enum_choices(KPI_PERIOD_LABELS),
        ),
        Field("active", N_("Actif"), "checkbox", extra={"default": True}),
    ]


def _objective_summary(_s: Session, item: Objective, gettext: Gettext, _locale: str) -> list[str]:
    kpi = gettext(N_("{target} {metric} {period}")).format(
        target=f"{item.kpi_target:,}".replace(",", "\u202f"),
        metric=gettext(KPI_METRIC_LABELS[KpiMetric(item.kpi_metric)]).lower(),
        period=gettext(KPI_PERIOD_LABELS[KpiPeriod(item.kpi_period)]),
    )
    state = [] if item.active else [gettext(N_("inactif"))]
    return [kpi, *state, item.description]


def _audience_fields(_session: Session, _member: Member) -> list[Field]:
    return [
        Field("name", N_("Nom"), required=True),
        Field("description", N_("Description"), "textarea"),
    ]


def _audience_summary(_s: Session, item: Audience, _g: Gettext, _locale: str) -> list[str]:
    return [item.description]


def _approver_choices(session: Session, member: Member) -> forms.Choices:
    def choices() -> list[tuple[str, str]]:
        people = authorities.members_with_role(
            session, authority_id=member.authority_id, role=Role.approver
        )
        return [(str(u.id), u.name) for u in people]

    return choices


def _pillar_fields(session: Session, member: Member) -> list[Field]:
    return [
        Field("name", N_("Nom"), required=True),
        Field("description", N_("Description"), "textarea"),
        Field("color", N_("Couleur"), "color", required=True, extra={"default": "#2a9d8f"}),
        Field(
            "target_share",
            N_("Part visée du mois (%)"),
            "number",
            required=True,
            hint=N_("Les parts des thématiques actives ne dépassent pas 100 % en tout."),
            extra={"min": 0, "max": 100, "default": 0},
        ),
        Field(
            "urgent",
            N_("Alertes (publiables sans validation par l'équipe communication)"),
            "checkbox",
        ),
        Field(
            "promotes_achievements",
            N_("Met en valeur les réalisations (à signaler en période préélectorale)"),
            "checkbox",
        ),
        Field("active", N_("Active"), "checkbox", extra={"default": True}),
        Field(
            "approver_ids",
            N_("Élu·es qui valident cette thématique"),
            "multi",
            hint=N_("Sans élu·e désigné·e, tout·e élu·e valideur peut valider."),
            choices=_approver_choices(session, member),
        ),
    ]


def _pillar_summary(session: Session, item: Pillar, gettext: Gettext, _locale: str) -> list[str]:
    ids = editorial.approver_ids(session, pillar_ids=[item.id])[item.id]  # type: ignore[index,list-item]
    names = [
        u.name
        for u in authorities.members_with_role(
            session, authority_id=item.authority_id, role=Role.approver
        )
        if u.id in ids
    ]
    parts = [gettext(N_("{share} % du mois")).format(share=item.target_share)]
    if item.urgent:
        parts.append(gettext(N_("alertes")))
    if item.promotes_achievements:
        parts.append(gettext(N_("réalisations")))
    if not item.active:
        parts.append(gettext(N_("inactive")))
    if names:
        parts.append(gettext(N_("validée par {names}")).format(names=", ".join(names)))
    return parts


def _objective_choices(session: Session, member: Member) -> forms.Choices:
    def choices() -> list[tuple[str, str]]:
        items = editorial.list_items(session, Objective, authority=member.authority)
        return [(str(o.id), o.name) for o in items]

    return choices


def _campaign_fields(session: Session, member: Member) -> list[Field]:
    return [
        Field("name", N_("Nom"), required=True),
        Field("description", N_("Description"), "textarea"),
        Field(
            "objective_id",
            N_("Objectif servi"),
            "select",
            choices=_objective_choices(session, member),
        ),
        Field("starts_on", N_("Début"), "date", required=True),
        Field("ends_on", N_("Fin"), "date", required=True),
    ]


def _campaign_summary(session: Session, item: Campaign, gettext: Gettext, locale: str) -> list[str]:
    dates = gettext(N_("du {start} au {end}")).format(
        start=_day(item.starts_on, locale), end=_day(item.ends_on, locale)
    )
    objective = session.get(Objective, item.objective_id) if item.objective_id else None
    return [dates, *([objective.name] if objective else []), item.description]


def _election_fields(_session: Session, _member: Member) -> list[Field]:
    return [
        Field(
            "kind",
            N_("Scrutin"),
            "select",
            required=True,
            choices=_enum_choices(ELECTION_KIND_LABELS),
        ),
        Field("territory", N_("Territoire"), required=True),
        Field("first_round", N_("Premier tour"), "date", required=True),
        Field("second_round", N_("Second tour"), "date", optional_none=True),
    ]


def _election_summary(_s: Session, item: Election, gettext: Gettext, locale: str) -> list[str]:
    rounds = [gettext(N_("1er tour : {day}")).format(day=_day(item.first_round, locale))]
    if item.second_round:
        rounds.append(gettext(N_("2d tour : {day}")).format(day=_day(item.second_round, locale)))
    return [gettext(ELECTION_KIND_LABELS[ElectionKind(item.kind)]), *rounds]


KINDS = {
    k.key: k
    for k in [
        Kind(
            "objectives",
            Objective,
            schemas.ObjectiveCreate,
            schemas.ObjectiveUpdate,
            N_("Objectifs et indicateurs"),
            N_("objectif"),
            _objective_fields,
            _objective_summary,
        ),
        Kind(
            "audiences",
            Audience,
            schemas.AudienceCreate,
            schemas.AudienceUpdate,
            N_("Cibles"),
            N_("cible"),
            _audience_fields,
            _audience_summary,
        ),
        Kind(
            "pillars",
            Pillar,
            schemas.PillarCreate,
            schemas.PillarUpdate,
            N_("Thématiques"),
            N_("thématique"),
            _pillar_fields,
            _pillar_summary,
        ),
        Kind(
            "campaigns",
            Campaign,
            schemas.CampaignCreate,
            schemas.CampaignUpdate,
            N_("Campagnes"),
            N_("campagne"),
            _campaign_fields,
            _campaign_summary,
        ),
        Kind(
            "elections",
            Election,
            schemas.ElectionCreate,
            schemas.ElectionUpdate,
            N_("Élections"),
            N_("élection"),
            _election_fields,
            _election_summary,
        ),
    ]
}

LINE_FIELDS = [
    Field("mission", N_("Mission"), "textarea"),
    Field("tone_charter", N_("Charte de ton"), "textarea"),
    Field(
        "address_form",
        N_("Adresse au public"),
        "select",
        required=True,
        choices=lambda: [("vous", N_("Vouvoiement")), ("tu", N_("Tutoiement"))],
    ),
    Field("emoji_policy", N_("Usage des émojis")),
    Field(
        "hashtags",
        N_("Mots-dièse de la collectivité"),
        hint=N_("Séparés par des espaces, en CamelCase, par exemple : ValDeBrume ConseilMunicipal"),
    ),
]
NETWORKS = [n for n in Network if n is not Network.manual]


def _kind(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise NotFound()
    return kind


def _gettext(request: Request) -> Gettext:
    return i18n.translations(locale_of(request)).gettext


def _values(session: Session, item: Any, fields: list[Field]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f in fields:
        value = getattr(item, f.name, None)
        if f.name == "approver_ids":
            value = [str(i) for i in editorial.approver_ids(session, pillar_ids=[item.id])[item.id]]
        values[f.name] = "" if value is None else value
    return values


def _defaults(fields: list[Field]) -> dict[str, Any]:
    return {
        f.name: f.extra.get(
            "default", [] if f.kind == "multi" else ("" if f.kind != "checkbox" else False)
        )
        for f in fields
    }


# --- the overview -------------------------------------------------------------------------------


def _overview(
    request: Request,
    session: Session,
    member: Member,
    *,
    failed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    gettext = _gettext(request)
    locale = locale_of(request)
    sections = []
    for kind in KINDS.values():
        fields = kind.fields(session, member)
        items = editorial.list_items(session, kind.model, authority=member.authority)
        mine = failed is not None and failed["key"] == kind.key
        sections.append(
            {
                "key": kind.key,
                "title": gettext(kind.title),
                "singular": gettext(kind.singular),
                "entries": [
                    {
                        "id": item.id,  # type: ignore[attr-defined]
                        "name": getattr(item, "name", None) or getattr(item, "territory", ""),
                        "color": getattr(item, "color", None),
                        "summary": [s for s in kind.summary(session, item, gettext, locale) if s],
                    }
                    for item in items
                ],
                "fields": forms.for_template(fields, gettext),
                "form_values": failed["values"] if mine else _defaults(fields),  # type: ignore[index]
                "errors": failed["errors"] if mine else [],  # type: ignore[index]
            }
        )
    pillars = editorial.list_items(session, Pillar, authority=member.authority)
    line = editorial.read_line(session, authority=member.authority)
    line_failed = failed is not None and failed["key"] == "line"
    line_values = (
        failed["values"]  # type: ignore[index]
        if line_failed
        else {**line.model_dump(), "hashtags": " ".join(line.hashtags)}
    )
    context = {
        "authority": member.authority,
        "member": member,
        "is_admin": member.has(Role.admin),
        "line": line,
        "line_fields": forms.for_template(LINE_FIELDS, gettext),
        "line_values": line_values,
        "line_errors": failed["errors"] if line_failed else [],  # type: ignore[index]
        "networks": [(n.value, n.label) for n in NETWORKS],
        "address_labels": {"vous": gettext(N_("Vouvoiement")), "tu": gettext(N_("Tutoiement"))},
        "sections": sections,
        "share_total": sum(p.target_share for p in pillars if p.active),
    }
    return render(request, "editorial.html", context, status_code=status_code)


def _back(member: Member, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"/a/{quote(member.authority.slug)}/editorial#{anchor}", status_code=303
    )


@router.get("/a/{slug}/editorial")
def overview(request: Request, session: SessionDep, member: PageMemberDep) -> Response:
    return _overview(request, session, member)


@router.post("/a/{slug}/editorial/line", dependencies=[CsrfDep])
def write_line(
    request: Request, session: SessionDep, member: PageAdminDep, form: FormDep
) -> Response:
    values = forms.read(form, LINE_FIELDS)
    values["hashtags"] = values["hashtags"] or ""
    roles = {n.value: str(form.get(f"role_{n.value}") or "").strip() for n in NETWORKS}
    values["network_roles"] = roles
    gettext = _gettext(request)
    try:
        data = schemas.EditorialLineWrite.model_validate(
            {
                **values,
                "hashtags": [t for t in values["hashtags"].replace(",", " ").split() if t],
                "network_roles": {k: v for k, v in roles.items() if v},
            }
        )
        editorial.write_line(session, authority=member.authority, data=data, by=member.user)
    except ValidationError as exc:
        failed = {
            "key": "line",
            "values": values,
            "errors": forms.errors_of(exc, LINE_FIELDS, gettext),
        }
        return _overview(request, session, member, failed=failed, status_code=422)
    return _back(member, "ligne")


@router.post("/a/{slug}/editorial/{key}", dependencies=[CsrfDep])
def create(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    form: FormDep,
    key: Annotated[str, Path(max_length=32)],
) -> Response:
    kind = _kind(key)
    fields = kind.fields(session, member)
    values = forms.read(form, fields)
    gettext = _gettext(request)
    try:
        data = kind.create.model_validate(values)
        editorial.create_item(session, kind.model, authority=member.authority, data=data)
    except ValidationError as exc:
        failed = {"key": key, "values": values, "errors": forms.errors_of(exc, fields, gettext)}
        return _overview(request, session, member, failed=failed, status_code=422)
    except AppError as error:
        session.rollback()
        failed = {"key": key, "values": values, "errors": [error.translated(gettext)]}
        return _overview(request, session, member, failed=failed, status_code=error.status_code)
    return _back(member, key)


# --- one item: edit, delete ---------------------------------------------------------------------


def _edit_page(
    request: Request,
    session: Session,
    member: Member,
    kind: Kind,
    item: Any,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    gettext = _gettext(request)
    fields = kind.fields(session, member)
    context = {
        "authority": member.authority,
        "member": member,
        "key": kind.key,
        "title": gettext(kind.title),
        "singular": gettext(kind.singular),
        "item": item,
        "item_name": getattr(item, "name", None) or getattr(item, "territory", ""),
        "fields": forms.for_template(fields, gettext),
        "values": values if values is not None else _values(session, item, fields),
        "errors": errors or [],
    }
    return render(request, "editorial_item.html", context, status_code=status_code)


@router.get("/a/{slug}/editorial/{key}/{item_id}")
def edit_page(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    key: Annotated[str, Path(max_length=32)],
    item_id: PathId,
) -> Response:
    kind = _kind(key)
    item = editorial.get_item(session, kind.model, authority=member.authority, item_id=item_id)
    return _edit_page(request, session, member, kind, item)


@router.post("/a/{slug}/editorial/{key}/{item_id}", dependencies=[CsrfDep])
def update(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    form: FormDep,
    key: Annotated[str, Path(max_length=32)],
    item_id: PathId,
) -> Response:
    kind = _kind(key)
    item = editorial.get_item(session, kind.model, authority=member.authority, item_id=item_id)
    fields = kind.fields(session, member)
    values = forms.read(form, fields)
    gettext = _gettext(request)
    try:
        # A full form: checked as a new item would be (every required value present), then
        # applied as an update (empty optional values clear what was there).
        kind.create.model_validate(values)
        data = kind.update.model_validate(values)
        editorial.update_item(session, item, authority=member.authority, data=data)
    except ValidationError as exc:
        session.rollback()
        return _edit_page(
            request,
            session,
            member,
            kind,
            item,
            values=values,
            errors=forms.errors_of(exc, fields, gettext),
            status_code=422,
        )
    except AppError as error:
        session.rollback()
        item = editorial.get_item(session, kind.model, authority=member.authority, item_id=item_id)
        return _edit_page(
            request,
            session,
            member,
            kind,
            item,
            values=values,
            errors=[error.translated(gettext)],
            status_code=error.status_code,
        )
    return _back(member, key)


def _confirm_page(
    request: Request,
    member: Member,
    kind: Kind,
    item: Any,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    gettext = _gettext(request)
    context = {
        "authority": member.authority,
        "member": member,
        "key": kind.key,
        "singular": gettext(kind.singular),
        "item": item,
        "item_name": getattr(item, "name", None) or getattr(item, "territory", ""),
        "error": error,
    }
    return render(request, "editorial_delete.html", context, status_code=status_code)


@router.get("/a/{slug}/editorial/{key}/{item_id}/delete")
def confirm_delete(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    key: Annotated[str, Path(max_length=32)],
    item_id: PathId,
) -> Response:
    kind = _kind(key)
    item = editorial.get_item(session, kind.model, authority=member.authority, item_id=item_id)
    return _confirm_page(request, member, kind, item)


@router.post("/a/{slug}/editorial/{key}/{item_id}/delete", dependencies=[CsrfDep])
def delete(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    key: Annotated[str, Path(max_length=32)],
    item_id: PathId,
) -> Response:
    kind = _kind(key)
    item = editorial.get_item(session, kind.model, authority=member.authority, item_id=item_id)
    try:
        editorial.delete_item(session, item, authority=member.authority)
    except AppError as error:
        session.rollback()
        return _confirm_page(
            request,
            member,
            kind,
            item,
            error=error.translated(_gettext(request)),
            status_code=error.status_code,
        )
    return _back(member, key)
