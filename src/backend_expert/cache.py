"""The cache that makes an unchanged tree re-check in a fraction of the cold time.

Two pickles per (bex version, configuration) under `.bex_cache/`. The index
holds, for each file, the stat signature, content hash, the digest of its facts
and, keyed by the project model's fingerprint, the findings after suppression;
it also keeps the project-level findings. The facts themselves live in a second
file that a warm run never opens: when nothing changed, the digests alone prove
the model is the same. A file whose size and mtime are unchanged is not read.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backend_expert import __version__
from backend_expert.findings import Finding
from backend_expert.index import ModuleFacts
from backend_expert.suppress import Suppression

FORMAT = 6  # bump whenever the cached classes change shape
_LOAD_ERRORS = (
    OSError,
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    TypeError,
    ValueError,
)


@dataclass
class Entry:
    signature: tuple[int, int]  # (mtime_ns, size)
    content_hash: str
    module: str  # the module name the facts were collected under
    problems: list[Finding]  # io-error / syntax-error found while indexing
    digest: str = ""  # of the facts ("" when the file did not parse or could not be read)
    model_key: str = ""
    kept: list[Finding] | None = None
    suppressed: list[tuple[Finding, Suppression | None]] | None = None


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class Cache:
    def __init__(self, directory: Path, config_key: str, enabled: bool = True) -> None:
        self.enabled = enabled
        stem = f"v{FORMAT}-{__version__}-{config_key}"
        self.file = directory / f"{stem}.pickle"
        self.facts_file = directory / f"{stem}.facts.pickle"
        self.entries: dict[str, Entry] = {}
        self.project: tuple[str, list[Finding]] = ("", [])  # (model key, project-level findings)
        self._facts: dict[str, ModuleFacts] | None = None if enabled else {}
        self.dirty = self.facts_dirty = False
        if enabled:
            data = _read(self.file)
            if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                self.entries, self.project = data["entries"], data.get("project", ("", []))

    def get(self, rel: str, sig: tuple[int, int] | None) -> Entry | None:
        entry = self.entries.get(rel) if self.enabled else None
        return entry if entry is not None and sig is not None and entry.signature == sig else None

    def put(self, rel: str, entry: Entry, facts: ModuleFacts | None = None) -> None:
        """Record an entry; `facts` when they were (re)collected for it."""
        if not self.enabled:
            return
        self.entries[rel] = entry
        self.dirty = True
        if facts is not None:
            self._all_facts()[rel] = facts
            self.facts_dirty = True

    def facts(self, rel: str) -> ModuleFacts | None:
        return self._all_facts().get(rel)

    def _all_facts(self) -> dict[str, ModuleFacts]:
        if self._facts is None:
            data = _read(self.facts_file)
            self._facts = data if isinstance(data, dict) else {}
        return self._facts

    def put_project(self, model_key: str, findings: list[Finding]) -> None:
        if self.enabled and self.project != (model_key, findings):
            self.project = (model_key, findings)
            self.dirty = True

    def prune(self, keep: set[str]) -> None:
        for rel in set(self.entries) - keep:
            del self.entries[rel]
            self.dirty = True
            if self._facts is not None and self._facts.pop(rel, None) is not None:
                self.facts_dirty = True

    def save(self) -> str | None:
        """Write atomically; return a warning instead of failing when the directory is read-only."""
        if not (self.enabled and (self.dirty or self.facts_dirty)):
            return None
        directory = self.file.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            gitignore = directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by bex\n*\n")
            if self.facts_dirty:
                _write(self.facts_file, self._all_facts())
            _write(self.file, {"entries": self.entries, "project": self.project})
            for stale in directory.glob("v*.pickle"):
                if stale.stat().st_mtime < self.file.stat().st_mtime - 7 * 86400:
                    stale.unlink(missing_ok=True)
        except OSError as error:
            return f"cache not written to {directory}: {error.strerror or error}"
        return None


def _read(path: Path) -> object:
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except _LOAD_ERRORS:
        return None  # a missing or stale cache is simply rebuilt


def _write(path: Path, data: object) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
    with os.fdopen(fd, "wb") as handle:
        pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
