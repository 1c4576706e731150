"""Fingerprints of findings that survive unrelated edits.

A finding is identified by its file, its rule and the text of the line it starts
on (whitespace collapsed), never by its line number: inserting code above it, or
editing other lines, leaves the fingerprint alone; editing the flagged line
changes it. Identical lines flagged by the same rule in the same file are told
apart by an occurrence counter in file order. SARIF's
`primaryLocationLineHash`, GitLab's fingerprint and the baseline all use this.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from backend_expert.findings import Finding

if TYPE_CHECKING:
    from backend_expert.engine import RunResult

LinesOf = Callable[[str], "list[str] | None"]


def normalise(text: str) -> str:
    """The line without its indentation, trailing space or runs of inner whitespace."""
    return " ".join(text.split())


def content_of(finding: Finding, lines: list[str] | None) -> str:
    """The normalised text of the finding's first line (its message when the line is unknown)."""
    if lines and 1 <= finding.line <= len(lines):
        text = normalise(lines[finding.line - 1])
        if text:
            return text
    return normalise(finding.message)


def line_hash(code: str, content: str) -> str:
    return hashlib.blake2b(f"{code}\0{content}".encode(), digest_size=8).hexdigest()


def fingerprints(findings: Iterable[Finding], lines_of: LinesOf) -> dict[int, tuple[str, str]]:
    """id(finding) -> (fingerprint `hash:occurrence`, normalised content), for each finding."""
    counters: dict[tuple[str, str, str], int] = {}
    out: dict[int, tuple[str, str]] = {}
    for finding in sorted(findings, key=lambda f: f.sort_key):
        content = content_of(finding, lines_of(finding.path))
        digest = line_hash(finding.code, content)
        key = (finding.path, finding.code, digest)
        counters[key] = occurrence = counters.get(key, 0) + 1
        out[id(finding)] = (f"{digest}:{occurrence}", content)
    return out


def source_lines(result: RunResult) -> LinesOf:
    """Lines of a checked file: from the run when it kept the text, else read from disk."""
    cache: dict[str, list[str] | None] = {}

    def lines_of(path: str) -> list[str] | None:
        if path not in cache:
            text = result.texts.get(path)
            if text is None:
                text = _read(result.root, path)
            cache[path] = text.splitlines() if text is not None else None
        return cache[path]

    return lines_of


def _read(root: Path | None, path: str) -> str | None:
    if root is None or path in ("", "."):
        return None
    from backend_expert.parse import ReadProblem, decode

    try:
        return decode((root / path).read_bytes())[0]
    except (OSError, ReadProblem):
        return None
