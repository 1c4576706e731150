"""Applying fixes to text: rounds of non-overlapping edits, each verified, to a fixed point.

A round takes the findings of the current text, keeps the fixes the caller allows
(safe; unsafe too with `unsafe=True`; display-only never), applies those whose edits
do not overlap an earlier one, and checks that the result still parses. Overlapping
fixes wait for the next round, which re-runs the checks on the new text. A fix whose
result does not parse, or that keeps firing (not idempotent), is dropped and reported.

Text outside the edited ranges is copied as it is: comments, blank lines, line
endings and the trailing newline survive by construction (and are checked).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from backend_expert.findings import Applicability, Finding, Fix
from backend_expert.fix_cleanup import lost_comments, unused_import_edits
from backend_expert.parse import parse_text

__all__ = [
    "MAX_ROUNDS",
    "FailedFix",
    "FixOutcome",
    "applicable",
    "apply_edits",
    "fix_sources",
    "fix_text",
]

MAX_ROUNDS = 10

Recheck = Callable[[str], Sequence[Finding]]
Span = tuple[int, int, str]  # start offset, end offset (exclusive), replacement

_NEWLINE = re.compile(r"\r\n|\r|\n")
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", re.MULTILINE)


@dataclass(frozen=True)
class FailedFix:
    """A fix that was not applied, and why."""

    finding: Finding
    reason: str


@dataclass
class FixOutcome:
    """What fixing one text did: the new text, the fixes applied and those dropped."""

    path: str
    original: str
    text: str
    applied: list[Finding] = field(default_factory=list)
    failed: list[FailedFix] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)  # findings of the final text
    rounds: int = 0

    @property
    def changed(self) -> bool:
        return self.text != self.original


def applicable(fix: Fix | None, unsafe: bool = False) -> bool:
    """Whether `fix` may be applied: safe always, unsafe only when asked, display-only never."""
    if fix is None or not fix.edits:
        return False
    if fix.applicability is Applicability.SAFE:
        return True
    return unsafe and fix.applicability is Applicability.UNSAFE


# --- positions and edits -----------------------------------------------------------------------


class _Lines:
    """Offsets of line starts, splitting lines exactly where the tokenizer does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def offset(self, line: int, column: int) -> int:
        """1-based line and character column to an offset; ValueError when outside the text."""
        if line == len(self.starts) + 1 and column == 1 and not self.text:
            return 0
        if not 1 <= line <= len(self.starts) or column < 1:
            raise ValueError(f"position {line}:{column} is outside the file")
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        if start + column - 1 > end:
            raise ValueError(f"position {line}:{column} is past the end of line {line}")
        return start + column - 1


def newline_of(text: str) -> str:
    """The file's newline style: that of its first line break ("\\n" when it has none)."""
    match = _NEWLINE.search(text)
    return match.group() if match else "\n"


def _spans(fix: Fix, lines: _Lines, newline: str) -> list[Span]:
    spans = []
    for edit in fix.edits:
        start = lines.offset(edit.line, edit.column)
        end = lines.offset(edit.end_line, edit.end_column)
        if end < start:
            raise ValueError(f"edit ends before it starts ({edit.line}:{edit.column})")
        content = edit.content
        if newline != "\n" and "\n" in content:
            content = _NEWLINE.sub(newline, content)
        spans.append((start, end, content))
    spans.sort(key=lambda s: (s[0], s[1]))
    for first, second in itertools.pairwise(spans):
        if _conflict(first, second):
            raise ValueError("the fix's own edits overlap")
    return spans


def _conflict(a: Span, b: Span) -> bool:
    """Two edits conflict when their ranges overlap or they both start at one place."""
    if a == b:
        return False  # the same edit asked twice (e.g. one import two fixes need)
    if a[0] == b[0]:
        return True
    return a[0] < b[1] and b[0] < a[1]


def apply_spans(text: str, spans: Iterable[Span]) -> str:
    """Apply non-conflicting spans (identical ones once) to `text`."""
    out, position = [], 0
    for start, end, content in sorted(set(spans), key=lambda s: (s[0], s[1])):
        out.append(text[position:start])
        out.append(content)
        position = end
    out.append(text[position:])
    return "".join(out)


def apply_edits(text: str, edits: Iterable) -> str:
    """Apply `Edit`s (1-based lines and character columns) to `text`; ValueError on bad edits."""
    fix = Fix("", tuple(edits))
    return apply_spans(text, _spans(fix, _Lines(text), newline_of(text)))


def _outside_unchanged(before: str, after: str, spans: Sequence[Span]) -> bool:
    """Every piece of `before` between edits is found, unchanged, where it belongs in `after`."""
    shift, position = 0, 0
    for start, end, content in sorted(set(spans), key=lambda s: (s[0], s[1])):
        if after[position + shift : start + shift] != before[position:start]:
            return False
        shift += len(content) - (end - start)
        position = end
    return after[position + shift :] == before[position:]


