"""The pages of a post: the composer (new and edit), the post's own page with its actions, and an
agent's proposals. Every change goes through the same services as the API (core.posts.service,
core.posts.workflow, core.media.service, core.calendar.slots); a refused action re-renders the
page with the person's input and a French sentence, and writes nothing (a savepoint per try)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import ImmutableMultiDict, UploadFile
from twitter_text.config import config as twitter_config
from twitter_text.regexp.valid_cctld import valid_cctld
from twitter_text.regexp.valid_gtld import valid_gtld

from api import security, uploads
from api.deps import Member, PathId, SessionDep, SettingsDep, member_of
from api.errors import french_error
from core.accounts import service as accounts
from core.accounts.models import Network
from core.authorities.models import Authority, Role
from core.calendar import slots
from core.config import Settings
from core.editorial import service as editorial
from core.editorial.models import Audience, Campaign, Objective, Pillar
from core.errors import AppError, InvalidInput, NotFound
from core.i18n import N_
from core.media import errors as media_errors
from core.media import service as media
from core.media.models import MediaAsset
from core.media.visuals import VisualCreate
from core.posts import access, content, history, notify, workflow
from core.posts import service as posts
from core.posts.history import EVENT_LABELS
from core.posts.models import (
    POST_STATUS_LABELS,
    PUBLICATION_STATUS_LABELS,
    EventChannel,
    Post,
    PostStatus,
    PublicationStatus,
)
from core.posts.schemas import PostCreate, PostUpdate, TargetIn
from core.publishing import service as publishing
from core.rules import checks as rules
from core.rules import text as counting
from core.rules.findings import Finding, RulesFailed, Severity
from core.validation import MAX_ID
from web import i18n, review
from web.deps import CsrfDep, PageMemberDep, PageUserDep
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)
WEB = EventChannel.web


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def gettext_of(request: Request) -> Callable[[str], str]:
    return i18n.translations(locale_of(request)).gettext


# --- the post a page is about --------------------------------------------------------------------


def get_page_post_member(session: SessionDep, user: PageUserDep, post_id: PathId) -> Member:
    # Found in the person's authorities only: anything else is simply unknown (404).
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(access.POST_NOT_FOUND)
    return member_of(session, authority=session.get(Authority, post.authority_id), user=user)


PagePostMemberDep = Annotated[Member, Depends(get_page_post_member)]


def get_page_post(session: SessionDep, member: PagePostMemberDep, post_id: PathId) -> Post:
    return posts.get(session, actor=member, post_id=post_id)


PagePostDep = Annotated[Post, Depends(get_page_post)]


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """A savepoint: what a refused try wrote is undone, what came before stays."""
    with session.begin_nested():
        yield


# --- character counting rules for the browser ------------------------------------------------


@cache
def counting_rules() -> dict[str, Any]:
    """The counting rules of core.rules.text, for composer.js: rendered from the same constants
    and the same twitter-text configuration as the server's checks."""
    x = twitter_config["version3"]
    tlds: set[str] = set()
    for pattern in (valid_gtld.pattern, valid_cctld.pattern):
        for word in re.findall(r"[a-z0-9-]+", pattern.lower()):
            if word.isascii() and word.isalpha():
                tlds.add(word)
    return {
        "x_scale": x["scale"],
        "x_default_weight": x["default_weight"],
        "x_url_length": x["transformed_url_length"],
        "x_ranges": " ".join(f"{r['start']}-{r['end']}-{r['weight']}" for r in x["ranges"]),
        "x_tlds": " ".join(sorted(tlds)),
        "url_length": counting.MASTODON_URL_LENGTH,
    }


NETWORK_COUNTING = {
    Network.x: "x",
    Network.mastodon: "mastodon",
    Network.bluesky: "graphemes",
    Network.linkedin: "linkedin",
    Network.instagram: "codepoints",
    Network.facebook: "codepoints",
}


# --- the composer's form ---------------------------------------------------------------------


