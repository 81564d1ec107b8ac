"""The media library of an authority: uploads, renditions per network, branded visuals.

Heavy work (decoding, encoding, drawing) happens before the first query of each function, so a
caller that ends its read transaction first never holds the database while the CPU works.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

from PIL import Image
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Network
from core.authorities.models import Authority
from core.config import Settings
from core.errors import Conflict, NotFound
from core.i18n import N_
from core.media import errors, pipeline, storage, visuals
from core.media.models import (
    ALT_TEXT_MAX,
    MediaAsset,
    MediaOrigin,
    MediaRead,
    MediaRendition,
    MediaUpdate,
    MediaUsage,
    RenditionRead,
)
from core.media.rules import PNG, RULES, ImageProperties, rules_for
from core.posts.models import POST_STATUS_LABELS, Post, PostMedia, PostStatus
from core.tenancy import for_authority
from core.users.models import User

# Bump when the rules table or the rendition pipeline changes: older renditions are then made
# again the next time they are asked for.
RENDITION_VERSION = 1

ANIMATION_REMOVED = N_(
    "Ce GIF était animé : Beffroi garde sa première image, car la plupart des réseaux "
    "n'animent pas les images des publications. Vérifiez qu'elle se comprend seule."
)


@dataclass
class Uploaded:
    media: MediaAsset
    notices: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------


def get(session: Session, *, authority: Authority, media_id: int) -> MediaAsset:
    stmt = for_authority(select(MediaAsset), authority.id).where(MediaAsset.id == media_id)  # type: ignore[arg-type]
    media = session.exec(stmt).first()
    if media is None:
        raise NotFound(N_("Cette image n'existe pas dans la médiathèque de la collectivité."))
    return media


def library(
    session: Session, *, authority: Authority, limit: int = 100, offset: int = 0
) -> list[MediaAsset]:
    """The authority's media, newest first."""
    stmt = (
        for_authority(select(MediaAsset), authority.id)  # type: ignore[arg-type]
        .order_by(col(MediaAsset.created_at).desc(), col(MediaAsset.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(stmt))


def renditions_of(session: Session, *, media: Sequence[MediaAsset]) -> list[MediaRendition]:
    if not media:
        return []
    stmt = for_authority(select(MediaRendition), media[0].authority_id).where(
        col(MediaRendition.media_id).in_([m.id for m in media])
    )
    return list(session.exec(stmt))


def usages(
    session: Session,
    *,
    authority: Authority,
    media_ids: Iterable[int],
) -> dict[int, list[MediaUsage]]:
    """Where each media is used. This is the one place that knows: the library shows it, and
    delete() refuses while a use has `blocks_deletion`."""
    found: dict[int, list[MediaUsage]] = {media_id: [] for media_id in media_ids}
    if authority.logo_media_id in found:
        found[authority.logo_media_id].append(
            MediaUsage(
                kind="logo",
                label=N_("Logo de la collectivité"),
                id=authority.id,
                blocks_deletion=True,
            )
        )
    # Every post keeps its images (the history shows what was approved and published), so any
    # use by a post blocks deletion; the database refuses it too (ON DELETE RESTRICT).
    ids = [media_id for media_id in found if media_id is not None]
    if ids:
        rows = session.exec(
            for_authority(select(Post, PostMedia.media_id), authority.id)  # type: ignore[arg-type]
            .join(PostMedia, col(PostMedia.post_id) == Post.id)
            .where(col(PostMedia.media_id).in_(ids))
            .order_by(col(Post.id))
        )
        for post, media_id in rows:
            found[media_id].append(
                MediaUsage(
                    kind="post",
                    label=N_("publication n° {id} ({status})").format(
                        id=post.id, status=POST_STATUS_LABELS[PostStatus(post.status)]
                    ),
                    id=post.id,
                    blocks_deletion=True,
                )
            )
    return found


def read(session: Session, *, authority: Authority, media: Sequence[MediaAsset]) -> list[MediaRead]:
    """The API's view of several media, with their renditions and uses, in three queries."""
    by_media: dict[int, list[MediaRendition]] = {}
    for rendition in renditions_of(session, media=media):
        by_media.setdefault(rendition.media_id, []).append(rendition)
    uses = usages(session, authority=authority, media_ids=[m.id for m in media if m.id])
    order = list(RULES)
    return [
        MediaRead(
            id=item.id,
            url=file_url(authority, item),
            mime=item.mime,
            width=item.width,
            height=item.height,
            bytes=item.size_bytes,
            alt_text=item.alt_text,
            focal_x=item.focal_x,
            focal_y=item.focal_y,
            filename=item.filename,
            origin=item.origin,
            sha256=item.sha256,
            uploaded_by_id=item.uploaded_by_id,
            created_at=item.created_at,
            updated_at=item.updated_at,
            renditions=[
                RenditionRead(
                    network=r.network,
                    url=rendition_url(authority, item, r),
                    mime=r.mime,
                    width=r.width,
                    height=r.height,
                    bytes=r.size_bytes,
                )
                for r in sorted(by_media.get(item.id, []), key=lambda r: order.index(r.network))  # type: ignore[arg-type]
            ],
            usage=uses.get(item.id, []),  # type: ignore[arg-type]
        )
        for item in media
    ]


def file_url(authority: Authority, media: MediaAsset) -> str:
    return f"/api/v1/authorities/{authority.slug}/media/{media.id}/file"


def rendition_url(authority: Authority, media: MediaAsset, rendition: MediaRendition) -> str:
    # The version in the query string changes with the content, so browsers never show a crop
    # that the focal point has since moved.
    return (
        f"/api/v1/authorities/{authority.slug}/media/{media.id}/renditions/"
        f"{Network(rendition.network).value}?v={rendition.sha256[:16]}"
    )


def properties(item: MediaAsset | MediaRendition) -> ImageProperties:
    """What the network checks need to know about a media or a rendition."""
    alt = item.alt_text if isinstance(item, MediaAsset) else None
    return ImageProperties(
        mime=item.mime, width=item.width, height=item.height, bytes=item.size_bytes, alt_text=alt
    )


# --- writing ---------------------------------------------------------------------------------


def clean_alt_text(value: str | None) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise errors.AltTextRequired(extra={"field": "alt_text"})
    if len(text) > ALT_TEXT_MAX:
        raise errors.AltTextTooLong(length=len(text), max=ALT_TEXT_MAX, extra={"field": "alt_text"})
    return text


def upload(
    session: Session,
    settings: Settings,
    *,
    authority: Authority,
    by: User | None,
    source: IO[bytes],
    filename: str | None,
    alt_text: str | None,
) -> Uploaded:
    """Check, clean and store an uploaded image with its renditions for every network."""
    alt = clean_alt_text(alt_text)
    clean = pipeline.sanitize(source, max_pixels=settings.media_max_pixels)
    media = store(
        session,
        settings,
        authority=authority,
        by=by,
        clean=clean,
        alt_text=alt,
        filename=display_name(filename),
        origin=MediaOrigin.upload,
    )
    return Uploaded(media=media, notices=[ANIMATION_REMOVED] if clean.was_animated else [])


def store(
    session: Session,
    settings: Settings,
    *,
    authority: Authority,
    by: User | None,
    clean: pipeline.CleanImage,
    alt_text: str,
    filename: str,
    origin: MediaOrigin,
) -> MediaAsset:
    focal = (0.5, 0.5)
    made = _render_all(clean.image, focal=focal, graphics=clean.mime == PNG)
    path = storage.write(settings, sha256=clean.sha256, mime=clean.mime, data=clean.data)
    paths = {
        network: storage.write(settings, sha256=r.sha256, mime=r.mime, data=r.data)
        for network, r in made.items()
    }
    now = clock.now()
    media = MediaAsset(
        authority_id=authority.id,  # type: ignore[arg-type]
        sha256=clean.sha256,
        path=path,
        mime=clean.mime,
        width=clean.width,
        height=clean.height,
        size_bytes=len(clean.data),
        alt_text=alt_text,
        focal_x=focal[0],
        focal_y=focal[1],
        filename=filename,
        origin=origin,
        uploaded_by_id=by.id if by else None,
        created_at=now,
        updated_at=now,
    )
    session.add(media)
    session.flush()
    for network, rendition in made.items():
        session.add(_rendition_row(media, network, rendition, paths[network]))
    session.flush()
    return media


def update(
    session: Session, settings: Settings, *, media: MediaAsset, data: MediaUpdate
) -> MediaAsset:
    """Change the alt text or the focal point; moving the focal point cuts the renditions
    again (before the first query: see the module's docstring)."""
    changes = data.model_dump(exclude_unset=True)
    if "alt_text" in changes and changes["alt_text"] is None:
        raise errors.AltTextRequired(extra={"field": "alt_text"})
    fx, fy = changes.get("focal_x"), changes.get("focal_y")
    focal = (media.focal_x if fx is None else fx, media.focal_y if fy is None else fy)
    moved = focal != (media.focal_x, media.focal_y)
    made: dict[Network, pipeline.Rendition] = {}
    if moved:
        made = _render_all(_open(settings, media), focal=focal, graphics=media.mime == PNG)
    paths = {
        network: storage.write(settings, sha256=r.sha256, mime=r.mime, data=r.data)
        for network, r in made.items()
    }

    if changes.get("alt_text"):
        media.alt_text = changes["alt_text"]
    media.focal_x, media.focal_y = focal
    media.updated_at = clock.now()
    session.add(media)
    if moved:
        existing = {r.network: r for r in renditions_of(session, media=[media])}
        replaced = set()
        for network, rendition in made.items():
            row = existing.get(network)
            if row is None:
                session.add(_rendition_row(media, network, rendition, paths[network]))
                continue
            if row.path != paths[network]:
                replaced.add(row.path)
            _fill(row, rendition, paths[network], focal)
            session.add(row)
        storage.remove_after_commit(session, settings, replaced)
    session.flush()
    return media


def delete(
    session: Session, settings: Settings, *, media: MediaAsset, authority: Authority
) -> None:
    blocking = [
        use
        for use in usages(session, authority=authority, media_ids=[media.id])[media.id]  # type: ignore[list-item,index]
        if use.blocks_deletion
    ]
    if blocking:
        raise Conflict(
            N_(
                "Cette image ne peut pas être supprimée : elle sert encore ({uses}). "
                "Remplacez-la d'abord là où elle sert."
            ),
            uses=", ".join(use.label for use in blocking),
            extra={"usage": [use.model_dump() for use in blocking]},
        )
    paths = {media.path} | {r.path for r in renditions_of(session, media=[media])}
    session.delete(media)  # renditions go with it (ON DELETE CASCADE)
    session.flush()
    storage.remove_after_commit(session, settings, paths)


def rendition_for(
    session: Session, settings: Settings, *, media: MediaAsset, network: Network
) -> MediaRendition | None:
    """The rendition of `media` for `network`, made again if it is missing, stale or its file
    is gone; None for manual channels, which take the media itself."""
    rules = rules_for(network)
    if rules is None:
        return None
    stmt = for_authority(select(MediaRendition), media.authority_id).where(
        MediaRendition.media_id == media.id, MediaRendition.network == network
    )
    row = session.exec(stmt).first()
    focal = (media.focal_x, media.focal_y)
    if (
        row is not None
        and row.version == RENDITION_VERSION
        and (row.focal_x, row.focal_y) == focal
        and storage.absolute(settings, row.path).exists()
    ):
        return row
    made = pipeline.render(_open(settings, media), rules, focal=focal, graphics=media.mime == PNG)
    path = storage.write(settings, sha256=made.sha256, mime=made.mime, data=made.data)
    if row is None:
        row = _rendition_row(media, network, made, path)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # made at the same moment by another request: use theirs
            return session.exec(stmt).one()
        return row
    if row.path != path:
        storage.remove_after_commit(session, settings, {row.path})
    _fill(row, made, path, focal)
    session.add(row)
    session.flush()
    return row


def file_path(settings: Settings, item: MediaAsset | MediaRendition) -> str:
    """The absolute path of a media's or a rendition's file, which must exist."""
    path = storage.absolute(settings, item.path)
    if not path.exists():
        raise errors.StoredFileMissing()
    return str(path)


# --- branded visuals -------------------------------------------------------------------------


def logo_of(session: Session, *, authority: Authority) -> MediaAsset | None:
    if authority.logo_media_id is None:
        return None
    stmt = for_authority(select(MediaAsset), authority.id).where(  # type: ignore[arg-type]
        MediaAsset.id == authority.logo_media_id
    )
    return session.exec(stmt).first()


def create_visual(
    session: Session,
    settings: Settings,
    *,
    authority: Authority,
    by: User,
    card: visuals.VisualCreate,
    logo: MediaAsset | None,
) -> MediaAsset:
    """Draw a branded card and add it to the library, its alt text taken from its text."""
    brand = visuals.Brand(
        name=authority.name,
        primary=visuals.hex_color(authority.brand_primary),
        secondary=visuals.hex_color(authority.brand_secondary),
        timezone=authority.timezone,
        logo=_open(settings, logo) if logo is not None else None,
    )
    drawn = visuals.render(card, brand)
    clean = pipeline.from_drawing(drawn.image)
    return store(
        session,
        settings,
        authority=authority,
        by=by,
        clean=clean,
        alt_text=clean_alt_text(drawn.alt_text[:ALT_TEXT_MAX]),
        filename=f"visuel-{card.template.value}.png",
        origin=MediaOrigin.visual,
    )


# --- helpers ---------------------------------------------------------------------------------


def display_name(filename: str | None) -> str:
    """The name a person's device gave the file, safe to show (no path, no control chars)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:200]


def _open(settings: Settings, media: MediaAsset) -> Image.Image:
    data = storage.read(settings, media.path)
    if data is None:
        raise errors.StoredFileMissing()
    return pipeline.open_clean(data)


def _render_all(
    image: Image.Image, *, focal: tuple[float, float], graphics: bool
) -> dict[Network, pipeline.Rendition]:
    return {
        network: pipeline.render(image, rules, focal=focal, graphics=graphics)
        for network, rules in RULES.items()
    }


def _rendition_row(
    media: MediaAsset, network: Network, made: pipeline.Rendition, path: str
) -> MediaRendition:
    row = MediaRendition(
        authority_id=media.authority_id,
        media_id=media.id,  # type: ignore[arg-type]
        network=network,
        sha256=made.sha256,
        path=path,
        mime=made.mime,
        width=made.width,
        height=made.height,
        size_bytes=len(made.data),
        focal_x=media.focal_x,
        focal_y=media.focal_y,
        version=RENDITION_VERSION,
    )
    return row


def _fill(
    row: MediaRendition, made: pipeline.Rendition, path: str, focal: tuple[float, float]
) -> None:
    row.sha256 = made.sha256
    row.path = path
    row.mime = made.mime
    row.width = made.width
    row.height = made.height
    row.size_bytes = len(made.data)
    row.focal_x, row.focal_y = focal
    row.version = RENDITION_VERSION
    row.created_at = clock.now()
