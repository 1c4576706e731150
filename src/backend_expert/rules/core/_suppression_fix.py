"""The fix for an unused suppression: drop the ids that silence nothing, or the whole comment.

Edits stay inside the comment, so the file's code is never touched. When the
comment's text is not what bex can rewrite with certainty (prose after `# noqa:`,
another comment inside a `--` reason), no fix is offered.
"""

from __future__ import annotations

import re

from backend_expert.findings import Applicability, Edit, Fix
from backend_expert.suppress import _BEX, _NOQA, _SPLIT, Suppression

_CODE_LIKE = re.compile(r"^(?:[A-Za-z]+[0-9]+|[a-z0-9]+(?:-[a-z0-9]+)+)$")


def _find(line: str, suppression: Suppression) -> re.Match | None:
    pattern = _BEX if suppression.kind == "bex" else _NOQA
    for match in pattern.finditer(line):
        if suppression.kind == "bex" and match.group("skip"):
            continue
        return match
    return None


def removal_fix(number: int, line: str, suppression: Suppression, drop: set[str]) -> Fix | None:
    """A safe fix removing `drop` from the suppression on line `number`, or None."""
    match = _find(line, suppression)
    if match is None:
        return None
    group = "ids" if suppression.kind == "bex" else "codes"
    raw = match.group(group)
    ids = [i for i in _SPLIT.split(raw or "") if i]
    if suppression.kind == "noqa" and not all(_CODE_LIKE.match(i) for i in ids):
        return None  # prose among the codes: leave it to a human
    keep = [i for i in ids if i not in drop]
    if ids and keep:
        start, end = match.span(group)
        trailing = raw[len(raw.rstrip()) :]
        return _fix(number, start, end, ", ".join(keep) + trailing, "remove the unused ids")
    start, end = match.start(), match.end()
    reason = match.group("reason") if suppression.kind == "bex" else None
    if reason and "#" in reason:
        end = match.start("reason") + reason.index("#")
    while end > start and line[end - 1] in " \t":
        end -= 1
    rest = line[end:].strip()
    if not line[:start].strip() and not rest:
        return Fix(
            "remove the unused suppression comment",
            (Edit(number, 1, number + 1, 1, ""),),
            Applicability.SAFE,
            removes_comments=True,
        )
    if rest:  # another comment follows: it takes the removed one's place
        end += len(line[end:]) - len(line[end:].lstrip())
    else:
        while start > 0 and line[start - 1] in " \t":
            start -= 1
    return _fix(number, start, end, "", "remove the unused suppression comment")


def _fix(number: int, start: int, end: int, content: str, message: str) -> Fix:
    edit = Edit(number, start + 1, number, end + 1, content)
    return Fix(message, (edit,), Applicability.SAFE, removes_comments=True)