@dataclass
class ComposerForm:
    """What the person typed, kept as typed (strings) so that a refused form comes back whole."""

    text: str = ""
    targets: list[int] = field(default_factory=list)
    variants: dict[int, str] = field(default_factory=dict)
    media_ids: list[int] = field(default_factory=list)
    pillar_id: str = ""
    objective_ids: list[int] = field(default_factory=list)
    audience_ids: list[int] = field(default_factory=list)
    campaign_id: str = ""
    when: str = "date"  # "date", "slot" (next free slot) or "none"
    day: str = ""
    at: str = ""
    suggested_day: str = ""
    suggested_at: str = ""
    alt_text: str = ""
    visual: dict[str, str] = field(default_factory=dict)
    action: str = "save"


def _ints(values: list[str] | None) -> list[int]:
    found: list[int] = []
    for value in values or []:
        if value.strip().isdigit() and 0 < int(value) <= MAX_ID and int(value) not in found:
            found.append(int(value))
    return found


# A composer has a few fields per account, objective, audience and image: room for many.
MAX_FIELDS = 1000
FIELD_MAX_BYTES = 128 * 1024
# Without a file the form is small: an urlencoded body past this size is refused unread.
URLENCODED_MAX_BYTES = 2 * 1024 * 1024


def composer_form(values: ImmutableMultiDict[str, str]) -> ComposerForm:
    def one(name: str, default: str = "", size: int = 200) -> str:
        return (values.get(name) or default)[:size]

    variants = {}
    for account_id, body in zip(
        values.getlist("variant_account"), values.getlist("variant"), strict=False
    ):
        if account_id.isdigit():
            variants[int(account_id)] = body
    when = one("when", "date")
    return ComposerForm(
        # Longer than any network allows: the service refuses it with a sentence.
        text=one("text", size=20001),
        targets=_ints(values.getlist("targets")),
        variants=variants,
        media_ids=_ints(values.getlist("media_ids")),
        pillar_id=one("pillar_id"),
        objective_ids=_ints(values.getlist("objective_ids")),
        audience_ids=_ints(values.getlist("audience_ids")),
        campaign_id=one("campaign_id"),
        when=when if when in {"date", "slot", "none"} else "date",
        day=one("day").strip(),
        at=one("at").strip(),
        suggested_day=one("suggested_day").strip(),
        suggested_at=one("suggested_at").strip(),
        alt_text=one("alt_text", size=2000),
        visual={
            "template": one("visual_template"),
            "format": one("visual_format", "square"),
            "title": one("visual_title"),
            "date": one("visual_date"),
            "place": one("visual_place"),
            "text": one("visual_text", size=1000),
        },
        action=one("action", "save"),
    )


class FormTooLarge(AppError):
    status_code = 413
    code = "too_large"
    detail = N_("Le formulaire envoyé est trop volumineux : raccourcissez les textes et réessayez.")


@dataclass
class ComposerInput:
    form: ComposerForm
    file: UploadFile | None


