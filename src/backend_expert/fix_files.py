"""Fixing files on disk: read, fix in memory, verify, write atomically (or show a diff).

A file is re-read and re-checked before it is fixed, so the fixes apply to exactly
the bytes on disk. The fixed text is encoded back with the file's own encoding (and
BOM), written to a temporary file in the same directory with the original
permissions, and moved over the original with `os.replace`, but only when the file
on disk is still the one that was read.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from backend_expert.findings import Finding
from backend_expert.fixes import FixOutcome, Recheck, applicable, fix_text
from backend_expert.parse import ReadProblem, decode


class FileChanged(Exception):
    """The file on disk is no longer the one that was read: it is not overwritten."""


@dataclass
class FileFix:
    """What happened to one file."""

    path: str  # relative to the project root
    outcome: FixOutcome | None = None
    written: bool = False
    error: str = ""  # why the file was left alone

    @property
    def changed(self) -> bool:
        return self.outcome is not None and self.outcome.changed


@dataclass
class FixReport:
    """Every file a `--fix` run looked at."""

    files: list[FileFix] = field(default_factory=list)

    @property
    def applied(self) -> int:
        return sum(len(f.outcome.applied) for f in self.files if f.changed and f.outcome)

    @property
    def changed_files(self) -> list[FileFix]:
        return [f for f in self.files if f.changed]

    def warnings(self) -> list[str]:
        out = []
        for item in self.files:
            if item.error:
                out.append(f"{item.path}: not fixed: {item.error}")
            for failed in item.outcome.failed if item.outcome else ():
                finding = failed.finding
                out.append(
                    f"{item.path}:{finding.line}:{finding.column}: fix for {finding.code} "
                    f"[{finding.slug}] not applied: {failed.reason}"
                )
        return out

    def diff(self) -> str:
        return "".join(
            unified_diff(f.path, f.outcome.original, f.outcome.text)
            for f in self.changed_files
            if f.outcome
        )


# --- rechecking with the project model ---------------------------------------------------------


def project_recheck(rel: str, project, config, checker=None) -> Recheck:
    """Findings of a new version of `rel`, checked against the run's project model."""
    from backend_expert.check import Checker
    from backend_expert.engine import check_text

    checker = checker or Checker(config.enabled_rules(), project, config)

    def recheck(text: str) -> list[Finding]:
        return check_text(rel, text, project, config, checker)

    return recheck


def fix_run(result, config, *, unsafe: bool = False, write: bool = True) -> FixReport:
    """Fix every file of a finished run that has fixes to apply."""
    from backend_expert.check import Checker

    report = FixReport()
    paths = sorted({f.path for f in result.findings if applicable(f.fix, unsafe)})
    if not paths:
        return report
    checker = Checker(config.enabled_rules(), result.project, config)
    for rel in paths:
        recheck = project_recheck(rel, result.project, config, checker)
        report.files.append(fix_file(Path(result.root) / rel, rel, recheck, unsafe, write))
    return report


# --- one file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    data: bytes
    mtime_ns: int
    size: int
    digest: str


def _snapshot(path: Path) -> _Snapshot:
    info = path.stat()
    data = path.read_bytes()
    return _Snapshot(data, info.st_mtime_ns, info.st_size, hashlib.sha256(data).hexdigest())


def fix_file(path: Path, rel: str, recheck: Recheck, unsafe: bool, write: bool) -> FileFix:
    item = FileFix(rel)
    try:
        path = Path(os.path.realpath(path))  # write through symlinks, never replace them
        before = _snapshot(path)
        text, encoding = decode(before.data)
    except (OSError, ReadProblem) as error:
        item.error = f"cannot read it: {error}"
        return item
    item.outcome = outcome = fix_text(rel, text, None, unsafe=unsafe, recheck=recheck)
    if not outcome.changed or not write:
        return item
    try:
        data = encode(outcome.text, encoding)
    except (UnicodeError, LookupError):
        item.error = f"the fixed text cannot be written in the file's encoding ({encoding})"
        return item
    try:
        atomic_write(path, data, before)
    except FileChanged:
        item.error = "it changed on disk while bex was fixing it"
    except OSError as error:
        item.error = f"cannot write it: {error.strerror or error}"
    else:
        item.written = True
    return item


def encode(text: str, encoding: str) -> bytes:
    """Back to bytes in the file's encoding; `utf-8-sig` restores the BOM. Round-trip checked."""
    data = text.encode(encoding)
    if decode(data) != (text, encoding):
        raise UnicodeError("the text does not survive a round trip through its encoding")
    return data


def atomic_write(path: Path, data: bytes, expected: _Snapshot | None = None) -> None:
    """Replace `path` with `data` in one step, keeping its permissions.

    With `expected`, refuse (FileChanged) when the file is no longer what was read.
    """
    info = path.stat()
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".bex-tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown"):
            with contextlib.suppress(OSError):  # not ours to give away: it stays with the writer
                os.chown(temporary, info.st_uid, info.st_gid)
        if expected is not None:
            now = _snapshot(path)
            if (now.mtime_ns, now.size, now.digest) != (
                expected.mtime_ns,
                expected.size,
                expected.digest,
            ):
                raise FileChanged(str(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def unified_diff(rel: str, before: str, after: str) -> str:
    """A unified diff of one file, as `git diff` would show it."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{rel}",
        tofile=f"b/{rel}",
    )
    out = []
    for line in lines:
        if not line.endswith(("\n", "\r")):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)
