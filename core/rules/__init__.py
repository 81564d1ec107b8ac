"""The rules checked before a post is submitted, approved or scheduled (DESIGN.md section 4).

`check_post` lists the findings (per target); `enforce` refuses a stage with RulesFailed when
something blocks it. The workflow calls `enforce` on submit and approve.
"""

from core.rules.checks import check_post, enforce
from core.rules.findings import Finding, RulesFailed, Severity

__all__ = ["Finding", "RulesFailed", "Severity", "check_post", "enforce"]
