"""The monthly calendar, posting slots and "add to queue"."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from pydantic import BaseModel

from api.deps import AdminDep, EditorDep, MemberDep, PathId, SessionDep, SettingsDep
from api.routers.accounts import AccountDep
from api.routers.posts import PostDep, PostMemberDep
from core import clock
from core.authorities import service as authorities
from core.authorities.models import Role
from core.calendar import feed, plan_csv, slots
from core.calendar import service as calendar
from core.calendar.models import SlotCreate, SlotRead
from core.errors import PermissionDenied
from core.i18n import N_

router = APIRouter(prefix="/api/v1", tags=["calendrier"])


@router.get("/authorities/{slug}/calendar", response_model=calendar.CalendarMonth)
def get_calendar(
    session: SessionDep,
    settings: SettingsDep,
    member: MemberDep,
    month: Annotated[str | None, Query(description="AAAA-MM ; par défaut le mois en cours")] = None,
) -> Response:
    """Le mois dans le fuseau de la collectivité : chaque jour avec ses publications, et pour le
    mois le mélange des thématiques face à leur part cible, les cibles et objectifs couverts, les
    jours sans publication, les comptes délaissés, les jours au-delà du quota d'un compte, les
    périodes préélectorales et fenêtres de silence, les jours fériés et vacances scolaires, les
    créneaux libres et, en période préélectorale, la régularité. Un agent contributeur ne voit,
    jour par jour, que ses propres publications."""
    if month is None:
        today = clock.now().astimezone(ZoneInfo(member.authority.timezone)).date()
        first = today.replace(day=1)
    else:
        first = calendar.parse_month(month)
    own_only = not member.has(Role.admin, Role.editor, Role.approver)
    found = calendar.month(
        session,
        settings,
        authority=member.authority,
        first=first,
        only_author_id=member.user.id if own_only else None,
    )
    # Built from typed models already: serialised once, not validated again (a busy month has
    # hundreds of posts).
    return Response(
        content=calendar.CalendarMonth.__pydantic_serializer__.to_json(found),
        media_type="application/json",
    )


class CalendarSettings(BaseModel):
    """`school_zone`: la zone de vacances scolaires (A, B ou C) affichée dans le calendrier."""

    school_zone: Literal["A", "B", "C"] | None = None


@router.get("/authorities/{slug}/calendar/settings", response_model=CalendarSettings)
def get_calendar_settings(member: MemberDep) -> CalendarSettings:
    return CalendarSettings(school_zone=calendar.school_zone(member.authority))


@router.put("/authorities/{slug}/calendar/settings", response_model=CalendarSettings)
def put_calendar_settings(
    data: CalendarSettings, session: SessionDep, member: AdminDep
) -> CalendarSettings:
    authority = member.authority
    authority.settings = {**(authority.settings or {}), "school_zone": data.school_zone}
    session.add(authority)
    session.flush()
    return data


# --- posting slots -----------------------------------------------------------------------------


@router.get("/authorities/{slug}/accounts/{account_id}/slots", response_model=list[SlotRead])
def list_slots(account: AccountDep, session: SessionDep) -> list[SlotRead]:
    return [SlotRead.of(s) for s in slots.list_slots(session, account=account)]


@router.post(
    "/authorities/{slug}/accounts/{account_id}/slots", status_code=201, response_model=SlotRead
)
def add_slot(
    account: AccountDep, data: SlotCreate, session: SessionDep, _editor: EditorDep
) -> SlotRead:
    """Ajoute un créneau hebdomadaire : `{weekday: 1, local_time: "12:15"}` pour le mardi à
    12 h 15, heure locale de la collectivité (0 = lundi)."""
    return SlotRead.of(slots.add_slot(session, account=account, data=data))


@router.delete("/authorities/{slug}/accounts/{account_id}/slots/{slot_id}", status_code=204)
def delete_slot(
    account: AccountDep, slot_id: PathId, session: SessionDep, _editor: EditorDep
) -> Response:
    slots.delete_slot(session, slot=slots.get_slot(session, account=account, slot_id=slot_id))
    return Response(status_code=204)


class Queued(BaseModel):
    post_id: int
    scheduled_at: datetime
    local_time: str


@router.post("/posts/{post_id}/queue", response_model=Queued)
def queue_post(
    post: PostDep, session: SessionDep, settings: SettingsDep, member: PostMemberDep
) -> Queued:
    """Place la publication dans le prochain créneau libre de chacun de ses comptes (le premier
    moment libre pour tous)."""
    if not member.can_edit:
        raise PermissionDenied(
            N_("Cette action est réservée aux chargé·es de communication et aux administrateurs.")
        )
    at = slots.queue(session, settings, actor=member, post=post)
    local = at.astimezone(ZoneInfo(member.authority.timezone))
    assert post.id is not None
    return Queued(post_id=post.id, scheduled_at=at, local_time=local.isoformat(timespec="minutes"))


# --- private iCal feed -------------------------------------------------------------------------


class FeedToken(BaseModel):
    token: str
    url: str


@router.post("/authorities/{slug}/calendar/feed-token", status_code=201, response_model=FeedToken)
def create_feed_token(session: SessionDep, settings: SettingsDep, member: MemberDep) -> FeedToken:
    """Crée le lien privé d'abonnement à l'agenda des publications (Outlook, Thunderbird,
    téléphone) de la personne connectée ; le lien précédent cesse de fonctionner. Le jeton n'est
    montré qu'une fois."""
    raw = feed.create_token(session, authority=member.authority, user_id=member.user.id)  # type: ignore[arg-type]
    return FeedToken(token=raw, url=feed.feed_url(settings, member.authority, raw))