# --- verification ------------------------------------------------------------------------------


def _problem(
    path: str, before: str, after: str, spans: Sequence[Span], excused: Sequence[Span] = ()
) -> str | None:
    """Why `after` must not replace `before`, or None when it may (comments inside the
    `excused` spans, those of fixes that remove comments on purpose, may go)."""
    source = parse_text(path, after)
    if source.syntax_error is not None:
        error = source.syntax_error
        return f"the fixed code would not parse ({error.msg}, line {error.lineno})"
    if not _outside_unchanged(before, after, spans):
        return "the fix changed text outside its edits"
    if _cookies(before) != _cookies(after):
        return "the fix would move or change the encoding declaration"
    lost = lost_comments(before, after, _Lines(before).offset, excused)
    if lost:
        shown = ", ".join(repr(c if len(c) <= 40 else c[:37] + "...") for c in lost[:3])
        return f"the fix would delete comments ({shown})"
    return None


def _excused(chosen: Iterable[tuple[Finding, list[Span]]]) -> list[Span]:
    """The spans of the fixes allowed to remove comments."""
    return [
        span
        for finding, spans in chosen
        if getattr(finding.fix, "removes_comments", False)
        for span in spans
    ]


def _cookies(text: str) -> list[str | None]:
    """The encoding declaration of each of the first two lines (where PEP 263 looks)."""
    lines = text.splitlines()[:2]
    return [m.group() if (m := _COOKIE.match(line)) else None for line in lines] + [None] * (
        2 - len(lines)
    )


# --- rounds ------------------------------------------------------------------------------------


def _key(finding: Finding) -> tuple:
    """Identifies a fix across rounds (positions move; the rule and the replacement do not)."""
    fix = finding.fix
    assert fix is not None
    return (finding.code, fix.message, tuple(edit.content for edit in fix.edits))


@dataclass
class _State:
    path: str
    text: str
    unsafe: bool
    excluded: set[str]  # rule codes whose fixes are off for this text (not idempotent)
    rejected: set[tuple] = field(default_factory=set)
    applied: list[Finding] = field(default_factory=list)
    failed: list[FailedFix] = field(default_factory=list)
    tidied: set[str] = field(default_factory=set)  # imports already offered for removal

    def candidates(self, findings: Iterable[Finding]) -> list[Finding]:
        return [
            f
            for f in findings
            if f.path == self.path
            and applicable(f.fix, self.unsafe)
            and f.code not in self.excluded
            and _key(f) not in self.rejected
        ]

    def reject(self, finding: Finding, reason: str) -> None:
        self.rejected.add(_key(finding))
        self.failed.append(FailedFix(finding, reason))


def _round(state: _State, findings: Sequence[Finding]) -> bool:
    """Apply one round of fixes to `state.text`; True when the text changed."""
    text = state.text
    lines, newline = _Lines(text), newline_of(text)
    chosen: list[tuple[Finding, list[Span]]] = []
    taken: list[Span] = []
    planned = []
    for finding in state.candidates(findings):
        try:
            planned.append((finding, _spans(finding.fix, lines, newline)))  # type: ignore[arg-type]
        except ValueError as error:
            state.reject(finding, f"the fix is malformed: {error}")
    planned.sort(key=lambda item: (item[1][0][0], item[1][-1][1], item[0].code))
    for finding, spans in planned:
        if apply_spans(text, spans) == text:
            continue  # nothing to change
        if any(_conflict(a, b) for a in spans for b in taken):
            continue  # overlaps a fix already chosen: next round
        chosen.append((finding, spans))
        taken.extend(spans)
    if not chosen:
        return False
    all_spans = [span for _, spans in chosen for span in spans]
    after = apply_spans(text, all_spans)
    if _problem(state.path, text, after, all_spans, _excused(chosen)) is None:
        state.text = after
        state.applied.extend(finding for finding, _ in chosen)
        return True
    accepted: list[tuple[Finding, list[Span]]] = []  # one at a time, to find the culprit
    for finding, spans in chosen:
        trial = [span for _, kept in accepted for span in kept] + spans
        excused = _excused([*accepted, (finding, spans)])
        reason = _problem(state.path, text, apply_spans(text, trial), trial, excused)
        if reason is None:
            accepted.append((finding, spans))
        else:
            state.reject(finding, reason)
    if not accepted:
        return False
    state.text = apply_spans(text, [span for _, spans in accepted for span in spans])
    state.applied.extend(finding for finding, _ in accepted)
    return True


