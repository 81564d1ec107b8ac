"""The elected official's approval inbox, made for a phone: the posts waiting for this person,
each as it will appear with the rules' findings; approve in one tap, ask for changes or reject
with a comment. Decisions go through core.posts.workflow, as in the API."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import Member, PathId, SessionDep, SettingsDep
from core.authorities.models import Role
from core.config import Settings
from core.errors import AppError
from core.posts import service as posts
from core.posts import workflow
from core.posts.models import EventChannel, Post
from web import i18n
from web.deps import CsrfDep, PageMemberDep
from web.review import review
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

Comment = Annotated[str, Form(max_length=5000)]
DECISIONS = {"approved", "changes_requested", "rejected"}


def _inbox(
    request: Request,
    session: SessionDep,
    settings: Settings,
    member: Member,
    *,
    failed: dict[str, Any] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    gettext = i18n.translations(locale_of(request)).gettext
    waiting = posts.list_posts(session, actor=member, filters=posts.Filters(awaiting_me=True))
    items = [{"post": post, **review(session, settings, post, gettext)} for post in waiting]
    if failed is not None:
        # A post no longer (or never) in this inbox: the message goes on top of the page.
        failed["listed"] = any(item["post"].id == failed["post_id"] for item in items)
    context = {
        "authority": member.authority,
        "member": member,
        "items": items,
        "failed": failed,
        "done": done if done in DECISIONS else None,
        "is_approver": member.has(Role.approver),
    }
    return render(request, "approvals_inbox.html", context, status_code=status_code)


@router.get("/a/{slug}/approvals")
def inbox(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    done: str | None = None,
) -> Response:
    return _inbox(request, session, settings, member, done=done)


def _decide(
    request: Request,
    session: SessionDep,
    settings: Settings,
    member: Member,
    post_id: int,
    action: str,
    *,
    comment: str = "",
    acknowledge: list[str] | None = None,
) -> Response:
    post: Post = posts.get(session, actor=member, post_id=post_id)
    try:
        if action == "approve":
            workflow.approve(
                session,
                settings,
                actor=member,
                post=post,
                acknowledge=acknowledge or [],
                channel=EventChannel.web,
            )
            done = "approved"
        elif action == "request_changes":
            workflow.request_changes(
                session,
                settings,
                actor=member,
                post=post,
                comment=comment,
                channel=EventChannel.web,
            )
            done = "changes_requested"
        else:
            workflow.reject(
                session,
                settings,
                actor=member,
                post=post,
                comment=comment,
                channel=EventChannel.web,
            )
            done = "rejected"
    except AppError as error:
        session.rollback()
        gettext = i18n.translations(locale_of(request)).gettext
        failed = {
            "post_id": post_id,
            "action": action,
            "message": error.translated(gettext),
            "comment": comment,
            "acknowledged": acknowledge or [],
        }
        return _inbox(
            request, session, settings, member, failed=failed, status_code=error.status_code
        )
    return RedirectResponse(
        f"/a/{quote(member.authority.slug)}/approvals?done={done}", status_code=303
    )


@router.post("/a/{slug}/approvals/{post_id}/approve", dependencies=[CsrfDep])
def approve(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    post_id: PathId,
    acknowledge: Annotated[list[str] | None, Form(max_length=50)] = None,
) -> Response:
    return _decide(request, session, settings, member, post_id, "approve", acknowledge=acknowledge)


@router.post("/a/{slug}/approvals/{post_id}/request-changes", dependencies=[CsrfDep])
def request_changes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    post_id: PathId,
    comment: Comment = "",
) -> Response:
    return _decide(request, session, settings, member, post_id, "request_changes", comment=comment)


@router.post("/a/{slug}/approvals/{post_id}/reject", dependencies=[CsrfDep])
def reject(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    member: PageMemberDep,
    post_id: PathId,
    comment: Comment = "",
) -> Response:
    return _decide(request, session, settings, member, post_id, "reject", comment=comment)
