"""`--show-suppressed`: the findings silenced by comments or settings, and why."""

from __future__ import annotations

from backend_expert.engine import RunResult
from backend_expert.suppress import Suppression


def _why(suppression: Suppression | None) -> str:
    if suppression is None:
        return "per-file-ignores or `# bex: skip-file`"
    ids = ", ".join(sorted(suppression.ids or ()))
    if suppression.kind == "bex":
        comment = f"`# bex: ignore[{ids}]`" if ids else "`# bex: ignore`"
    else:
        comment = f"`# noqa: {ids}`" if ids else "`# noqa`"
    reason = f" -- {suppression.reason}" if suppression.reason else " (no reason given)"
    return f"{comment} on line {suppression.line}{reason}"


def render(result: RunResult, color: bool = False) -> str:
    rows = sorted(result.suppressed, key=lambda row: row[0].sort_key)
    if not rows:
        return "No suppressed findings.\n"
    lines = [f"Suppressed findings ({len(rows)}):"]
    for finding, suppression in rows:
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}: {finding.code} [{finding.slug}] "
            f"{finding.message}"
        )
        lines.append(f"    suppressed by {_why(suppression)}")
    return "\n".join(lines) + "\n"