@router.delete("/authorities/{slug}/calendar/feed-token", status_code=204)
def revoke_feed_token(session: SessionDep, member: MemberDep) -> Response:
    """Révoque le lien d'agenda de la personne connectée : les agendas abonnés ne reçoivent plus
    rien."""
    feed.revoke(session, authority=member.authority, user_id=member.user.id)  # type: ignore[arg-type]
    return Response(status_code=204)


@router.get(
    "/authorities/{slug}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def calendar_feed(
    slug: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
    token: str | None = None,
) -> Response:
    """Le flux iCal privé : un événement par publication programmée (trois mois passés, un an à
    venir), à l'heure de la collectivité. S'authentifie par le jeton de l'adresse."""
    authority = authorities.get_by_slug(session, slug)
    membership = feed.member_for_token(session, authority=authority, raw=token)
    assert authority is not None
    body = feed.ical(session, settings, authority=authority, membership=membership)
    return Response(
        content=body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


# --- CSV export and import ---------------------------------------------------------------------


@router.get(
    "/authorities/{slug}/calendar.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_csv(
    session: SessionDep,
    member: MemberDep,
    month: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    """Le planning en CSV (séparateur « ; », UTF-8) : `month=AAAA-MM` ou `from=AAAA-MM-JJ` et
    `to=AAAA-MM-JJ` (inclus). Colonnes : date, heure, réseaux, thématique, texte, état ; le même
    format se réimporte."""
    first, last = plan_csv.parse_range(month=month, start=start, end=end)
    own_only = not member.has(Role.admin, Role.editor, Role.approver)
    body = plan_csv.export(
        session,
        authority=member.authority,
        first=first,
        last=last,
        author_id=member.user.id if own_only else None,
    )
    filename = f"planning-{member.authority.slug}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class ImportReport(BaseModel):
    imported: int
    post_ids: list[int]
    skipped: list[dict[str, object]]


@router.post("/authorities/{slug}/calendar/import", status_code=201, response_model=ImportReport)
def import_csv(
    session: SessionDep,
    settings: SettingsDep,
    member: EditorDep,
    file: Annotated[UploadFile, File(description="Le planning en CSV")],
    only_valid: Annotated[bool, Form()] = False,
) -> ImportReport:
    """Importe un planning CSV (colonnes date, heure, réseaux, thématique, texte) en brouillons.
    Chaque ligne est vérifiée d'abord ; si une ligne est invalide, rien n'est importé et la
    réponse (422) liste chaque ligne fautive par son numéro, sauf avec `only_valid=true` : les
    lignes valides sont alors importées et les autres listées dans `skipped`."""
    content = plan_csv.decode(file.file.read(plan_csv.MAX_BYTES + 1))
    rows = plan_csv.read_rows(session, authority=member.authority, content=content)
    result = plan_csv.import_rows(session, settings, actor=member, rows=rows, only_valid=only_valid)
    return ImportReport(
        imported=len(result.imported), post_ids=result.imported, skipped=result.skipped
    )
