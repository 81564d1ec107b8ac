"""Every rule of DESIGN.md section 4 applied to one post, target by target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from core import clock
from core.accounts.models import Account, Network
from core.authorities.models import Authority
from core.config import Settings
from core.editorial.models import EditorialLine, Pillar
from core.i18n import N_
from core.media import rules as media_rules
from core.media import service as media_service
from core.media.models import MediaAsset, MediaRendition
from core.media.rules import ImageProperties, MediaFinding
from core.posts.models import Post, PostMedia, PostStatus, Publication, PublicationStatus
from core.rules import electoral, quotas, text, timing
from core.rules import findings as f
from core.rules.findings import Finding, RulesFailed, Severity
from core.tenancy import for_authority

Stage = Literal["submit", "approve"]

# Posts whose time still matters: once published (or given up), the past is the past.
NOT_YET_OUT = (PostStatus.draft, PostStatus.in_review, PostStatus.approved, PostStatus.rejected)


@dataclass(frozen=True)
class Target:
    publication: Publication
    account: Account

    @property
    def network(self) -> Network:
        return Network(self.account.network)


def check_post(session: Session, settings: Settings, post: Post) -> list[Finding]:
    """Every finding for `post`: errors first, then warnings, each with its target (or none when
    it concerns the whole post)."""
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    targets = _targets(session, post)
    pillar = _pillar(session, post)
    images = _images(session, post)
    found: list[Finding] = []
    if not targets:
        found.append(f.error("no_target", N_("Choisissez au moins un compte sur lequel publier.")))
    found += _content(session, post, targets, images)
    instant = post.scheduled_at or post.suggested_at
    if instant is not None:
        found += _time(session, post, instant, authority.timezone, targets)
        found += electoral.check(
            session,
            settings,
            post=post,
            instant=instant,
            timezone=authority.timezone,
            pillar=pillar,
            accounts=[t.account for t in targets],
        )
    return sorted(found, key=lambda x: x.severity is not Severity.error)


def blocking(findings: Sequence[Finding], *, stage: Stage, acknowledged: set[str]) -> list[Finding]:
    """The findings that stop `stage`: errors; at approval, also the warnings that need an
    acknowledgement the approver did not give."""
    return [
        x
        for x in findings
        if x.severity is Severity.error
        or (stage == "approve" and x.acknowledgeable and x.code not in acknowledged)
    ]


def enforce(
    session: Session,
    settings: Settings,
    post: Post,
    *,
    stage: Stage,
    acknowledged: set[str],
) -> list[Finding]:
    """Check `post` before submitting or approving it: RulesFailed (422, every finding in
    `extra["findings"]`, the blocking ones' codes in `extra["blocking"]`) when something blocks;
    otherwise the warnings to show."""
    found = check_post(session, settings, post)
    stopping = blocking(found, stage=stage, acknowledged=acknowledged)
    if stopping:
        raise RulesFailed(found, blocking=stopping)
    return found


def _targets(session: Session, post: Post) -> list[Target]:
    stmt = (
        for_authority(select(Publication, Account), post.authority_id)
        .join(Account, col(Account.id) == col(Publication.account_id))
        .where(
            Publication.post_id == post.id,
            col(Publication.status) != PublicationStatus.cancelled,
        )
        .order_by(col(Publication.id))
    )
    return [Target(publication, account) for publication, account in session.exec(stmt).all()]


def _pillar(session: Session, post: Post) -> Pillar | None:
    if post.pillar_id is None:
        return None
    pillar = session.get(Pillar, post.pillar_id)
    return pillar if pillar is not None and pillar.authority_id == post.authority_id else None


@dataclass(frozen=True)
class _Image:
    media: MediaAsset
    renditions: dict[Network, MediaRendition]

    def for_network(self, network: Network) -> ImageProperties:
        # What goes out is the network's rendition when there is one, with the media's alt text.
        item = self.renditions.get(network)
        props = media_service.properties(item or self.media)
        return ImageProperties(
            mime=props.mime,
            width=props.width,
            height=props.height,
            bytes=props.bytes,
            alt_text=self.media.alt_text,
        )


def _images(session: Session, post: Post) -> list[_Image]:
    stmt = (
        for_authority(select(MediaAsset), post.authority_id)
        .join(PostMedia, col(PostMedia.media_id) == col(MediaAsset.id))
        .where(PostMedia.post_id == post.id)
        .order_by(col(PostMedia.position))
    )
    media = list(session.exec(stmt).all())
    renditions: dict[int, dict[Network, MediaRendition]] = {}
    for rendition in media_service.renditions_of(session, media=media):
        renditions.setdefault(rendition.media_id, {})[Network(rendition.network)] = rendition
    return [_Image(m, renditions.get(m.id or 0, {})) for m in media]


def _content(
    session: Session, post: Post, targets: Sequence[Target], images: Sequence[_Image]
) -> list[Finding]:
    line = session.exec(for_authority(select(EditorialLine), post.authority_id)).first()
    known = line.hashtags if line else []
    found = text.check_hashtags(post.text, known=known)
    for target in targets:
        body = target.publication.text if target.publication.text is not None else post.text
        account_id = target.account.id
        if not body.strip() and not images:
            found.append(
                f.error(
                    "empty",
                    N_("La publication pour {network} est vide : écrivez un texte."),
                    account_id=account_id,
                    network=target.network.label,
                )
            )
        found += text.check_text(
            target.network,
            body,
            account_id=account_id,
            instance_limit=target.account.max_characters,
        )
        if target.publication.text is not None:
            found += text.check_hashtags(body, known=known, account_id=account_id)
        found += _media(target, images)
    return found


def _media(target: Target, images: Sequence[_Image]) -> list[Finding]:
    network = target.network
    props = [image.for_network(network) for image in images]
    if media_rules.rules_for(network) is None:
        # Manual channels take any image, but every image still needs its alt text.
        missing = [p for p in props if not (p.alt_text or "").strip()]
        return [_alt_text_missing(target.account.id)] if missing else []
    return [_from_media(x, target.account.id) for x in media_rules.check_images(network, props)]


def _alt_text_missing(account_id: int | None) -> Finding:
    return f.error(
        "media_alt_text",
        N_(
            "Chaque image doit avoir un texte alternatif (RGAA) : décrivez-la pour les personnes "
            "qui ne la voient pas."
        ),
        account_id=account_id,
    )


def _from_media(finding: MediaFinding, account_id: int | None) -> Finding:
    return Finding(
        code=f"media_{finding.code}",
        severity=Severity(finding.severity.value),
        detail=finding.detail,
        params=finding.params,
        account_id=account_id,
    )


def _time(
    session: Session,
    post: Post,
    instant: datetime,
    timezone: str,
    targets: Sequence[Target],
) -> list[Finding]:
    found: list[Finding] = []
    if post.status in NOT_YET_OUT:
        found += timing.check_past(instant, clock.now(), timezone)
    found += timing.check_instant(instant, timezone)
    found += _quotas(session, post, instant, timezone, targets)
    return found


def _quotas(
    session: Session,
    post: Post,
    instant: datetime,
    timezone: str,
    targets: Sequence[Target],
) -> list[Finding]:
    """Over an account's daily quota with the posts on their way out: an error. Over it only
    with the day's drafts as well: a warning, since a draft that may never go out must not stop
    a post that will."""
    day = instant.astimezone(ZoneInfo(timezone)).date()
    start, end = quotas.day_bounds(day, timezone)
    scope: dict[str, Any] = {
        "authority_id": post.authority_id,
        "account_ids": [t.account.id for t in targets if t.account.id is not None],
        "start": start,
        "end": end,
        "excluding_post_id": post.id,
    }
    going_out = quotas.planned_between(session, **scope, without_drafts=True)
    with_drafts = quotas.planned_between(session, **scope)
    found = []
    for target in targets:
        limit = quotas.quota_of(target.account)
        assert target.account.id is not None
        if limit is None:
            continue
        values: dict[str, Any] = {
            "account": target.account.name,
            "network": target.network.label,
            "limit": limit,
            "day": timing.day_label(day),
        }
        count = going_out.get(target.account.id, 0) + 1
        drafted = with_drafts.get(target.account.id, 0) + 1
        if count > limit:
            found.append(
                f.error(
                    "daily_quota",
                    N_(
                        "« {account} » ({network}) aurait {count} publications le {day}, pour "
                        "{limit} au plus par jour : choisissez un autre jour."
                    ),
                    figure=f"{count} / {limit}",
                    account_id=target.account.id,
                    count=count,
                    **values,
                )
            )
        elif drafted > limit:
            found.append(
                f.warning(
                    "daily_quota_drafts",
                    N_(
                        "« {account} » ({network}) aurait {count} publications le {day} avec les "
                        "brouillons prévus ce jour-là, pour {limit} au plus par jour : certains "
                        "devront changer de jour."
                    ),
                    figure=f"{drafted} / {limit}",
                    account_id=target.account.id,
                    count=drafted,
                    **values,
                )
            )
    return found
