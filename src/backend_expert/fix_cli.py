"""`bex check --fix / --unsafe-fixes / --diff / --fix-only`: the command-line side of fixing.

Exit codes follow ruff: `--diff` exits 1 when it would change something and 0 when
not; `--fix-only` exits 0 (fixes applied, nothing else reported); `--fix` exits as
a plain check of what remains after fixing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from backend_expert.fix_files import FixReport, fix_run


def apply_fixes(
    result,
    config,
    *,
    unsafe: bool,
    diff: bool,
    fix_only: bool,
    quiet: bool,
    rerun: Callable[[], object],
):
    """Fix, then return (the fix report, the run's result for what remains)."""
    report = fix_run(result, config, unsafe=unsafe, write=not diff)
    if not quiet:
        for warning in report.warnings():
            click.echo(f"bex: warning: {warning}", err=True)
    if diff:
        click.echo(report.diff(), nl=False)
        if not quiet:
            click.echo(_would_fix(report), err=True)
        sys.exit(1 if report.changed_files else 0)
    if fix_only:
        if not quiet:
            click.echo(fixed_line(report))
        sys.exit(0)
    if any(item.written for item in report.files):
        result = rerun()
    return report, result


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _would_fix(report: FixReport) -> str:
    if not report.changed_files:
        return "No fixes to apply."
    return (
        f"Would fix {_plural(report.applied, 'finding')} in "
        f"{_plural(len(report.changed_files), 'file')}."
    )


def fixed_line(report: FixReport) -> str:
    written = [item for item in report.files if item.written]
    if not written:
        return "No fixes applied."
    count = sum(len(item.outcome.applied) for item in written if item.outcome)
    return f"Fixed {_plural(count, 'finding')} in {_plural(len(written), 'file')}."
