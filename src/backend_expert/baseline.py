"""The baseline: findings a project has accepted for now, so `bex check` reports only new ones.

`.bex-baseline.json` at the project root lists each accepted finding by file,
rule and content fingerprint (see `fingerprint.py`), never by line number: code
added above a finding, or edits elsewhere in the file, do not make it "new".
Editing the flagged line does, on purpose: the code changed, look again.

- `bex baseline` writes the findings of the checked files (entries of files not
  checked this time are kept while the files exist).
- `bex baseline --update` only forgets: entries whose finding is gone are dropped,
  and new findings are *not* added, so debt can only shrink by accident, never
  grow; accept new findings deliberately with a plain `bex baseline`.
- Findings that stop a file from being checked (syntax, read and internal errors)
  are never baselined: a broken file would hide everything else in it.

The file is sorted, indented JSON with a `version` field, one entry per finding,
so that a review of its diff shows what was accepted or fixed.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backend_expert.config import Config, ConfigError
from backend_expert.findings import Finding
from backend_expert.fingerprint import LinesOf, fingerprints

FILE_NAME = ".bex-baseline.json"
VERSION = 1
NEVER_BASELINED = frozenset({"BEX001", "BEX002", "BEX003"})
SNIPPET = 120

if TYPE_CHECKING:
    from backend_expert.engine import RunResult


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    code: str
    fingerprint: str
    slug: str = ""
    line_text: str = ""  # the flagged line, for people reading the file's diff

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.code, self.fingerprint)

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "code": self.code,
            "slug": self.slug,
            "fingerprint": self.fingerprint,
            "line": self.line_text,
        }


def default_path(root: Path) -> Path:
    return root / FILE_NAME


def entries_for(findings: Iterable[Finding], lines_of: LinesOf) -> list[Entry]:
    findings = [f for f in findings if f.code not in NEVER_BASELINED]
    prints = fingerprints(findings, lines_of)
    return sorted(
        Entry(f.path, f.code, prints[id(f)][0], f.slug, prints[id(f)][1][:SNIPPET])
        for f in findings
    )


def load(path: Path) -> list[Entry]:
    """The entries of a baseline file; a clear error when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read the baseline {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise ConfigError(f"the baseline {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ConfigError(f"{path} is not a bex baseline (no `findings` list)")
    if data.get("version") != VERSION:
        raise ConfigError(
            f"the baseline {path} has version {data.get('version')!r}; this bex reads version "
            f"{VERSION}: write it again with `bex baseline`"
        )
    entries = []
    for item in data["findings"]:
        try:
            entries.append(
                Entry(
                    str(item["path"]),
                    str(item["code"]),
                    str(item["fingerprint"]),
                    str(item.get("slug", "")),
                    str(item.get("line", "")),
                )
            )
        except (KeyError, TypeError):
            raise ConfigError(f"{path}: malformed entry {item!r}") from None
    return entries


def dump(entries: Iterable[Entry]) -> str:
    rows = [entry.to_dict() for entry in sorted(set(entries))]
    document = {"version": VERSION, "tool": "bex", "findings": rows}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(path: Path, entries: Iterable[Entry]) -> None:
    """Write atomically: a crash never leaves half a baseline behind."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(dump(entries), encoding="utf-8")
    os.replace(temporary, path)


def split(
    findings: list[Finding], entries: Iterable[Entry], lines_of: LinesOf
) -> tuple[list[Finding], list[Finding]]:
    """(new findings, findings the baseline lists)."""
    known = {entry.key for entry in entries}
    prints = fingerprints(findings, lines_of)
    new, old = [], []
    for finding in findings:
        key = (finding.path, finding.code, prints[id(finding)][0])
        is_old = finding.code not in NEVER_BASELINED and key in known
        (old if is_old else new).append(finding)
    return new, old


@dataclass
class Change:
    entries: list[Entry]
    added: int = 0
    dropped: int = 0
    not_added: int = 0


def rebuild(
    old: list[Entry], current: list[Entry], checked: set[str], root: Path, update: bool
) -> Change:
    """The next baseline from the old one and the findings of the `checked` files.

    Entries of files not checked this time stay while the file exists. With `update`,
    entries of checked files stay only when their finding is still there, and current
    findings the old baseline lacks are counted but not added.
    """
    outside = [e for e in old if e.path not in checked and (root / e.path).exists()]
    inside_old = [e for e in old if e.path in checked]
    current_keys = {e.key for e in current}
    if update:
        kept = [e for e in inside_old if e.key in current_keys]
        old_keys = {e.key for e in old}
        not_added = sum(1 for e in current if e.key not in old_keys)
        change = Change(outside + kept, dropped=len(old) - len(outside) - len(kept))
        change.not_added = not_added
        return change
    old_keys = {e.key for e in inside_old}
    added = sum(1 for e in current if e.key not in old_keys)
    dropped = len(old) - len(outside) - sum(1 for e in inside_old if e.key in current_keys)
    return Change(outside + current, added=added, dropped=dropped)


def describe(entries: Iterable[Entry]) -> str:
    counts = Counter(entry.code for entry in entries)
    return ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))


def apply(result: RunResult, path: Path, required: bool) -> None:
    """Hide the findings the baseline lists; `result.baselined` counts them."""
    if not path.is_file():
        if required:
            raise ConfigError(f"--baseline {path}: no such file (write one with `bex baseline`)")
        return
    from backend_expert.fingerprint import source_lines

    new, old = split(result.findings, load(path), source_lines(result))
    result.findings, result.baselined = new, len(old)


def command(
    paths: list[Path], config: Config, baseline_path: Path | None, update: bool, use_cache: bool
) -> str:
    """`bex baseline`: check, write the baseline, and say what changed."""
    from backend_expert.discover import discover, relative
    from backend_expert.engine import run
    from backend_expert.fingerprint import source_lines

    root = config.root
    target = baseline_path or default_path(root)
    if update and not target.is_file():
        raise ConfigError(f"--update: there is no baseline at {target} yet; run `bex baseline`")
    old = load(target) if target.is_file() else []
    result = run(paths, config, use_cache=use_cache)
    checked = {relative(Path(os.path.abspath(p)), root) for p in discover(paths, config).files}
    current = entries_for(result.findings, source_lines(result))
    change = rebuild(old, current, checked, root, update)
    write(target, change.entries)
    total = len(change.entries)
    lines = [f"Wrote {target} with {total} finding{'s' if total != 1 else ''}."]
    if change.entries:
        lines.append(f"  {describe(change.entries)}")
    if change.added or change.dropped:
        lines.append(f"  {change.added} added, {change.dropped} dropped (fixed or gone).")
    if change.not_added:
        lines.append(
            f"  {change.not_added} new finding(s) not added (--update only drops entries); "
            "fix them, or accept them with `bex baseline`."
        )
    lines += [f"  warning: {warning}" for warning in result.warnings]
    skipped = sum(1 for f in result.findings if f.code in NEVER_BASELINED)
    if skipped:
        lines.append(f"  {skipped} syntax/read/internal error(s) are never baselined.")
    return "\n".join(lines) + "\n"
