"""The project's other files (pyproject.toml, setup.py, alembic.ini, requirements, tests).

Project rules ask about files the Python pipeline does not read: is there a
pyproject.toml, what does it say, is Alembic set up, are there tests the run excluded.
In memory runs (examples, tests) the files come with the sources (`Project.files`);
otherwise they are looked up under the project root, a few levels deep, skipping
virtual environments and vendored trees.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:
    from backend_expert.index import Project

MAX_BYTES = 512 * 1024
SKIP_DIRS = frozenset(
    {"venv", "env", "node_modules", "build", "dist", "__pycache__", "site-packages"}
    | {"vendor", "third_party", "static", "__pypackages__"}
)
TEST_DIRS = frozenset({"tests", "test", "testing"})


def _test_name(name: str) -> bool:
    return name.endswith(".py") and (
        name.startswith("test_") or name.endswith("_test.py") or name in ("tests.py", "conftest.py")
    )


def read_file(project: Project, rel: str) -> str | None:
    """The text of a project file, or None when it does not exist or cannot be read."""
    if project.files is not None:
        return project.files.get(rel)
    path = os.path.join(project.root, rel)
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def exists(project: Project, rel: str) -> bool:
    if project.files is not None:
        return rel in project.files or rel in project.by_path
    return os.path.exists(os.path.join(project.root, rel))


def walk(project: Project, depth: int = 3) -> list[str]:
    """Relative paths of every file up to `depth` directories below the root."""
    if project.files is not None:
        return sorted({*project.files, *project.by_path})
    cache = project.__dict__.setdefault("_walked", {})
    if depth in cache:
        return cache[depth]
    found: list[str] = []
    root = project.root
    stack = [(root, 0)]
    while stack and len(found) < 200_000:
        directory, level = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if level < depth and entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                    stack.append((entry.path, level + 1))
            else:
                found.append(os.path.relpath(entry.path, root).replace(os.sep, "/"))
    cache[depth] = sorted(found)
    return cache[depth]


def find_named(project: Project, names: set[str] | frozenset[str], depth: int = 3) -> list[str]:
    return [rel for rel in walk(project, depth) if PurePosixPath(rel).name in names]


def has_tests(project: Project) -> bool:
    """Tests anywhere: test modules in the model, or on disk (runs may exclude them)."""
    if any(facts.is_test for facts in project.modules.values()):
        return True
    for rel in walk(project, depth=8):
        path = PurePosixPath(rel)
        if _test_name(path.name) or (path.suffix == ".py" and TEST_DIRS & set(path.parts[:-1])):
            return True
    return False


def read_toml(text: str | None) -> dict:
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return {}


def requires_python_of(text: str | None) -> str | None:
    """`[project] requires-python`, or poetry's `python` dependency."""
    data = read_toml(text)
    project = data.get("project")
    if isinstance(project, dict) and isinstance(project.get("requires-python"), str):
        return project["requires-python"]
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    python = poetry.get("dependencies", {}).get("python") if isinstance(poetry, dict) else None
    return python if isinstance(python, str) else None


def line_of(text: str, pattern: str) -> int:
    """The 1-based line of the first match of `pattern` (1 when absent)."""
    regex = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), start=1):
        if regex.search(line):
            return number
    return 1
