"""Multipart uploads read under a byte limit while they arrive: a 2 GB body is refused after the
first megabytes past the limit, without being stored or parsed whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from core.errors import AppError
from core.i18n import N_
from core.media import errors
from core.media.rules import human_bytes

# Room for the form's small fields and the multipart boundaries around the file.
OVERHEAD = 64 * 1024
FIELD_MAX_BYTES = 16 * 1024


class MalformedForm(AppError):
    status_code = 400
    code = "malformed_form"
    detail = N_(
        "Le formulaire envoyé est mal formé : envoyez une seule image dans le champ « file » et "
        "sa description dans le champ « alt_text »."
    )


@dataclass
class Upload:
    fields: dict[str, str]
    file: UploadFile | None
    # Every text field in order, repeated names included (checkboxes, lists).
    items: list[tuple[str, str]] = field(default_factory=list)

    async def close(self) -> None:
        if self.file is not None:
            await self.file.close()


async def read_form(
    request: Request,
    *,
    max_bytes: int,
    file_field: str = "file",
    max_fields: int = 10,
    max_field_bytes: int = FIELD_MAX_BYTES,
) -> Upload:
    """The fields and the one file of a multipart request, refused with 413 as soon as the body
    grows past `max_bytes` (plus a little room for the other fields)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise errors.NotMultipart()
    limit = max_bytes + OVERHEAD
    too_large = errors.MediaTooLarge(limit=human_bytes(max_bytes))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large

    async def counted() -> AsyncIterator[bytes]:
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise too_large
            yield chunk

    parser = MultiPartParser(
        request.headers,
        counted(),  # type: ignore[arg-type]
        max_files=1,
        max_fields=max_fields,
        max_part_size=max_field_bytes,
    )
    try:
        form = await parser.parse()
    except MultiPartException:
        raise MalformedForm() from None
    items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    upload = form.get(file_field)
    file = upload if isinstance(upload, UploadFile) else None
    result = Upload(fields=dict(items), file=file, items=items)
    if file is not None and (file.size or 0) > max_bytes:
        await result.close()
        raise too_large
    return result
