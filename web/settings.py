"""The authority's settings page: name, timezone, brand colours, logo (from the media library or
uploaded here), school-holiday zone (administrators); and, for every member, their private iCal
feed URL, created, regenerated or revoked."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api import security, uploads
from api.deps import Member, SessionDep, SettingsDep
from core.authorities import service as authorities
from core.authorities.models import AuthorityUpdate, Role
from core.calendar import feed
from core.calendar import service as calendar
from core.errors import AppError, InvalidInput
from core.i18n import N_
from core.media import service as media
from web import forms, i18n
from web.deps import CsrfDep, PageAdminDep, PageMemberDep
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=200)]
# The French authorities' zones, mainland first; any IANA name is accepted.
TIMEZONES = [
    "Europe/Paris",
    "America/Guadeloupe",
    "America/Martinique",
    "America/Cayenne",
    "Indian/Reunion",
    "Indian/Mayotte",
    "America/Miquelon",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Wallis",
]
LABELS = [
    forms.Field("name", N_("Nom de la collectivité")),
    forms.Field("timezone", N_("Fuseau horaire")),
    forms.Field("brand_primary", N_("Couleur principale")),
    forms.Field("brand_secondary", N_("Couleur secondaire")),
    forms.Field("logo_media_id", N_("Logo")),
]


def _gettext(request: Request) -> Any:
    return i18n.translations(locale_of(request)).gettext


def _current(member: Member) -> dict[str, Any]:
    authority = member.authority
    return {
        "name": authority.name,
        "timezone": authority.timezone,
        "brand_primary": authority.brand_primary,
        "brand_secondary": authority.brand_secondary,
        "school_zone": calendar.school_zone(authority) or "",
        "logo_media_id": str(authority.logo_media_id or ""),
    }


def _page(
    request: Request,
    session: Session,
    member: Member,
    *,
    values: dict[str, Any] | None = None,
    errors: list[str] | None = None,
    logo_errors: list[str] | None = None,
    feed_url: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    authority = member.authority
    is_admin = member.has(Role.admin)
    images = media.library(session, authority=authority) if is_admin else []
    logo = media.logo_of(session, authority=authority)
    context = {
        "authority": authority,
        "member": member,
        "is_admin": is_admin,
        "values": values or _current(member),
        "errors": errors or [],
        "logo_errors": logo_errors or [],
        "timezones": TIMEZONES,
        "images": [
            {"id": str(m.id), "alt": m.alt_text, "url": media.file_url(authority, m)}
            for m in images
        ],
        "logo": {"url": media.file_url(authority, logo), "alt": logo.alt_text} if logo else None,
        "feed_token": feed.active_token(session, authority=authority, user_id=member.user.id),  # type: ignore[arg-type]
        "feed_url": feed_url,
        "done": done if done in {"saved", "logo", "revoked"} else None,
    }
    return render(request, "settings.html", context, status_code=status_code)


def _back(member: Member, done: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"/a/{quote(member.authority.slug)}/settings?done={done}#{anchor}", status_code=303
    )


@router.get("/a/{slug}/settings")
def settings_page(
    request: Request,
    session: SessionDep,
    member: PageMemberDep,
    done: str | None = None,
) -> Response:
    return _page(request, session, member, done=done)


@router.post("/a/{slug}/settings", dependencies=[CsrfDep])
def save(
    request: Request,
    session: SessionDep,
    member: PageAdminDep,
    name: Text = "",
    timezone: Text = "",
    brand_primary: Text = "",
    brand_secondary: Text = "",
    school_zone: Text = "",
    logo_media_id: Text = "",
) -> Response:
    values = {
        "name": name,
        "timezone": timezone,
        "brand_primary": brand_primary,
        "brand_secondary": brand_secondary,
        "school_zone": school_zone,
        "logo_media_id": logo_media_id,
    }
    gettext = _gettext(request)
    try:
        data = AuthorityUpdate.model_validate(
            {
                "name": name,
                "timezone": timezone.strip(),
                "brand_primary": brand_primary,
                "brand_secondary": brand_secondary,
                "logo_media_id": logo_media_id or None,
            }
        )
        authorities.update(session, authority=member.authority, data=data)
        calendar.set_school_zone(session, authority=member.authority, zone=school_zone or None)
        session.flush()
    except ValidationError as exc:
        session.rollback()
        errors = forms.errors_of(exc, LABELS, gettext)
        return _page(request, session, member, values=values, errors=errors, status_code=422)
    except AppError as error:
        session.rollback()
        session.refresh(member.authority)
        return _page(
            request,
            session,
            member,
            values=values,
            errors=[error.translated(gettext)],
            status_code=error.status_code,
        )
    return _back(member, "saved", "collectivite")


@router.post("/a/{slug}/settings/logo")
async def upload_logo(
    request: Request, session: SessionDep, settings: SettingsDep, member: PageAdminDep
) -> Response:
    """A new logo: stored in the media library like any image (cleaned, with its alt text),
    then chosen as the logo. Multipart, read under the media size limit."""
    await run_in_threadpool(session.commit)  # end the read transaction before the upload
    try:
        form = await uploads.read_form(request, max_bytes=settings.media_max_bytes)
    except AppError as error:
        message = error.translated(_gettext(request))
        status = error.status_code
        return await run_in_threadpool(
            lambda: _page(
                request,
                session,
                member,
                logo_errors=[message],
                status_code=status,
            )
        )
    try:
        security.check_csrf(request, form.fields.get("csrf_token", ""))

        def store() -> Response:
            try:
                if form.file is None or not form.file.size:
                    raise InvalidInput(
                        N_("Choisissez le fichier de l'image du logo (JPEG, PNG, WebP ou GIF)."),
                        extra={"field": "file"},
                    )
                done = media.upload(
                    session,
                    settings,
                    authority=member.authority,
                    by=member.user,
                    source=form.file.file,
                    filename=form.file.filename,
                    alt_text=form.fields.get("alt_text"),
                )
                data = AuthorityUpdate(logo_media_id=done.media.id)
                authorities.update(session, authority=member.authority, data=data)
                session.flush()
            except AppError as error:
                session.rollback()
                session.refresh(member.authority)
                return _page(
                    request,
                    session,
                    member,
                    logo_errors=[error.translated(_gettext(request))],
                    status_code=error.status_code,
                )
            return _back(member, "logo", "logo")

        return await run_in_threadpool(store)
    finally:
        await form.close()


@router.post("/a/{slug}/settings/feed", dependencies=[CsrfDep])
def new_feed(
    request: Request, session: SessionDep, settings: SettingsDep, member: PageMemberDep
) -> Response:
    raw = feed.create_token(session, authority=member.authority, user_id=member.user.id)  # type: ignore[arg-type]
    # Shown once, on this answer only: only its hash is kept.
    url = feed.feed_url(settings, member.authority, raw)
    response = _page(request, session, member, feed_url=url)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/a/{slug}/settings/feed/revoke", dependencies=[CsrfDep])
def revoke_feed(session: SessionDep, member: PageMemberDep) -> Response:
    feed.revoke(session, authority=member.authority, user_id=member.user.id)  # type: ignore[arg-type]
    return _back(member, "revoked", "agenda")
