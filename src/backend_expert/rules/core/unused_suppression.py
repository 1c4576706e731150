"""A suppression comment that silences nothing (ruff's RUF100, for bex's own comments).

Only bex's business is judged: `# bex: ignore[...]`, bare `# bex: ignore`, and the
bex codes or slugs inside a `# noqa: ...` list. A bare `# noqa` and other tools'
codes (`# noqa: E501`) are left alone. A code is judged only when its rule ran on
the file: a rule switched off by the selection, one whose framework the project
does not use, or one that skips test files says nothing about the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from backend_expert.config import Config
from backend_expert.findings import Applicability, Finding, Severity
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.suppress import FileSuppressions, Suppression

CODE = "BEX004"
SLUG = "unused-suppression"
_BEX_CODE = re.compile(r"^BEX\d{3}$", re.IGNORECASE)


class UnusedSuppression(Rule):
    code = CODE
    slug = SLUG
    pack = "core"
    severity = Severity.INFO
    category = "suppression"
    summary = (
        "A `# bex: ignore` or `# noqa` naming a bex rule that has nothing to silence on its line"
    )
    hint = "Delete the comment (or the unused code in it); it no longer silences anything."
    fix_applicability = Applicability.SAFE
    explanation = Explanation(
        what=(
            "Reports a `# bex: ignore[...]` comment, a bare `# bex: ignore`, or a bex code or slug "
            "listed in `# noqa: ...`, when no finding of that rule starts or ends on the line. It "
            "also reports rule ids inside `# bex: ignore[...]` that name no bex rule. A bare "
            "`# noqa` and codes of other tools (`# noqa: E501`) are never reported; neither are "
            "codes of rules that did not run on the file (not selected, a framework the project "
            "does not use)."
        ),
        why=(
            "A suppression outlives the code it was written for: after a refactor it keeps "
            "sitting on the line, silences nothing today, and will silently swallow the next real "
            "finding of that rule on the same line. Its reason also stops being true."
        ),
        use_instead=(
            "Remove the comment, or only the ids in it that no longer match. Keep a reason after "
            "`--` on the ones that stay, so reviewers know why they exist; "
            "`bex check --show-suppressed` lists them."
        ),
    )
    fire = (
        Example(
            title="the code was fixed, the comment stayed",
            code=(
                "def total(prices):\n"
                "    return sum(prices)  # bex: ignore -- slow loop, see JIRA-12  # flagged\n"
            ),
            fixed="def total(prices):\n    return sum(prices)\n",
        ),
        Example(
            title="a misspelt rule id silences nothing",
            code=(
                "from fastapi import FastAPI\n"
                "app = FastAPI()  # bex: ignore[fastapi-on-events]  # flagged\n"
            ),
            fixed="from fastapi import FastAPI\napp = FastAPI()\n",
        ),
    )
    clean = (
        Example(
            title="the suppression silences a finding on its line",
            code=(
                "from fastapi import FastAPI\n"
                "app = FastAPI()\n"
                '@app.on_event("startup")  # bex: ignore[fastapi-on-event] -- removed in JIRA-12\n'
                "async def start():\n"
                "    pass\n"
            ),
        ),
        Example(
            title="other tools' suppressions are theirs to judge",
            code="import os  # noqa: F401\nx = 1  # noqa\ny = 2  # type: ignore[assignment]\n",
        ),
        Example(
            title="a rule that does not run on this project (no FastAPI here)",
            code="def start():  # bex: ignore[fastapi-on-event]\n    pass\n",
        ),
    )


def _ids_to_judge(suppression: Suppression) -> list[str] | None:
    """The ids bex must account for ([] for none; None for a bare `# bex: ignore`)."""
    if suppression.ids is None:
        return None if suppression.kind == "bex" else []
    from backend_expert.rules import rule_by_id

    if suppression.kind == "bex":
        return sorted(suppression.ids)
    return sorted(i for i in suppression.ids if rule_by_id(i) is not None or _BEX_CODE.match(i))


def _on_line(finding: Finding, line: int) -> bool:
    return line in (finding.line, finding.end_line)


def unused(
    comments: FileSuppressions, findings: Iterable[Finding], active: frozenset[str]
) -> list[tuple[Suppression, str, set[str]]]:
    """(suppression, message, ids to drop) for each suppression, or id in it, that
    silences nothing (no ids: the whole comment).

    `findings` are all the file's findings before suppression; `active` the codes of the
    rules that ran on the file.
    """
    from backend_expert.rules import rule_by_id

    findings = list(findings)
    out: list[tuple[Suppression, str, set[str]]] = []
    for line in sorted(comments.by_line):
        here = [f for f in findings if _on_line(f, line)]
        for suppression in comments.by_line[line]:
            ids = _ids_to_judge(suppression)
            if ids is None:
                if not here:
                    out.append(
                        (suppression, "`# bex: ignore` silences nothing on this line", set())
                    )
                continue
            idle, unknown = [], []
            for identifier in ids:
                rule = rule_by_id(identifier)
                if rule is None:
                    unknown.append(identifier)
                elif rule.code == CODE:
                    continue  # silencing this very report: judged by whether it fires
                elif rule.code in active and not any(identifier in (f.code, f.slug) for f in here):
                    idle.append(identifier)
            if idle or unknown:
                message = _message(suppression, idle, unknown)
                out.append((suppression, message, {*idle, *unknown}))
    return out


def _message(suppression: Suppression, idle: list[str], unknown: list[str]) -> str:
    comment = "`# bex: ignore[...]`" if suppression.kind == "bex" else "`# noqa: ...`"
    parts = []
    if idle:
        names = ", ".join(f"`{i}`" for i in idle)
        parts.append(f"{names} reports nothing on this line")
    if unknown:
        names = ", ".join(f"`{i}`" for i in unknown)
        parts.append(f"{names} names no bex rule (see `bex rules`)")
    return f"unused suppression in {comment}: {'; '.join(parts)}; remove it"


def unused_findings(
    path: str,
    text: str,
    comments: FileSuppressions,
    findings: Iterable[Finding],
    active: frozenset[str],
    config: Config,
) -> list[Finding]:
    """BEX004 findings for the file, placed on the suppression comments."""
    found = unused(comments, findings, active)
    if not found:
        return []
    from backend_expert.rules import rule_by_id

    rule = rule_by_id(CODE)
    assert rule is not None
    lines = text.splitlines()
    out = []
    from backend_expert.rules.core._suppression_fix import removal_fix

    for suppression, message, drop in found:
        line = lines[suppression.line - 1] if suppression.line <= len(lines) else ""
        marker = line.lower().find("bex:" if suppression.kind == "bex" else "noqa")
        column = max(0, line.rfind("#", 0, max(marker, 0))) + 1
        out.append(
            Finding(
                code=rule.code,
                slug=rule.slug,
                pack=rule.pack,
                severity=config.severity_of(rule),
                category=rule.category,
                path=path,
                line=suppression.line,
                column=column,
                end_line=suppression.line,
                end_column=max(column, len(line.rstrip()) + 1),
                message=message,
                fix=removal_fix(suppression.line, line, suppression, drop),
                docs=rule.docs_url,
            )
        )
    return out
