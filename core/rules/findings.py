"""What a rule says about a post: a finding, and the error that carries the blocking ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.errors import AppError
from core.i18n import N_


class Severity(StrEnum):
    error = "error"  # blocks submitting and approving
    warning = "warning"  # shown; some need the approver's explicit acknowledgement


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one target (`account_id`) or on the whole post (`account_id` None).

    `detail` is a French template marked N_() filled with `params`, so that pages can translate it;
    `figure` is the measured value against the limit ("292 / 280"). An `acknowledgeable` warning
    must be acknowledged by the approver (its `code` in the post's `acknowledged`) before approval.
    """

    code: str
    severity: Severity
    detail: str
    params: dict[str, Any] = field(default_factory=dict)
    figure: str | None = None
    account_id: int | None = None
    acknowledgeable: bool = False

    @property
    def message(self) -> str:
        return self.detail.format(**self.params) if self.params else self.detail

    def translated(self, gettext: Callable[[str], str]) -> str:
        template = gettext(self.detail)
        return template.format(**self.params) if self.params else template

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "figure": self.figure,
            "account_id": self.account_id,
            "acknowledgeable": self.acknowledgeable,
        }


def error(
    code: str,
    detail: str,
    *,
    figure: str | None = None,
    account_id: int | None = None,
    **params: Any,
) -> Finding:
    return Finding(code, Severity.error, detail, params, figure, account_id)


def warning(
    code: str,
    detail: str,
    *,
    figure: str | None = None,
    account_id: int | None = None,
    acknowledgeable: bool = False,
    **params: Any,
) -> Finding:
    return Finding(code, Severity.warning, detail, params, figure, account_id, acknowledgeable)


class RulesFailed(AppError):
    status_code = 422
    code = "rules_failed"
    detail = N_(
        "Cette publication ne respecte pas encore toutes les règles : corrigez les erreurs "
        "listées (et faites prendre acte des avertissements qui le demandent), puis recommencez."
    )

    def __init__(self, findings: Sequence[Finding], *, blocking: Sequence[Finding]) -> None:
        super().__init__(
            extra={
                "findings": [x.as_dict() for x in findings],
                "blocking": sorted({x.code for x in blocking}),
            }
        )
        self.findings = list(findings)
        self.blocking = list(blocking)
