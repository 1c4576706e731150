"""What an MCP client may ask bex to read or write: paths under the root, inputs of sane size.

An agent's arguments are not trusted. A path is resolved (symbolic links followed)
and must land under the configured root; so must every file found under a
directory it names. Inline content and path lists are bounded.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

MAX_CONTENT_BYTES = 1_000_000
MAX_PATHS = 100
MAX_FILES = 10_000


class Refused(ValueError):
    """An argument bex will not act on; the message says why."""


def real_root(root: Path) -> Path:
    return Path(os.path.realpath(root))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve(root: Path, raw: str) -> Path:
    """An existing file or directory under `root` named by `raw` (relative to the root, or absolute)."""
    if not raw or "\x00" in raw:
        raise Refused("empty or invalid path")
    candidate = Path(raw) if os.path.isabs(raw) else root / raw
    real = Path(os.path.realpath(candidate))
    if not _inside(real, root):
        if _inside(Path(os.path.normpath(candidate)), root):
            raise Refused(
                f"{raw}: a symbolic link leading outside the project root {root}; not followed"
            )
        raise Refused(f"{raw}: outside the project root {root}; bex only reads files under it")
    if not real.exists():
        raise Refused(f"{raw}: no such file or directory under {root}")
    return real


def check_paths(root: Path, paths: list[str]) -> list[Path]:
    if len(paths) > MAX_PATHS:
        raise Refused(f"{len(paths)} paths given; at most {MAX_PATHS} per call (name a directory)")
    return [resolve(root, raw) for raw in paths]


def inside_only(root: Path, files: list[Path]) -> tuple[list[Path], list[str]]:
    """Drop discovered files whose real location is outside the root (links), saying so."""
    kept, skipped = [], []
    for path in files:
        if _inside(Path(os.path.realpath(path)), root):
            kept.append(path)
        else:
            skipped.append(f"{path}: a symbolic link leading outside the project root; skipped")
    if len(kept) > MAX_FILES:
        raise Refused(f"{len(kept)} Python files to check; at most {MAX_FILES} per call")
    return kept, skipped


def virtual_name(filename: str) -> str:
    """The relative path an inline snippet is checked as (it need not exist)."""
    name = filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or ".." in parts or "\x00" in name:
        raise Refused(f"filename {filename!r}: give a relative path under the project root")
    if not name.endswith((".py", ".pyi")):
        raise Refused(f"filename {filename!r}: bex checks Python files (.py, .pyi)")
    return str(PurePosixPath(*[p for p in parts if p != "."]))


def check_content(content: str) -> None:
    size = len(content.encode("utf-8", errors="replace"))
    if size > MAX_CONTENT_BYTES:
        raise Refused(
            f"content is {size} bytes; at most {MAX_CONTENT_BYTES} per call (check a path instead)"
        )
