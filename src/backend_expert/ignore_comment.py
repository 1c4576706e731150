"""Write `# bex: ignore[slug]` comments: the editor's "Ignore for this line" action.

A finding is silenced by a comment on its first or last line (see suppress.py).
An existing `# bex: ignore[...]` on that line is extended rather than doubled, a
bare `# bex: ignore` already silences everything, and a line whose end lies inside
a multi-line string cannot take a comment (it would become part of the string).
"""

from __future__ import annotations

import io
import re
import tokenize

from backend_expert.findings import Finding

_BEX_IGNORE = re.compile(r"#\s*bex:\s*ignore(?P<bracket>\[(?P<ids>[^\]]*)\])?")


_OPEN = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)}
_CLOSE = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}


def _string_interiors(text: str) -> set[int]:
    """Lines whose end falls inside a string (or f-string) spanning several lines."""
    inside: set[int] = set()
    opened: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _OPEN:
                opened.append(token.start[0])
                continue
            first = opened.pop() if token.type in _CLOSE and opened else token.start[0]
            if token.type == tokenize.STRING or token.type in _CLOSE:
                inside.update(range(first, token.end[0]))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside


def _comment_start(line: str) -> int | None:
    """Index of the `#` opening the line's comment, or None (strings on the line respected)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        index = line.find("#")
        return index if index >= 0 else None
    for token in tokens:
        if token.type == tokenize.COMMENT:
            return token.start[1]
    return None


def ignore_line(line: str, slug: str) -> str | None:
    """`line` with `slug` ignored by a bex comment; None when it already is."""
    start = _comment_start(line)
    if start is not None:
        comment = line[start:]
        match = _BEX_IGNORE.search(comment)
        if match is not None:
            if match.group("bracket") is None:
                return None  # `# bex: ignore` silences every rule already
            ids = [i for i in re.split(r"[\s,]+", match.group("ids")) if i]
            if slug in ids:
                return None
            merged = ", ".join([*ids, slug])
            at = start + match.start("bracket")
            end = start + match.end("bracket")
            return f"{line[:at]}[{merged}]{line[end:]}"
    body = line.rstrip()
    return f"{body}  # bex: ignore[{slug}]"


def ignore_edit(text: str, finding: Finding) -> tuple[int, str, str] | None:
    """(1-based line, old line, new line) silencing `finding`, or None when none is possible."""
    lines = text.splitlines()
    interiors = _string_interiors(text)
    for number in dict.fromkeys((finding.line, finding.end_line)):
        if not 0 < number <= len(lines) or number in interiors:
            continue
        new = ignore_line(lines[number - 1], finding.slug)
        if new is None:
            return None
        return number, lines[number - 1], new
    return None
