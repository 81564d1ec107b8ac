"""What an approver sees of a post before deciding, the same on the inbox and on the e-mail
link's page: the post as it will appear on each target, and the rules' findings, translated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session, col, select

from core.accounts.models import Account, Network
from core.config import Settings
from core.posts import notify
from core.posts.models import Post
from core.rules import checks as rules
from core.rules.findings import Finding, Severity


def findings_view(
    session: Session,
    findings: list[Finding],
    gettext: Callable[[str], str],
) -> list[dict[str, Any]]:
    ids = {x.account_id for x in findings if x.account_id is not None}
    accounts = (
        {a.id: a for a in session.exec(select(Account).where(col(Account.id).in_(ids)))}
        if ids
        else {}
    )
    shown = []
    for finding in findings:
        account = accounts.get(finding.account_id)
        shown.append(
            {
                "code": finding.code,
                "error": finding.severity is Severity.error,
                "message": finding.translated(gettext),
                "figure": finding.figure,
                "acknowledgeable": finding.acknowledgeable,
                "where": (
                    f"{Network(account.network).label} · {account.name}" if account else None
                ),
            }
        )
    return shown


def review(
    session: Session,
    settings: Settings,
    post: Post,
    gettext: Callable[[str], str],
) -> dict[str, Any]:
    """The post as it will appear and its findings (errors first, then warnings)."""
    view = notify.preview(session, settings, post)
    findings = findings_view(session, rules.check_post(session, settings, post), gettext)
    return {
        "view": view,
        "findings": findings,
        "errors": [x for x in findings if x["error"]],
        "warnings": [x for x in findings if not x["error"]],
        "to_acknowledge": [x for x in findings if x["acknowledgeable"]],
    }