def _tidy_imports(state: _State) -> bool:
    """Once no fix is left, remove the imports the applied fixes left unused; True when
    the text changed. A removal that fails verification is reported against a fix that
    asked for it."""
    declared: dict[str, Finding] = {}
    for finding in state.applied:
        for name in getattr(finding.fix, "unused_imports", ()):
            declared.setdefault(name, finding)
    wanted = set(declared) - state.tidied
    if not wanted:
        return False
    state.tidied |= wanted
    edits = unused_import_edits(state.path, state.text, wanted)
    if not edits:
        return False
    text = state.text
    try:
        spans = _spans(Fix("", tuple(edits)), _Lines(text), newline_of(text))
    except ValueError:
        return False
    after = apply_spans(text, spans)
    reason = _problem(state.path, text, after, spans)
    if reason is not None:
        culprit = declared[sorted(wanted)[0]]
        state.failed.append(FailedFix(culprit, f"removing the imports it left unused: {reason}"))
        return False
    state.text = after
    return True


def _run_rounds(
    state: _State, findings: Sequence[Finding], recheck: Recheck, max_rounds: int
) -> tuple[list[Finding], int, bool]:
    """Rounds until nothing changes: (findings of the final text, rounds run, converged)."""
    seen = {state.text}
    for number in range(1, max_rounds + 1):
        if not _round(state, findings) and not _tidy_imports(state):
            return list(findings), number - 1, True
        findings = list(recheck(state.text))
        if state.text in seen:
            return findings, number, False  # a cycle: some fix undoes another
        seen.add(state.text)
    converged = not any(state.candidates(findings))
    return findings, max_rounds, converged


def fix_text(
    path: str,
    text: str,
    findings: Sequence[Finding] | None = None,
    *,
    unsafe: bool = False,
    recheck: Recheck | None = None,
    config=None,
    max_rounds: int = MAX_ROUNDS,
) -> FixOutcome:
    """Fix one file's text in memory; nothing is written.

    `findings` are those of `text` (computed when None). `recheck(text)` returns the
    findings of a new version of the file; by default the file is checked on its own
    (`engine.run_sources`), so editors should pass one bound to their project model
    (see `fix_files.project_recheck`). The outcome's `text` is the fixed text,
    `applied` the findings whose fixes went in, `failed` the fixes dropped, with why.
    """
    if text.startswith("\ufeff"):  # a BOM read as text: fix what follows it
        outcome = fix_text(
            path,
            text[1:],
            findings,
            unsafe=unsafe,
            recheck=recheck,
            config=config,
            max_rounds=max_rounds,
        )
        outcome.original, outcome.text = text, "\ufeff" + outcome.text
        return outcome
    if recheck is None:
        recheck = _standalone_recheck(path, config)
    first = list(recheck(text) if findings is None else findings)
    if parse_text(path, text).syntax_error is not None:
        return FixOutcome(path, text, text, remaining=first)
    excluded: set[str] = set()
    carried: list[FailedFix] = []
    while True:
        state = _State(path, text, unsafe, set(excluded), failed=list(carried))
        remaining, rounds, converged = _run_rounds(state, first, recheck, max_rounds)
        if converged:
            break
        stuck = state.candidates(remaining) or state.applied  # still firing, or went round
        new = [f for f in stuck if f.code not in excluded]
        if not new:
            return FixOutcome(path, text, text, failed=_unique(carried), remaining=first)
        for finding in new:
            if finding.code not in excluded:
                excluded.add(finding.code)
                reason = "the fix keeps firing after it is applied (not idempotent); dropped"
                carried.append(FailedFix(finding, reason))
    return FixOutcome(
        path, text, state.text, state.applied, _unique(state.failed), remaining, rounds
    )


def _unique(failed: list[FailedFix]) -> list[FailedFix]:
    seen, out = set(), []
    for item in failed:
        key = (item.finding.code, item.finding.line, item.reason)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _standalone_recheck(path: str, config) -> Recheck:
    from backend_expert.engine import run_sources

    def recheck(text: str) -> list[Finding]:
        return [f for f in run_sources({path: text}, config).findings if f.path == path]

    return recheck


def fix_sources(
    sources: dict[str, str],
    config=None,
    dependencies: dict[str, str] | None = None,
    *,
    unsafe: bool = False,
    max_rounds: int = MAX_ROUNDS,
) -> dict[str, FixOutcome]:
    """Fix several in-memory files checked together (cross-file knowledge holds)."""
    from backend_expert.engine import run_sources

    current = dict(sources)

    def recheck_all() -> list[Finding]:
        return run_sources(current, config, dependencies).findings

    findings = recheck_all()
    outcomes: dict[str, FixOutcome] = {}
    for path in sources:

        def recheck(text: str, path: str = path) -> list[Finding]:
            current[path] = text
            return [f for f in recheck_all() if f.path == path]

        mine = [f for f in findings if f.path == path]
        outcome = fix_text(
            path, current[path], mine, unsafe=unsafe, recheck=recheck, max_rounds=max_rounds
        )
        current[path] = outcome.text
        outcomes[path] = outcome
    return outcomes
