"""The default output: findings grouped by file, each with its code frame and what to do."""

from __future__ import annotations

import io
from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.markup import escape

from backend_expert.engine import RunResult
from backend_expert.findings import Finding
from backend_expert.fix_diff import fix_hunks
from backend_expert.rules import rule_by_id

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _frame(finding: Finding, lines: list[str]) -> list[str]:
    """Up to one line of context either side, and a caret line under the finding."""
    out = []
    first, last = max(1, finding.line - 1), min(len(lines), finding.line + 1)
    width = len(str(last))
    for number in range(first, last + 1):
        marker = ">" if number == finding.line else " "
        body = escape(lines[number - 1].rstrip())
        out.append(f"  [dim]{marker} {number:>{width}} |[/] {body}")
        if number == finding.line:
            start = finding.column - 1
            end = (
                finding.end_column - 1
                if finding.end_line == finding.line
                else len(lines[number - 1].rstrip())
            )
            carets = "^" * max(1, end - start)
            out.append(f"  [dim]  {'':>{width}} |[/] {' ' * start}[red]{carets}[/]")
    return out


def _fix_lines(finding: Finding, lines: list[str] | None = None) -> list[str]:
    out = []
    rule = rule_by_id(finding.code)
    if rule is not None and rule.hint:
        out.append(f"  [green]help:[/] {escape(rule.hint)}")
    if finding.fix is not None:
        label = finding.fix.applicability.value
        out.append(f"  [green]fix ({label}):[/] {escape(finding.fix.message)}")
        hunks = fix_hunks(finding.fix, lines) if lines else None
        if hunks is None:  # no source at hand: show what goes in
            hunks = [([], edit.content.splitlines() or [""]) for edit in finding.fix.edits]
        for old, new in hunks:
            out.extend(f"  [red]  - {escape(line)}[/]" for line in old)
            out.extend(f"  [green]  + {escape(line)}[/]" for line in new)
    return out


def render(result: RunResult, color: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=120,
        highlight=False,
        soft_wrap=True,
    )
    for path, group in groupby(result.findings, key=lambda f: f.path):
        console.print(f"[bold underline]{escape(path)}[/]")
        lines = result.texts.get(path, "").splitlines()
        for finding in group:
            style = STYLE[finding.severity.value]
            confidence = (
                ""
                if finding.confidence.value == "high"
                else f" [dim]({finding.confidence.value} confidence)[/]"
            )
            console.print(
                f"  {finding.line}:{finding.column} [{style}]{finding.severity.value}[/] "
                f"[bold]{finding.code}[/] [dim]\\[{finding.slug}][/]{confidence}"
            )
            console.print(f"  {escape(finding.message)}")
            if finding.source:
                console.print(f"  [dim]source: {escape(finding.source)}[/]")
            if lines and finding.line <= len(lines):
                for line in _frame(finding, lines):
                    console.print(line)
            for line in _fix_lines(finding, lines):
                console.print(line)
            console.print()
    return buffer.getvalue()


def summary(result: RunResult, unsafe: bool = False, fixed=None) -> str:
    """The last line(s): counts, what `--fix` would do, what it did."""
    from backend_expert.fix_diff import fixable_note

    lines = [_counts(result)]
    if fixed is not None:
        from backend_expert.fix_cli import fixed_line

        lines.insert(0, fixed_line(fixed))
    note = fixable_note(result.findings, unsafe)
    if note:
        lines.append(note)
    return "\n".join(lines)


def _counts(result: RunResult) -> str:
    counts = Counter(f.severity.value for f in result.findings)
    files = f"{result.files} file{'s' if result.files != 1 else ''} checked"
    cached = f", {result.from_cache} from cache" if result.from_cache else ""
    silenced = f", {len(result.suppressed)} suppressed" if result.suppressed else ""
    if result.baselined:
        silenced += f", {result.baselined} in the baseline"
    if not result.findings:
        none = "no new findings" if result.baselined else "no findings"
        return f"All clear: {none} ({files}{cached}{silenced})."
    parts = [
        f"{counts[s]} {s}{'s' if counts[s] != 1 and s != 'info' else ''}"
        for s in ("error", "warning", "info")
        if counts[s]
    ]
    total = len(result.findings)
    return f"Found {total} finding{'s' if total != 1 else ''}: {', '.join(parts)} ({files}{cached}{silenced})."
