"""The cache that makes an unchanged tree re-check in a fraction of the cold time.

One pickle per (bex version, configuration) under `.bex_cache/`. For each file
it keeps the stat signature, content hash, index facts and, keyed by the
project model's fingerprint, the findings after suppression. A file whose
size and mtime are unchanged is not even read.
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

FORMAT = 2  # bump whenever the cached classes change shape


@dataclass
class Entry:
    signature: tuple[int, int]  # (mtime_ns, size)
    content_hash: str
    facts: ModuleFacts | None  # None when the file did not parse or could not be read
    problems: list[Finding]  # io-error / syntax-error found while indexing
    digest: str = ""  # of the facts, so warm runs need not recompute it
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
        self.file = directory / f"v{FORMAT}-{__version__}-{config_key}.pickle"
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            with self.file.open("rb") as handle:
                data = pickle.load(handle)
            if isinstance(data, dict):
                self.entries = data
        except (
            OSError,
            pickle.UnpicklingError,
            EOFError,
            AttributeError,
            ImportError,
            TypeError,
            ValueError,
        ):
            self.entries = {}  # a missing or stale cache is simply rebuilt

    def get(self, rel: str, sig: tuple[int, int] | None) -> Entry | None:
        entry = self.entries.get(rel) if self.enabled else None
        return entry if entry is not None and sig is not None and entry.signature == sig else None

    def put(self, rel: str, entry: Entry) -> None:
        if self.enabled:
            self.entries[rel] = entry
            self.dirty = True

    def prune(self, keep: set[str]) -> None:
        for rel in set(self.entries) - keep:
            del self.entries[rel]
            self.dirty = True

    def save(self) -> str | None:
        """Write atomically; return a warning instead of failing when the directory is read-only."""
        if not (self.enabled and self.dirty):
            return None
        directory = self.file.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            gitignore = directory / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("# created by bex\n*\n")
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(self.entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.file)
            for stale in directory.glob("v*.pickle"):
                if (
                    stale != self.file
                    and stale.stat().st_mtime < self.file.stat().st_mtime - 7 * 86400
                ):
                    stale.unlink(missing_ok=True)
        except OSError as error:
            return f"cache not written to {directory}: {error.strerror or error}"
        return None
