"""How a fix is shown in the text report: a few `-`/`+` lines per edited place, and the
summary note on how many findings `--fix` (and `--unsafe-fixes`) would fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from backend_expert.findings import Applicability, Edit, Finding, Fix
from backend_expert.fixes import applicable, apply_edits

MAX_LINES = 10  # per side of one hunk; longer rewrites are cut with an ellipsis


def _groups(edits: Iterable[Edit]) -> list[list[Edit]]:
    """Edits whose line ranges touch go into one hunk."""
    groups: list[list[Edit]] = []
    for edit in sorted(edits, key=lambda e: (e.line, e.column)):
        if groups and edit.line <= max(e.end_line for e in groups[-1]):
            groups[-1].append(edit)
        else:
            groups.append([edit])
    return groups


def _trim(old: list[str], new: list[str]) -> tuple[list[str], list[str]]:
    """Only the lines that differ (difflib's opcodes), each side cut to MAX_LINES."""
    removed, added = [], []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
    return _cut(removed), _cut(added)


def _cut(lines: list[str]) -> list[str]:
    return lines if len(lines) <= MAX_LINES else [*lines[: MAX_LINES - 1], "..."]


def fix_hunks(fix: Fix, lines: list[str]) -> list[tuple[list[str], list[str]]] | None:
    """(old lines, new lines) for each place the fix edits; None when the edits do not fit `lines`."""
    hunks = []
    for group in _groups(fix.edits):
        first = group[0].line
        last = min(max(e.end_line for e in group), len(lines))
        if first > len(lines) + 1:
            return None
        old = lines[first - 1 : last]
        shifted = [
            Edit(e.line - first + 1, e.column, e.end_line - first + 1, e.end_column, e.content)
            for e in group
        ]
        try:
            new_text = apply_edits("".join(line + "\n" for line in old), shifted)
        except ValueError:
            return None
        hunks.append(_trim(old, new_text.splitlines()))
    return hunks


def fixable_note(findings: Iterable[Finding], unsafe: bool = False) -> str:
    """ruff's `[*] N fixable` line, in bex's words; empty when nothing is fixable."""
    findings = list(findings)
    safe = sum(1 for f in findings if applicable(f.fix, False))
    risky = sum(
        1
        for f in findings
        if f.fix is not None and f.fix.edits and f.fix.applicability is Applicability.UNSAFE
    )
    if unsafe and safe + risky:
        return f"[*] {safe + risky} fixable with `--fix --unsafe-fixes`."
    if not safe and not risky:
        return ""
    if not safe:
        return f"[*] {risky} fixable with `--fix --unsafe-fixes`."
    more = f" ({risky} more with `--unsafe-fixes`)" if risky else ""
    return f"[*] {safe} fixable with `--fix`{more}."