async def read_composer(request: Request) -> AsyncIterator[ComposerInput]:
    """The composer's fields and its one image, read under the same limits as the media API
    (refused as soon as the body grows too large), before anything touches the database;
    then the CSRF check of every form."""
    settings: Settings = request.app.state.settings
    file: UploadFile | None = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await uploads.read_form(
            request,
            max_bytes=settings.media_max_bytes,
            max_fields=MAX_FIELDS,
            max_field_bytes=FIELD_MAX_BYTES,
        )
        items, file = upload.items, upload.file
    else:
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > URLENCODED_MAX_BYTES:
            raise FormTooLarge()
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
        items = [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    try:
        values = ImmutableMultiDict(items)
        security.check_csrf(request, values.get(security.CSRF_FIELD))
        yield ComposerInput(form=composer_form(values), file=file)
    finally:
        if file is not None:
            await file.close()


ComposerInputDep = Annotated[ComposerInput, Depends(read_composer)]


def _optional_id(value: str, field_name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidInput(N_("Choix invalide : reprenez la liste proposée."), field=field_name)
    return int(value)


def _local(day: str, at: str, *, label: str) -> datetime | None:
    """A local date and time from the form (read in the authority's timezone by the service)."""
    if not day and not at:
        return None
    try:
        when_day = date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(
            N_(
                "La date « {value} » n'est pas valide ({label}) : choisissez-la dans le calendrier."
            ),
            value=day,
            label=label,
        ) from None
    try:
        when_time = time.fromisoformat(at) if at else time(9, 0)
    except ValueError:
        raise InvalidInput(
            N_("L'heure « {value} » n'est pas valide ({label}) : écrivez-la sous la forme 10:30."),
            value=at,
            label=label,
        ) from None
    return datetime.combine(when_day, when_time.replace(second=0, microsecond=0, tzinfo=None))


def _targets_in(form: ComposerForm) -> list[TargetIn]:
    return [
        TargetIn(account_id=account_id, text=form.variants.get(account_id) or None)
        for account_id in form.targets
    ]


def _scheduled(form: ComposerForm, *, editor: bool) -> datetime | None:
    if not editor or form.when != "date":
        return None
    return _local(form.day, form.at, label=N_("date de publication"))


def _suggested(form: ComposerForm, *, editor: bool) -> datetime | None:
    if editor:
        return None
    return _local(form.suggested_day, form.suggested_at, label=N_("date suggérée"))


def _create_data(form: ComposerForm, *, editor: bool) -> PostCreate:
    return PostCreate(
        text=form.text,
        pillar_id=_optional_id(form.pillar_id, "pillar_id"),
        objective_ids=form.objective_ids,
        audience_ids=form.audience_ids,
        campaign_id=_optional_id(form.campaign_id, "campaign_id"),
        media_ids=form.media_ids,
        targets=_targets_in(form),
        scheduled_at=_scheduled(form, editor=editor),
        suggested_at=_suggested(form, editor=editor),
    )


def _update_data(
    form: ComposerForm, *, editor: bool, post: Post, authority: Authority
) -> PostUpdate:
    values: dict[str, Any] = {
        "text": form.text,
        "pillar_id": _optional_id(form.pillar_id, "pillar_id"),
        "objective_ids": form.objective_ids,
        "audience_ids": form.audience_ids,
        "campaign_id": _optional_id(form.campaign_id, "campaign_id"),
        "media_ids": form.media_ids,
        "targets": _targets_in(form),
    }
    # A time is sent only when it changed: an unchanged time in the past is not a new choice.
    if editor and form.when == "date":
        wanted = _local(form.day, form.at, label=N_("date de publication"))
        if wanted != _naive_local(post.scheduled_at, authority.timezone):
            values["scheduled_at"] = wanted
    elif editor and form.when == "none" and post.scheduled_at is not None:
        values["scheduled_at"] = None
    if not editor:
        wanted = _local(form.suggested_day, form.suggested_at, label=N_("date suggérée"))
        if wanted != _naive_local(post.suggested_at, authority.timezone):
            values["suggested_at"] = wanted
    data = PostUpdate(**values)
    return data


def _naive_local(value: datetime | None, timezone: str) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, second=0, microsecond=0)


def _form_of_post(session: Session, post: Post, authority: Authority) -> ComposerForm:
    read = posts.read(session, post)
    local = _naive_local(post.scheduled_at, authority.timezone)
    suggested = _naive_local(post.suggested_at, authority.timezone)
    shown = local or suggested
    return ComposerForm(
        text=post.text,
        targets=[t.account_id for t in read.targets],
        variants={t.account_id: t.text or "" for t in read.targets},
        media_ids=read.media_ids,
        pillar_id=str(post.pillar_id or ""),
        objective_ids=read.objective_ids,
        audience_ids=read.audience_ids,
        campaign_id=str(post.campaign_id or ""),
        when="date" if shown else "none",
        day=shown.date().isoformat() if shown else "",
        at=shown.strftime("%H:%M") if shown else "",
        suggested_day=suggested.date().isoformat() if suggested else "",
        suggested_at=suggested.strftime("%H:%M") if suggested else "",
    )


# --- the composer's page ---------------------------------------------------------------------


@dataclass
class Outcome:
    """What a try of the composer produced, for the page that answers it."""

    errors: list[str] = field(default_factory=list)
    findings: list[Finding] | None = None
    notice: str | None = None


def _composer(
    request: Request,
    session: Session,
    settings: Settings,  # noqa: ARG001 - same shape as the other page helpers
    member: Member,
    form: ComposerForm,
    *,
    post: Post | None,
    outcome: Outcome | None = None,
    status_code: int = 200,
    proposal: bool = False,
) -> Response:
    authority = member.authority
    outcome = outcome or Outcome()
    gettext = gettext_of(request)
    all_accounts = accounts.list_accounts(session, authority=authority)
    pillars = [
        p
        for p in editorial.list_items(session, Pillar, authority=authority)
        if p.active or str(p.id) == form.pillar_id
    ]
    library = media.library(session, authority=authority, limit=60)
    chosen = [m for m in library if m.id in form.media_ids]
    missing = [i for i in form.media_ids if i not in {m.id for m in library}]
    for media_id in missing:
        try:
            chosen.append(media.get(session, authority=authority, media_id=media_id))
        except NotFound:
            continue
    library_ids = {m.id for m in library}
    library += [m for m in chosen if m.id not in library_ids]
    variants: list[dict[str, Any]] = []
    for account in all_accounts:
        network = Network(account.network)
        body = form.variants.get(account.id or 0, "")
        effective = body.strip() or form.text.strip()
        measured = counting.count(network, effective, instance_limit=account.max_characters)
        variants.append(
            {
                "account": account,
                "network": network,
                "selected": account.id in form.targets,
                "text": body,
                "counting": NETWORK_COUNTING.get(network, "none"),
                "count": measured.value if measured else None,
                "limit": measured.limit if measured else None,
            }
        )
    preview = {
        "text": form.text,
        "targets": [
            {
                "account_id": v["account"].id,
                "network": v["network"].label,
                "network_code": v["network"].value,
                "account": v["account"].name,
                "handle": v["account"].handle,
                "text": v["text"].strip() or form.text.strip(),
                "hidden": not v["selected"],
                "images": _network_images(authority, chosen, v["network"]),
            }
            for v in variants
        ],
        "images": [{"alt": m.alt_text, "url": media.file_url(authority, m)} for m in chosen],
    }
    findings = outcome.findings
    urgent_pillars = [p.id for p in pillars if p.urgent]
    editor = member.can_edit
    context = {
        "authority": authority,
        "member": member,
        "section": "proposals" if proposal else "compose",
        "post": post,
        "status_label": POST_STATUS_LABELS[PostStatus(post.status)] if post else "",
        "form": form,
        "editor": editor,
        "proposal": proposal,
        "variants": variants,
        "pillars": pillars,
        "objectives": editorial.list_items(session, Objective, authority=authority),
        "audiences": editorial.list_items(session, Audience, authority=authority),
        "campaigns": editorial.list_items(session, Campaign, authority=authority),
        "library": library,
        "chosen": chosen,
        "media_url": lambda m: media.file_url(authority, m),
        "errors": outcome.errors,
        "notice": outcome.notice,
        "findings": review.findings_view(session, findings, gettext)
        if findings is not None
        else None,
        "preview": preview,
        "can_urgent": editor and bool(urgent_pillars),
        "urgent_pillar_ids": urgent_pillars,
        "rules": counting_rules(),
        "visual_templates": [
            ("announcement", N_("Annonce (titre, court texte)")),
            ("event", N_("Événement (titre, date, lieu)")),
            ("alert", N_("Alerte (fort contraste, court texte)")),
        ],
        "visual_formats": [
            ("square", N_("Carré (1080 × 1080)")),
            ("portrait", N_("Portrait (1080 × 1350)")),
            ("landscape", N_("Paysage (1200 × 630)")),
        ],
    }
    template = "posts/proposal_form.html" if proposal else "posts/composer.html"
    return render(request, template, context, status_code=status_code)


def _network_images(
    authority: Authority, items: list[MediaAsset], network: Network
) -> list[dict[str, str]]:
    """Each image as this network will show it: its rendition (cropped around the focal point,
    sized to the network's rules); manual channels take the image itself."""
    base = [(m, media.file_url(authority, m)) for m in items]
    if network is Network.manual:
        return [{"alt": m.alt_text, "url": url} for m, url in base]
    return [
        {"alt": m.alt_text, "url": url.removesuffix("/file") + f"/renditions/{network.value}"}
        for m, url in base
    ]


def _preview(session: Session, settings: Settings, post: Post) -> dict[str, Any]:
    """The post as it will appear, with image addresses of this site (not the public URL, which
    may be another host in development) and each network's crop."""
    authority = session.get(Authority, post.authority_id)
    assert authority is not None
    view = notify.preview(session, settings, post)
    items = content.media_of(session, post)
    view["images"] = [{"alt": m.alt_text, "url": media.file_url(authority, m)} for m in items]
    for target in view["targets"]:
        target["images"] = _network_images(authority, items, Network(target["network_code"]))
    return view


def _add_upload(
    session: Session,
    settings: Settings,
    member: Member,
    form: ComposerForm,
    file: UploadFile | None,
) -> str | None:
    """A new image sent with the form joins the library and the post; returns a notice."""
    if file is None or not file.filename:
        return None
    if file.size is not None and file.size > settings.media_max_bytes:
        raise media_errors.MediaTooLarge(limit=f"{settings.media_max_bytes // 1_000_000} Mo")
    done = media.upload(
        session,
        settings,
        authority=member.authority,
        by=member.user,
        source=file.file,
        filename=file.filename,
        alt_text=form.alt_text,
    )
    if done.media.id not in form.media_ids:
        form.media_ids.append(done.media.id)  # type: ignore[arg-type]
    form.alt_text = ""
    return N_("L'image a été ajoutée à la médiathèque et à la publication.")


def _add_visual(session: Session, settings: Settings, member: Member, form: ComposerForm) -> str:
    values = {k: v.strip() for k, v in form.visual.items() if v.strip()}
    try:
        card = VisualCreate(**values)
    except ValidationError as exc:
        raise InvalidInput(french_error(dict(exc.errors()[0]))["detail"]) from None
    item = media.create_visual(
        session,
        settings,
        authority=member.authority,
        by=member.user,
        card=card,
        logo=media.logo_of(session, authority=member.authority),
    )
    form.media_ids.append(item.id)  # type: ignore[arg-type]
    form.visual = {}
    return N_("Le visuel a été créé et ajouté à la publication ; vérifiez son texte alternatif.")


def _translated(error: AppError, gettext: Callable[[str], str]) -> str:
    # The form's own field names (date de publication…) are messages too.
    label = error.params.get("label")
    if isinstance(label, str):
        error.params["label"] = gettext(label)
    return error.translated(gettext)


def _handle(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    form: ComposerForm,
    file: UploadFile | None,
    *,
    post: Post | None,
    proposal: bool = False,
) -> Response:
    """One try of the composer: add the image or visual, then check, save, submit or publish.
    Any refusal re-renders the form as typed, with what to do."""
    gettext = gettext_of(request)
    editor = member.can_edit and not proposal
    outcome = Outcome()
    try:
        with attempt(session):
            notice = _add_upload(session, settings, member, form, file)
            if form.action == "upload" and notice is None:
                raise InvalidInput(N_("Choisissez d'abord l'image à ajouter, puis son texte."))
            if form.action == "visual":
                notice = _add_visual(session, settings, member, form)
        outcome.notice = gettext(notice) if notice else None
    except ValidationError as exc:
        outcome.errors = [french_error(dict(e))["detail"] for e in exc.errors()]
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            status_code=422, proposal=proposal,
        )  # fmt: skip
    except AppError as error:
        outcome.errors = [_translated(error, gettext)]
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            status_code=error.status_code, proposal=proposal,
        )  # fmt: skip
    if form.action in {"upload", "visual"}:
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            proposal=proposal,
        )  # fmt: skip

    saved: Post | None = None
    checking = form.action == "check"
    try:
        nested = session.begin_nested()
        try:
            if post is None:
                saved = posts.create(
                    session,
                    settings,
                    actor=member,
                    data=_create_data(form, editor=editor),
                    channel=WEB,
                )
            else:
                saved = posts.update(
                    session,
                    settings,
                    actor=member,
                    post=post,
                    data=_update_data(form, editor=editor, post=post, authority=member.authority),
                    channel=WEB,
                )
            if editor and form.when == "slot":
                slots.queue(session, settings, actor=member, post=saved, channel=WEB)
            if checking:
                outcome.findings = rules.check_post(session, settings, saved)
                nested.rollback()
            else:
                if form.action == "submit":
                    workflow.submit(session, settings, actor=member, post=saved, channel=WEB)
                elif form.action == "urgent":
                    workflow.publish_urgent(
                        session, settings, actor=member, post=saved, channel=WEB
                    )
                nested.commit()
        except BaseException:
            if nested.is_active:
                nested.rollback()
            raise
    except ValidationError as exc:
        outcome.errors = [french_error(dict(e))["detail"] for e in exc.errors()]
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            status_code=422, proposal=proposal,
        )  # fmt: skip
    except RulesFailed as error:
        outcome.errors = [error.translated(gettext)]
        outcome.findings = error.findings
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            status_code=error.status_code, proposal=proposal,
        )  # fmt: skip
    except AppError as error:
        outcome.errors = [_translated(error, gettext)]
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            status_code=error.status_code, proposal=proposal,
        )  # fmt: skip
    if checking:
        if not any(x.severity is Severity.error for x in outcome.findings or []):
            outcome.notice = gettext("Aucune erreur : la publication respecte les règles.")
        return _composer(
            request, session, settings, member, form, post=post, outcome=outcome,
            proposal=proposal,
        )  # fmt: skip
    assert saved is not None
    if proposal:
        return redirect(f"/a/{quote(member.authority.slug)}/proposals?saved={saved.id}")
    return redirect(f"/posts/{saved.id}?done={quote(form.action)}")


