"""A Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`.

A headline with the counts, a per-rule table, then one row per finding (capped,
so a legacy project cannot overflow a comment's size limit).
"""

from __future__ import annotations

from collections import Counter

from backend_expert.engine import RunResult
from backend_expert.findings import Finding
from backend_expert.report._ci import counts, repo_path, rule_of

MAX_ROWS = 200
ICON = {"error": "🔴", "warning": "🟠", "info": "🔵"}


def cell(text: str) -> str:
    """Text safe inside a table cell: no pipes, newlines or HTML."""
    return (
        text.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def _code_link(finding: Finding) -> str:
    return f"[{finding.code}]({finding.docs})" if finding.docs else finding.code


def _headline(result: RunResult) -> str:
    files = f"{result.files} file{'s' if result.files != 1 else ''} checked"
    baselined = getattr(result, "baselined", 0)
    extra = f", {baselined} in the baseline" if baselined else ""
    if result.suppressed:
        extra += f", {len(result.suppressed)} suppressed"
    if not result.findings:
        return f"**No findings** ({files}{extra})."
    total = len(result.findings)
    parts = ", ".join(
        f"{n} {level}{'s' if n != 1 and level != 'info' else ''}"
        for level, n in counts(result.findings).items()
        if n
    )
    return f"**{total} finding{'s' if total != 1 else ''}**: {parts} ({files}{extra})."


def render(result: RunResult, color: bool = False) -> str:
    lines = ["## bex", "", _headline(result), ""]
    findings = result.findings
    if not findings:
        return "\n".join(lines)
    per_rule = Counter(f.code for f in findings)
    lines += ["| Rule | Count | What it flags |", "|---|---:|---|"]
    examples = {f.code: f for f in reversed(findings)}
    for code, number in sorted(per_rule.items(), key=lambda item: (-item[1], item[0])):
        finding = examples[code]
        rule = rule_of(finding)
        summary = rule.summary if rule is not None else finding.slug
        lines.append(f"| {_code_link(finding)} `{finding.slug}` | {number} | {cell(summary)} |")
    lines += ["", "| | Location | Rule | Message |", "|---|---|---|---|"]
    for finding in findings[:MAX_ROWS]:
        where = cell(f"{repo_path(result, finding)}:{finding.line}:{finding.column}")
        lines.append(
            f"| {ICON[finding.severity.value]} | `{where}` | {_code_link(finding)} | "
            f"{cell(finding.message)} |"
        )
    if len(findings) > MAX_ROWS:
        lines += ["", f"… and {len(findings) - MAX_ROWS} more (see the full report)."]
    return "\n".join(lines) + "\n"
