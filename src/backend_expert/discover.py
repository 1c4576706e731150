"""Stage 1, discover: which files to read, where the project root is, what it depends on.

Directories are walked with `os.scandir`, pruned by the default excludes,
`exclude`/`extend-exclude` and `.gitignore` files (via pathspec). Explicitly named
files are always read, as in ruff. Problems (broken links, loops, unreadable
directories) become warnings and the walk goes on.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from backend_expert.config import Config

ROOT_MARKERS = ("pyproject.toml", ".git", "setup.cfg", "setup.py")

# Distribution name (normalised) -> framework key used by the rules.
DISTRIBUTIONS = {
    "fastapi": "fastapi",
    "fastapi-slim": "fastapi",
    "starlette": "starlette",
    "django": "django",
    "djangorestframework": "drf",
    "flask": "flask",
    "flask-sqlalchemy": "flask_sqlalchemy",
    "sqlalchemy": "sqlalchemy",
    "sqlmodel": "sqlmodel",
    "pydantic": "pydantic",
    "pydantic-settings": "pydantic",
    "requests": "requests",
    "httpx": "httpx",
    "aiohttp": "aiohttp",
    "celery": "celery",
    "pytest": "pytest",
    "alembic": "alembic",
}
# Top-level import name -> framework key.
IMPORTS = {
    "fastapi": "fastapi",
    "starlette": "starlette",
    "django": "django",
    "rest_framework": "drf",
    "flask": "flask",
    "flask_sqlalchemy": "flask_sqlalchemy",
    "sqlalchemy": "sqlalchemy",
    "sqlmodel": "sqlmodel",
    "pydantic": "pydantic",
    "pydantic_settings": "pydantic",
    "requests": "requests",
    "httpx": "httpx",
    "aiohttp": "aiohttp",
    "celery": "celery",
    "pytest": "pytest",
    "alembic": "alembic",
}


@dataclass
class Discovery:
    root: Path
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dependencies: dict[str, str] = field(
        default_factory=dict
    )  # distribution -> specifier ("" if none)
    requires_python: str | None = None


def find_root(start: Path) -> Path:
    """The nearest directory at or above `start` holding pyproject.toml or .git (else `start`)."""
    start = start if start.is_dir() else start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS[:2]):
            return directory
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS[2:]):
            return directory
    return start


def relative(path: Path, root: Path) -> str:
    """`path` relative to `root` with forward slashes (or absolute when outside it)."""
    text, base = str(path), str(root).rstrip("/") + "/"
    return text[len(base) :] if text.startswith(base) else path.as_posix()


def _gitignore_spec(directory: str) -> pathspec.GitIgnoreSpec | None:
    try:
        with open(
            os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace"
        ) as handle:
            return pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())
    except OSError:
        return None


# A .gitignore applies below its directory: (directory with trailing slash, spec).
GitignoreStack = tuple[tuple[str, pathspec.GitIgnoreSpec], ...]


class _Walker:
    """Walks directories, pruning excluded and git-ignored entries; works on strings for speed."""

    def __init__(self, config: Config, found: Discovery) -> None:
        patterns = [*config.exclude, *config.extend_exclude]
        self.names = {
            p.strip("/")
            for p in patterns
            if "/" not in p.strip("/") and not any(c in p for c in "*?[")
        }
        self.spec = pathspec.GitIgnoreSpec.from_lines(
            [p for p in patterns if p.strip("/") not in self.names]
        )
        self.respect_gitignore = config.respect_gitignore
        self.root = str(found.root).rstrip("/") + "/"
        self.found = found
        self.seen: set[str] = set()
        self.active: set[str] = set()

    def _rel(self, path: str) -> str:
        return path[len(self.root) :] if path.startswith(self.root) else path

    def excluded(self, path: str, name: str, is_dir: bool, gitignores: GitignoreStack) -> bool:
        if name in self.names:
            return True
        suffix = "/" if is_dir else ""
        if self.spec.patterns and self.spec.match_file(self._rel(path) + suffix):
            return True
        return any(spec.match_file(path[len(base) :] + suffix) for base, spec in gitignores)

    def initial_gitignores(self, directory: str) -> GitignoreStack:
        """The .gitignore files above `directory`, up to the repository (or project) root."""
        if not self.respect_gitignore:
            return ()
        stack = []
        current = os.path.dirname(directory)
        while current and current != os.path.dirname(current):
            spec = _gitignore_spec(current)
            if spec is not None:
                stack.append((current.rstrip("/") + "/", spec))
            if os.path.exists(os.path.join(current, ".git")) or current + "/" == self.root:
                break
            current = os.path.dirname(current)
        return tuple(reversed(stack))

    def walk(self, directory: str, gitignores: GitignoreStack) -> None:
        real = os.path.realpath(directory)
        if real in self.active:
            self.found.warnings.append(f"{self._rel(directory)}: symbolic link loop, skipped")
            return
        self.active.add(real)
        if self.respect_gitignore and (spec := _gitignore_spec(directory)) is not None:
            gitignores = (*gitignores, (directory.rstrip("/") + "/", spec))
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            self.found.warnings.append(
                f"{self._rel(directory)}: cannot read directory ({error.strerror})"
            )
            entries = []
        for entry in entries:
            self._entry(entry, gitignores)
        self.active.discard(real)

    def _entry(self, entry: os.DirEntry, gitignores: GitignoreStack) -> None:
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if not (is_dir or is_file):
            if entry.is_symlink() and entry.name.endswith(".py"):
                self.found.warnings.append(
                    f"{self._rel(entry.path)}: broken symbolic link, skipped"
                )
            return
        if is_file and not entry.name.endswith((".py", ".pyi")):
            return
        if self.excluded(entry.path, entry.name, is_dir, gitignores):
            return
        if is_dir:
            self.walk(entry.path, gitignores)
        elif entry.path not in self.seen:
            self.seen.add(entry.path)
            self.found.files.append(Path(entry.path))


def discover(paths: Iterable[Path], config: Config) -> Discovery:
    """List the Python files under `paths` and read the project's declared dependencies."""
    found = Discovery(root=config.root)
    walker = _Walker(config, found)
    for raw in paths:
        path = os.path.abspath(raw)
        if os.path.islink(path) and not os.path.exists(path):
            found.warnings.append(f"{raw}: broken symbolic link, skipped")
        elif not os.path.exists(path):
            found.warnings.append(f"{raw}: no such file or directory")
        elif os.path.isdir(path):
            walker.walk(path, walker.initial_gitignores(path))
        elif path not in walker.seen:
            walker.seen.add(path)
            found.files.append(Path(path))
    found.dependencies, found.requires_python = read_dependencies(config.root)
    return found