@router.get("/a/{slug}/posts/new")
def composer_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    day: Annotated[str, Query(alias="date")] = "",
) -> Response:
    access.require_author_role(member)
    if not member.can_edit:
        # Agents propose with the short form.
        return redirect(f"/a/{quote(member.authority.slug)}/proposals/new")
    form = ComposerForm()
    try:
        form.day = date.fromisoformat(day[:10]).isoformat() if day else ""
    except ValueError:
        form.day = ""
    if form.day:
        form.at = "10:00"
    return _composer(request, session, settings, member, form, post=None)


@router.post("/a/{slug}/posts/new")
def composer_post(
    data: ComposerInputDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
) -> Response:
    access.require_author_role(member)
    return _handle(request, session, settings, member, data.form, data.file, post=None)


@router.get("/posts/{post_id}/edit")
def edit_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    posts.require_can_change(session, actor=member, post=post)
    form = _form_of_post(session, post, member.authority)
    return _composer(
        request, session, settings, member, form, post=post, proposal=not member.can_edit
    )


@router.post("/posts/{post_id}/edit")
def edit_post(
    data: ComposerInputDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    proposal = not member.can_edit
    return _handle(
        request, session, settings, member, data.form, data.file, post=post, proposal=proposal
    )


# --- the post's page -------------------------------------------------------------------------


def _post_page(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    post: Post,
    *,
    error: str | None = None,
    comment: str = "",
    status_code: int = 200,
) -> Response:
    authority = member.authority
    gettext = gettext_of(request)
    read = posts.read(session, post)
    status = PostStatus(post.status)
    pillar = session.get(Pillar, post.pillar_id) if post.pillar_id else None
    campaign = session.get(Campaign, post.campaign_id) if post.campaign_id else None
    events = history.of_post(session, post)
    assigned = {
        a.id
        for a in accounts.list_accounts(session, authority=authority)
        if a.assignee_id == member.user.id
    }
    targets = [
        {
            "read": t,
            "network": Network(t.network),
            "status_label": gettext(PUBLICATION_STATUS_LABELS[t.status]),
            "retry": member.can_edit and t.status == PublicationStatus.failed,
            "mark": t.network == Network.manual
            and t.status in (PublicationStatus.scheduled, PublicationStatus.publishing)
            and (member.can_edit or t.account_id in assigned),
        }
        for t in read.targets
    ]
    own = post.author_id == member.user.id
    possible = set(workflow.possible_from(status))
    can_change = member.can_edit or (own and status in (PostStatus.draft, PostStatus.in_review))
    approver = member.has(Role.approver) and any(uid == member.user.id for uid in read.approver_ids)
    actions = {
        "edit": can_change and status in posts.EDITABLE,
        "submit": "submit" in possible
        and (member.can_edit or (own and member.has(Role.contributor))),
        "cancel": "cancel" in possible and can_change,
        "urgent": "publish_urgent" in possible
        and member.can_edit
        and bool(pillar and pillar.urgent),
        "decide": approver and "approve" in possible,
        "publish_now": member.can_edit
        and status == PostStatus.approved
        and any(t.status == PublicationStatus.scheduled for t in read.targets),
    }
    findings = None
    if status in rules.NOT_YET_OUT:
        found = rules.check_post(session, settings, post)
        findings = review.findings_view(session, found, gettext)
    context = {
        "authority": authority,
        "member": member,
        "section": "compose" if member.can_edit else "proposals",
        "post": post,
        "read": read,
        "status_label": gettext(POST_STATUS_LABELS[status]),
        "pillar": pillar,
        "campaign": campaign,
        "targets": targets,
        "preview": _preview(session, settings, post),
        "events": [
            {
                "event": e,
                "label": gettext(EVENT_LABELS.get(e.kind, e.kind)),
                "channel": gettext(CHANNEL_LABELS.get(str(e.channel), str(e.channel))),
            }
            for e in events
        ],
        "comments": [e for e in events if e.comment],
        "actions": actions,
        "findings": findings,
        "error": error,
        "comment": comment,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "posts/post.html", context, status_code=status_code)


CHANNEL_LABELS = {
    "api": N_("API"),
    "web": N_("pages de Beffroi"),
    "email": N_("lien de validation par e-mail"),
    "system": N_("Beffroi"),
}


@router.get("/posts/{post_id}")
def post_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    return _post_page(request, session, settings, member, post)


def _post_action(
    request: Request,
    session: Session,
    settings: Settings,
    member: Member,
    post: Post,
    action: Callable[[], object],
    *,
    comment: str = "",
    done: str,
) -> Response:
    try:
        with attempt(session):
            action()
    except AppError as error:
        session.refresh(post)
        message = error.translated(gettext_of(request))
        if isinstance(error, RulesFailed):
            gettext = gettext_of(request)
            message += " " + " ".join(x.translated(gettext) for x in error.blocking)
        return _post_page(
            request,
            session,
            settings,
            member,
            post,
            error=message,
            comment=comment,
            status_code=error.status_code,
        )
    return redirect(f"/posts/{post.id}?done={done}")


CommentForm = Annotated[str, Form(max_length=5000)]


@router.post("/posts/{post_id}/submit", dependencies=[CsrfDep])
def submit_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    def act() -> object:
        return workflow.submit(session, settings, actor=member, post=post, channel=WEB)

    return _post_action(request, session, settings, member, post, act, done="submit")


@router.post("/posts/{post_id}/cancel", dependencies=[CsrfDep])
def cancel_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    comment: CommentForm = "",
) -> Response:
    def act() -> object:
        return workflow.cancel(
            session, settings, actor=member, post=post, comment=comment, channel=WEB
        )

    return _post_action(
        request, session, settings, member, post, act, comment=comment, done="cancel"
    )


