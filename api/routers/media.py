from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api import uploads
from api.deps import AuthorDep, EditorDep, MemberDep, PathId, SessionDep, SettingsDep
from core.accounts.models import Network
from core.errors import NotFound, PermissionDenied
from core.i18n import N_
from core.media import errors
from core.media import service as media
from core.media.models import MediaAsset, MediaRead, MediaRendition, MediaUpdate, MediaUploadRead
from core.media.visuals import VisualCreate

router = APIRouter(prefix="/api/v1", tags=["médiathèque"])

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "alt_text"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "L'image : JPEG, PNG, WebP ou GIF.",
                        },
                        "alt_text": {
                            "type": "string",
                            "maxLength": 1000,
                            "description": "Le texte alternatif (obligatoire, RGAA).",
                        },
                    },
                }
            }
        },
    }
}


def get_media(session: SessionDep, member: MemberDep, media_id: PathId) -> MediaAsset:
    # Resolved before role checks and body validation: another authority's id is simply unknown.
    return media.get(session, authority=member.authority, media_id=media_id)


MediaDep = Annotated[MediaAsset, Depends(get_media)]


def end_read_transaction(session: Session) -> None:
    """Close the transaction the authentication opened before long work (reading an upload,
    decoding, drawing): on SQLite it holds the write lock (BEGIN IMMEDIATE) until it ends.
    Nothing was written yet, so this commits nothing."""
    session.commit()


@router.post(
    "/authorities/{slug}/media",
    status_code=201,
    response_model=MediaUploadRead,
    openapi_extra=UPLOAD_BODY,
)
async def upload_media(
    request: Request, session: SessionDep, settings: SettingsDep, member: AuthorDep
) -> MediaUploadRead:
    """Ajoute une image à la médiathèque (formulaire multipart : `file` et `alt_text`, tous deux
    obligatoires). JPEG, PNG, WebP ou GIF, reconnus à leur contenu ; taille et nombre de pixels
    limités. L'image est redressée, convertie en sRGB et réenregistrée sans aucune métadonnée
    (ni EXIF, ni position GPS) ; une version adaptée à chaque réseau est préparée. Un GIF animé
    garde sa première image (voir `notices`)."""
    await run_in_threadpool(end_read_transaction, session)
    form = await uploads.read_form(request, max_bytes=settings.media_max_bytes)
    try:
        if form.file is None or not form.file.size:
            raise errors.FileMissing(extra={"field": "file"})
        file = form.file

        def store() -> MediaUploadRead:
            done = media.upload(
                session,
                settings,
                authority=member.authority,
                by=member.user,
                source=file.file,
                filename=file.filename,
                alt_text=form.fields.get("alt_text"),
            )
            [read] = media.read(session, authority=member.authority, media=[done.media])
            return MediaUploadRead(**read.model_dump(), notices=done.notices)

        return await run_in_threadpool(store)
    finally:
        await form.close()


@router.get("/authorities/{slug}/media", response_model=list[MediaRead])
def list_media(
    session: SessionDep,
    member: MemberDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[MediaRead]:
    """La médiathèque : les images, des plus récentes aux plus anciennes, avec leur texte
    alternatif, leur taille, leurs dimensions, leurs versions par réseau et où elles servent."""
    items = media.library(session, authority=member.authority, limit=limit, offset=offset)
    return media.read(session, authority=member.authority, media=items)


@router.get("/authorities/{slug}/media/{media_id}", response_model=MediaRead)
def get_media_item(item: MediaDep, session: SessionDep, member: MemberDep) -> MediaRead:
    [read] = media.read(session, authority=member.authority, media=[item])
    return read


@router.patch("/authorities/{slug}/media/{media_id}", response_model=MediaRead)
def update_media(
    item: MediaDep,
    data: MediaUpdate,
    session: SessionDep,
    settings: SettingsDep,
    member: AuthorDep,
) -> MediaRead:
    """Modifie le texte alternatif ou le point d'intérêt (`focal_x`, `focal_y`, de 0 à 1 depuis
    le coin haut gauche), que les recadrages gardent dans l'image ; les versions par réseau sont
    alors refaites. Réservé à la personne qui a envoyé l'image et aux chargé·es de
    communication."""
    if not (member.can_edit or item.uploaded_by_id == member.user.id):
        raise PermissionDenied(
            N_(
                "Seuls la personne qui a envoyé cette image et les chargé·es de communication "
                "peuvent la modifier."
            )
        )
    end_read_transaction(session)
    updated = media.update(session, settings, media=item, data=data)
    [read] = media.read(session, authority=member.authority, media=[updated])
    return read


@router.delete("/authorities/{slug}/media/{media_id}", status_code=204)
def delete_media(
    item: MediaDep, session: SessionDep, settings: SettingsDep, member: EditorDep
) -> Response:
    """Supprime une image et ses versions ; refusé (409) tant qu'elle sert, par exemple comme
    logo de la collectivité."""
    media.delete(session, settings, media=item, authority=member.authority)
    return Response(status_code=204)


@router.get(
    "/authorities/{slug}/media/{media_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def media_file(item: MediaDep, request: Request, settings: SettingsDep) -> Response:
    """Le fichier de l'image, réservé aux membres de la collectivité."""
    # A media's file never changes: browsers may keep it.
    return _serve(
        request,
        path=media.file_path(settings, item),
        item=item,
        name=f"image-{item.id}",
        cache="private, max-age=31536000, immutable",
    )


@router.get(
    "/authorities/{slug}/media/{media_id}/renditions/{network}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def rendition_file(
    item: MediaDep,
    network: Network,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """La version de l'image préparée pour un réseau (recadrée autour du point d'intérêt,
    dimensionnée et compressée selon ses règles)."""
    rendition = media.rendition_for(session, settings, media=item, network=network)
    if rendition is None:
        raise NotFound(
            N_(
                "Les canaux manuels n'ont pas de version adaptée : utilisez l'image elle-même "
                "(son adresse « url »)."
            )
        )
    # The same address serves a new crop when the focal point moves: revalidate every time.
    return _serve(
        request,
        path=media.file_path(settings, rendition),
        item=rendition,
        name=f"image-{item.id}-{network.value}",
        cache="private, no-cache",
    )


@router.post("/authorities/{slug}/visuals", status_code=201, response_model=MediaRead)
def create_visual(
    data: VisualCreate, session: SessionDep, settings: SettingsDep, member: AuthorDep
) -> MediaRead:
    """Crée un visuel aux couleurs de la collectivité, avec son logo et son nom : `event`
    (titre, date, lieu), `announcement` (titre, court texte) ou `alert` (titre, court texte, à
    fort contraste). Formats : `square` (1080 × 1080), `portrait` (1080 × 1350) ou `landscape`
    (1200 × 630). Le texte alternatif est prérempli avec le texte du visuel ; il se modifie
    ensuite avec PATCH."""
    logo = media.logo_of(session, authority=member.authority)
    end_read_transaction(session)
    item = media.create_visual(
        session,
        settings,
        authority=member.authority,
        by=member.user,
        card=data,
        logo=logo,
    )
    [read] = media.read(session, authority=member.authority, media=[item])
    return read


def _serve(
    request: Request, *, path: str, item: MediaAsset | MediaRendition, name: str, cache: str
) -> Response:
    etag = f'"{item.sha256}"'
    headers = {
        "Cache-Control": cache,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        # Even opened directly, the file is only ever an image.
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    extension = "png" if item.mime == "image/png" else "jpg"
    return FileResponse(
        path,
        media_type=item.mime,
        headers=headers,
        content_disposition_type="inline",
        filename=f"{name}.{extension}",
    )
