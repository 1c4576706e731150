"""Stage 5, suppress: the comments and settings with which users silence findings.

- `# noqa` (everything on the line), `# noqa: BEX101, fastapi-on-event` (codes or slugs;
  other tools' codes in the same comment are left alone),
- `# bex: ignore`, `# bex: ignore[slug-or-code, ...]`, optionally `-- reason`,
- `# bex: skip-file` anywhere in the file,
- `per-file-ignores` from the configuration.

Comments are found with a cheap scan; where a candidate exists the file is
tokenized to be sure the text is a comment and not part of a string.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pathspec

from backend_expert.config import Config
from backend_expert.findings import Finding

if TYPE_CHECKING:
    from backend_expert.check import Checker
    from backend_expert.index import ModuleFacts
    from backend_expert.parse import SourceFile

# A directive starts a comment or follows whitespace: one quoted in backticks is prose.
_NOQA = re.compile(r"(?:^|(?<=\s))#\s*noqa(?::\s*(?P<codes>[A-Za-z0-9_,\s-]*))?", re.IGNORECASE)
_BEX = re.compile(
    r"(?:^|(?<=\s))#\s*bex:\s*(?:(?P<skip>skip-file)|ignore(?:\[(?P<ids>[^\]]*)\])?(?:\s*--\s*(?P<reason>.*))?)"
)
_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Suppression:
    line: int
    ids: frozenset[str] | None  # None: everything
    reason: str = ""
    kind: str = "noqa"  # "noqa" or "bex"

    def matches(self, finding: Finding) -> bool:
        return self.ids is None or finding.code in self.ids or finding.slug in self.ids


@dataclass
class FileSuppressions:
    skip_file: bool = False
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)

    def suppressing(self, finding: Finding) -> Suppression | None:
        for line in {finding.line, finding.end_line}:
            for suppression in self.by_line.get(line, ()):
                if suppression.matches(finding):
                    return suppression
        return None


def _comments(text: str) -> list[tuple[int, str]]:
    """(line, comment text) for comments that may be suppressions."""
    if "noqa" not in text and "bex:" not in text and "NOQA" not in text:
        return []
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return [(tok.start[0], tok.string) for tok in tokens if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        # Syntax newer than this interpreter: fall back to a per-line scan.
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            index = line.find("#")
            if index >= 0:
                found.append((number, line[index:]))
        return found


def parse_suppressions(text: str) -> FileSuppressions:
    result = FileSuppressions()
    for line, comment in _comments(text):
        for match in _BEX.finditer(comment):
            if match.group("skip"):
                result.skip_file = True
                continue
            ids = match.group("ids")
            idset = frozenset(i for i in _SPLIT.split(ids) if i) if ids is not None else None
            reason = (match.group("reason") or "").strip()
            result.by_line.setdefault(line, []).append(Suppression(line, idset, reason, "bex"))
        for match in _NOQA.finditer(comment):
            codes = match.group("codes")
            idset = (
                frozenset(c for c in _SPLIT.split(codes) if c) if codes and codes.strip() else None
            )
            result.by_line.setdefault(line, []).append(Suppression(line, idset))
    return result


class PerFileIgnores:
    """`per-file-ignores` globs (gitignore syntax) -> rule selectors."""

    def __init__(self, config: Config) -> None:
        self.entries = [
            (pathspec.GitIgnoreSpec.from_lines([pattern]), selectors)
            for pattern, selectors in config.per_file_ignores.items()
        ]

    def ignored(self, finding: Finding) -> bool:
        for spec, selectors in self.entries:
            if spec.match_file(finding.path) and any(_selects(s, finding) for s in selectors):
                return True
        return False


def _selects(selector: str, finding: Finding) -> bool:
    return selector in ("ALL", finding.code, finding.slug, finding.pack) or finding.code.startswith(
        selector
    )


@dataclass
class Filtered:
    kept: list[Finding]
    suppressed: list[tuple[Finding, Suppression | None]]


def apply_suppressions(findings: list[Finding], text: str, per_file: PerFileIgnores) -> Filtered:
    """Split one file's findings into those reported and those silenced."""
    comments = parse_suppressions(text) if findings else FileSuppressions()
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression | None]] = []
    for finding in findings:
        if comments.skip_file or per_file.ignored(finding):
            suppressed.append((finding, None))
            continue
        suppression = comments.suppressing(finding)
        if suppression is not None:
            suppressed.append((finding, suppression))
        else:
            kept.append(finding)
    return Filtered(kept, suppressed)


def suppress_and_audit(
    findings: list[Finding],
    source: SourceFile,
    facts: ModuleFacts,
    checker: Checker,
    per_file: PerFileIgnores,
) -> Filtered:
    """`apply_suppressions` for a checked file, plus a BEX004 finding for each suppression
    comment that silenced nothing (when that rule is enabled)."""
    filtered = apply_suppressions(findings, source.text, per_file)
    rules = {rule.code: rule for rule in checker.rules}
    if "BEX004" not in rules or any(f.slug == "internal-error" for f in findings):
        return filtered
    comments = parse_suppressions(source.text)
    if comments.skip_file or not comments.by_line:
        return filtered
    active = frozenset(
        code
        for code, rule in rules.items()
        if not rule.has_project_check() and not (facts.is_test and rule.skip_tests)
    )
    from backend_expert.rules.core.unused_suppression import unused_findings

    for finding in unused_findings(
        source.path, source.text, comments, findings, active, checker.config
    ):
        if per_file.ignored(finding):
            filtered.suppressed.append((finding, None))
            continue
        others = [
            s
            for s in comments.by_line.get(finding.line, ())
            if s.matches(finding) and not (s.ids is None and s.kind == "bex")
        ]
        if others:
            filtered.suppressed.append((finding, others[0]))
        else:
            filtered.kept.append(finding)
    return filtered