@router.post("/posts/{post_id}/publish-urgent", dependencies=[CsrfDep])
def publish_urgent(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    def act() -> object:
        return workflow.publish_urgent(session, settings, actor=member, post=post, channel=WEB)

    return _post_action(request, session, settings, member, post, act, done="urgent")


@router.post("/posts/{post_id}/approve", dependencies=[CsrfDep])
def approve_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    comment: CommentForm = "",
    acknowledge: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    def act() -> object:
        return workflow.approve(
            session,
            settings,
            actor=member,
            post=post,
            comment=comment,
            acknowledge=[a[:64] for a in acknowledge or []],
            channel=WEB,
        )

    return _post_action(
        request, session, settings, member, post, act, comment=comment, done="approve"
    )


@router.post("/posts/{post_id}/request-changes", dependencies=[CsrfDep])
def request_changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    comment: CommentForm = "",
) -> Response:
    def act() -> object:
        return workflow.request_changes(
            session, settings, actor=member, post=post, comment=comment, channel=WEB
        )

    return _post_action(
        request, session, settings, member, post, act, comment=comment, done="request_changes"
    )


@router.post("/posts/{post_id}/publish-now", dependencies=[CsrfDep])
def publish_now(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
) -> Response:
    def act() -> object:
        return publishing.publish_now(session, actor=member, post=post, channel=WEB)

    return _post_action(request, session, settings, member, post, act, done="publish_now")


