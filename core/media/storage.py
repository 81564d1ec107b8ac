"""Where image files live: BEFFROI_DATA_DIR/media/<2 first hex of the SHA-256>/<SHA-256>.<ext>,
outside anything served statically; only the authorised media routes read them.

Files are content-addressed, so two media with the same pixels share one file, and a file is
written before the row that names it. A file is removed only once the transaction that deleted its
last row has committed (a rolled-back deletion leaves everything in place).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from core.config import Settings

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}
_PENDING = "media_files_to_remove"


def media_root(settings: Settings) -> Path:
    return (settings.data_dir / "media").resolve()


def relative_path(sha256: str, mime: str) -> str:
    return f"media/{sha256[:2]}/{sha256}.{EXTENSIONS[mime]}"


def absolute(settings: Settings, relative: str) -> Path:
    path = (settings.data_dir / relative).resolve()
    # Paths come from our own rows, but never let one point outside the media directory.
    if media_root(settings) not in path.parents:
        raise ValueError(f"media path outside the media directory: {relative}")
    return path


def write(settings: Settings, *, sha256: str, mime: str, data: bytes) -> str:
    """Store `data` under its content address (atomically) and return the relative path."""
    relative = relative_path(sha256, mime)
    path = absolute(settings, relative)
    if path.exists() and path.stat().st_size == len(data):
        return relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return relative


def read(settings: Settings, relative: str) -> bytes | None:
    try:
        return absolute(settings, relative).read_bytes()
    except FileNotFoundError:
        return None


def remove_after_commit(session: OrmSession, settings: Settings, relatives: set[str]) -> None:
    """Remove these files once the session commits, if no row still names them then."""
    pending: dict[str, Path] = session.info.setdefault(_PENDING, {})
    for relative in relatives:
        pending[relative] = absolute(settings, relative)


@event.listens_for(OrmSession, "after_commit")
def _remove_files(session: OrmSession) -> None:
    pending: dict[str, Path] = session.info.pop(_PENDING, {})
    if not pending:
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    try:
        with engine.connect() as connection:
            still_used = _paths_in_use(connection, list(pending))
    except sa.exc.SQLAlchemyError as exc:
        # Keeping an unused file is harmless; removing a used one is not.
        log.warning("Could not check media files before removing them: %s", exc)
        return
    for relative, path in pending.items():
        if relative in still_used:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("Could not remove media file %s: %s", path, exc)


@event.listens_for(OrmSession, "after_rollback")
def _forget_files(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)


def _paths_in_use(connection: sa.Connection, relatives: list[str]) -> set[str]:
    from core.media.models import MediaAsset, MediaRendition

    used: set[str] = set()
    for model in (MediaAsset, MediaRendition):
        column: Any = model.path
        used.update(connection.execute(sa.select(column).where(column.in_(relatives))).scalars())
    return used
