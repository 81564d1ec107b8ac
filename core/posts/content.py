"""The content of a post that an approval binds to: master text, per-target texts, media (ids and
sha256 of their files) and target accounts. Moving a post in time does not change it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from sqlmodel import Session, col, select

from core.media.models import MediaAsset
from core.posts.models import Post, PostMedia, Publication


def content_hash(
    text: str, targets: Sequence[tuple[int, str | None]], media: Sequence[tuple[int, str]]
) -> str:
    payload = {
        "text": text,
        "targets": sorted([account_id, target_text] for account_id, target_text in targets),
        "media": [[media_id, sha] for media_id, sha in media],
    }
    encoded = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def media_of(session: Session, post: Post) -> list[MediaAsset]:
    stmt = (
        select(MediaAsset)
        .join(PostMedia, col(PostMedia.media_id) == MediaAsset.id)
        .where(PostMedia.post_id == post.id)
        .order_by(col(PostMedia.position))
    )
    return list(session.exec(stmt))


def current_hash(session: Session, post: Post) -> str:
    """The hash of what the post holds now in the database."""
    targets = session.exec(select(Publication).where(Publication.post_id == post.id)).all()
    return content_hash(
        post.text,
        [(t.account_id, t.text) for t in targets],
        [(m.id, m.sha256) for m in media_of(session, post)],  # type: ignore[misc]
    )