# --- declared dependencies -------------------------------------------------------------------

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;#]*)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _add_requirement(line: str, into: dict[str, str]) -> None:
    match = _REQUIREMENT.match(line)
    if match:
        into.setdefault(normalise(match.group(1)), match.group(2).strip().replace(" ", ""))


def read_dependencies(root: Path) -> tuple[dict[str, str], str | None]:
    """Dependencies declared in pyproject.toml (PEP 621, poetry, pdm, uv, PEP 735), requirements*.txt, setup.cfg."""
    deps: dict[str, str] = {}
    requires_python = None
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
        except (tomllib.TOMLDecodeError, OSError):
            data = {}
        project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
        requires_python = project.get("requires-python")
        for line in _pyproject_requirements(data):
            _add_requirement(line, deps)
        poetry = data.get("tool", {}).get("poetry", {})
        for table in _poetry_tables(poetry):
            for name, spec in table.items():
                if name.lower() == "python":
                    requires_python = requires_python or (spec if isinstance(spec, str) else None)
                    continue
                version = (
                    spec
                    if isinstance(spec, str)
                    else (spec.get("version", "") if isinstance(spec, dict) else "")
                )
                deps.setdefault(normalise(name), _poetry_spec(version))
    for req in sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt")):
        try:
            for line in req.read_text(encoding="utf-8", errors="replace").splitlines():
                if not line.lstrip().startswith(("-", "#")):
                    _add_requirement(line, deps)
        except OSError:
            continue
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        _read_setup_cfg(setup_cfg, deps)
    return deps, requires_python


def _pyproject_requirements(data: dict) -> Iterable[str]:
    project = data.get("project", {})
    yield from _string_items(project.get("dependencies"))
    for group in (project.get("optional-dependencies") or {}).values():
        yield from _string_items(group)
    for group in (data.get("dependency-groups") or {}).values():
        yield from _string_items(group)
    tool = data.get("tool", {})
    yield from _string_items(tool.get("uv", {}).get("dev-dependencies"))
    for group in (tool.get("pdm", {}).get("dev-dependencies") or {}).values():
        yield from _string_items(group)


def _string_items(value: object) -> Iterable[str]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, str))


def _poetry_tables(poetry: dict) -> Iterable[dict]:
    for key in ("dependencies", "dev-dependencies"):
        if isinstance(poetry.get(key), dict):
            yield poetry[key]
    for group in (poetry.get("group") or {}).values():
        if isinstance(group, dict) and isinstance(group.get("dependencies"), dict):
            yield group["dependencies"]


def _poetry_spec(version: str) -> str:
    """Poetry's `^1.2` and `~1.2` as PEP 440 specifiers (close enough to judge pins)."""
    version = version.strip()
    if version in ("", "*"):
        return ""
    if version.startswith("^"):
        return _caret(version[1:])
    if version.startswith("~") and not version.startswith("~="):
        return f"~={version[1:]}" if version.count(".") else f">={version[1:]}"
    if version[0].isdigit():
        return f"=={version}"
    return version.replace(" ", "")


def _caret(base: str) -> str:
    """`^1.2` allows >=1.2,<2; `^0.3` allows >=0.3,<0.4 (poetry's rules)."""
    parts = [int(p) if p.isdigit() else None for p in base.split(".")]
    if parts[0] is None:
        return f">={base}"
    if parts[0] > 0 or len(parts) == 1:
        return f">={base},<{parts[0] + 1}"
    if parts[1] is None:
        return f">={base}"
    return f">={base},<0.{parts[1] + 1}"


def _read_setup_cfg(path: Path, deps: dict[str, str]) -> None:
    import configparser

    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return
    if parser.has_option("options", "install_requires"):
        for line in parser.get("options", "install_requires").splitlines():
            _add_requirement(line, deps)
    if parser.has_section("options.extras_require"):
        for _, value in parser.items("options.extras_require"):
            for line in value.splitlines():
                _add_requirement(line, deps)


def declared_frameworks(dependencies: dict[str, str]) -> set[str]:
    return {DISTRIBUTIONS[name] for name in dependencies if name in DISTRIBUTIONS}


def is_excluded(path: Path, config: Config) -> bool:
    """True when `path`, or a folder between it and the project root, matches `exclude` or
    `extend-exclude`. For `--force-exclude`: pre-commit names files one by one, and a
    file named explicitly is otherwise always checked."""
    rel = relative(Path(os.path.abspath(path)), config.root)
    if rel.startswith("/") or rel in ("", "."):
        return False
    walker = _Walker(config, Discovery(root=config.root))
    parts = rel.split("/")
    for index, name in enumerate(parts):
        sub = os.path.join(str(config.root), *parts[: index + 1])
        if walker.excluded(sub, name, index < len(parts) - 1 or os.path.isdir(sub), ()):
            return True
    return False