def _publication_of(session: Session, member: Member, post: Post, publication_id: int) -> Any:
    publication = publishing.get(session, actor=member, publication_id=publication_id)
    if publication.post_id != post.id:
        raise NotFound(publishing.PUBLICATION_NOT_FOUND)
    return publication


@router.post("/posts/{post_id}/publications/{publication_id}/retry", dependencies=[CsrfDep])
def retry_publication(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    publication_id: PathId,
) -> Response:
    def act() -> object:
        publication = _publication_of(session, member, post, publication_id)
        return publishing.retry(session, actor=member, publication=publication, channel=WEB)

    return _post_action(request, session, settings, member, post, act, done="retry")


@router.post(
    "/posts/{post_id}/publications/{publication_id}/mark-published", dependencies=[CsrfDep]
)
def mark_published(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    publication_id: PathId,
    url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def act() -> object:
        publication = _publication_of(session, member, post, publication_id)
        return publishing.mark_published(
            session, actor=member, publication=publication, url=url.strip() or None, channel=WEB
        )

    return _post_action(request, session, settings, member, post, act, done="marked")


@router.post("/posts/{post_id}/comments", dependencies=[CsrfDep])
def comment_post(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PagePostMemberDep,
    post: PagePostDep,
    comment: CommentForm = "",
) -> Response:
    def act() -> object:
        return posts.add_comment(session, actor=member, post=post, comment=comment, channel=WEB)

    return _post_action(
        request, session, settings, member, post, act, comment=comment, done="comment"
    )


# --- an agent's proposals --------------------------------------------------------------------


@router.get("/a/{slug}/proposals")
def proposals_page(request: Request, session: SessionDep, member: PageMemberDep) -> Response:
    gettext = gettext_of(request)
    mine = [
        p
        for p in posts.list_posts(session, actor=member, filters=posts.Filters())
        if p.author_id == member.user.id
    ]
    mine.sort(key=lambda p: p.created_at, reverse=True)
    pillars = {p.id: p for p in editorial.list_items(session, Pillar, authority=member.authority)}
    items = []
    for post in mine:
        events = history.of_post(session, post)
        items.append(
            {
                "post": post,
                "status": str(post.status),
                "status_label": gettext(POST_STATUS_LABELS[PostStatus(post.status)]),
                "pillar": pillars.get(post.pillar_id) if post.pillar_id else None,
                "feedback": [e for e in events if e.comment and e.actor_id != member.user.id],
                "images": content.media_of(session, post),
            }
        )
    context = {
        "authority": member.authority,
        "member": member,
        "section": "proposals",
        "items": items,
        "media_url": lambda m: media.file_url(member.authority, m),
        "saved": request.query_params.get("saved", ""),
        "can_propose": access.has(member, Role.admin, Role.editor, Role.contributor),
    }
    return render(request, "posts/proposals.html", context)


@router.get("/a/{slug}/proposals/new")
def proposal_form(
    request: Request, session: SessionDep, settings: SettingsDep, member: PageMemberDep
) -> Response:
    access.require_author_role(member)
    return _composer(request, session, settings, member, ComposerForm(), post=None, proposal=True)


@router.post("/a/{slug}/proposals/new")
def propose(
    data: ComposerInputDep,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
) -> Response:
    access.require_author_role(member)
    if data.form.action not in {"save", "submit"}:
        data.form.action = "save"
    return _handle(
        request, session, settings, member, data.form, data.file, post=None, proposal=True
    )
