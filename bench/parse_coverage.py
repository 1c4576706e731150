"""How many .py files parse with plain `ast`, and how many more with bex's fallback.

Usage: PYTHONPATH=src python bench/parse_coverage.py DIR [DIR...] [--quiet]

For each directory: the number of .py files, how many fail `ast.parse` on the
running interpreter, how many of those parse after `syntax_compat`'s rewrite,
the files that still fail (with their error), the rewrites used, and the time
spent in the plain parse and in the fallback. Run it under each interpreter
you care about (e.g. /root/.pyenv/versions/3.10.13/bin/python).
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import sys
import time
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from backend_expert.syntax_compat import parse_source

SKIP_DIRS = {".git", ".hg", ".tox", ".venv", "venv", "node_modules", "__pycache__"}


@dataclass
class Coverage:
    files: int = 0
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    failed_plain: int = 0
    recovered: int = 0
    still_failing: list[tuple[str, str]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    plain_seconds: float = 0.0
    fallback_seconds: float = 0.0


def python_files(root: Path) -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found += [Path(folder, name) for name in sorted(files) if name.endswith(".py")]
    return found


def read_text(path: Path) -> str:
    data = path.read_bytes()
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding).removeprefix("\ufeff")


def measure(root: Path) -> Coverage:
    result = Coverage()
    for path in python_files(root):
        result.files += 1
        name = str(path.relative_to(root))
        try:
            text = read_text(path)
        except (OSError, SyntaxError, UnicodeDecodeError, LookupError) as error:
            result.unreadable.append((name, str(error)))
            continue
        started = time.perf_counter()
        try:
            ast.parse(text, name, type_comments=False)
            result.plain_seconds += time.perf_counter() - started
            continue
        except (SyntaxError, ValueError):
            result.plain_seconds += time.perf_counter() - started
        result.failed_plain += 1
        started = time.perf_counter()
        try:
            _, notes = parse_source(text, name)
            result.recovered += 1
            result.notes.update(notes)
        except (SyntaxError, ValueError) as error:
            where = f"line {error.lineno}" if isinstance(error, SyntaxError) else ""
            message = error.msg if isinstance(error, SyntaxError) else str(error)
            result.still_failing.append((name, f"{where}: {message}"))
        result.fallback_seconds += time.perf_counter() - started
    return result


def report(root: Path, result: Coverage, quiet: bool) -> None:
    print(
        f"{root}: {result.files} files, {result.failed_plain} fail plain ast.parse, "
        f"{result.recovered} parse after the fallback, {len(result.still_failing)} still fail"
        + (f", {len(result.unreadable)} unreadable" if result.unreadable else "")
    )
    print(
        f"  time: plain parse {result.plain_seconds:.2f}s, fallback {result.fallback_seconds:.3f}s"
    )
    if result.notes:
        print(
            "  rewrites: "
            + ", ".join(f"{note} x{count}" for note, count in sorted(result.notes.items()))
        )
    if not quiet:
        for name, message in result.still_failing + result.unreadable:
            print(f"  FAIL {name} {message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument(
        "--quiet", action="store_true", help="do not list the files that still fail"
    )
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}")
    totals = Coverage()
    for root in args.dirs:
        if not root.is_dir():
            print(f"{root}: not a directory, skipped")
            continue
        result = measure(root)
        report(root, result, args.quiet)
        totals.files += result.files
        totals.failed_plain += result.failed_plain
        totals.recovered += result.recovered
        totals.still_failing += result.still_failing
    if len(args.dirs) > 1:
        print(
            f"total: {totals.files} files, {totals.failed_plain} fail plain, "
            f"{totals.recovered} recovered, {len(totals.still_failing)} still fail"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
