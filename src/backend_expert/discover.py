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
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


class _Ignorer:
    """Decides whether a path is excluded: patterns from config plus .gitignore files."""

    def __init__(self, root: Path, config: Config) -> None:
        self.root = root
        patterns = [*config.exclude, *config.extend_exclude]
        self.names = {p for p in patterns if "/" not in p and not any(c in p for c in "*?[")}
        self.spec = pathspec.GitIgnoreSpec.from_lines(patterns)
        self.respect_gitignore = config.respect_gitignore
        self.gitignores: dict[Path, pathspec.PathSpec | None] = {}

    def _gitignore(self, directory: Path) -> pathspec.PathSpec | None:
        if directory not in self.gitignores:
            spec = None
            candidate = directory / ".gitignore"
            try:
                if candidate.is_file():
                    lines = candidate.read_text(errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
            self.gitignores[directory] = spec
        return self.gitignores[directory]

    def excluded(self, path: Path, is_dir: bool) -> bool:
        if path.name in self.names:
            return True
        rel = relative(path, self.root)
        probe = rel + "/" if is_dir else rel
        if self.spec.match_file(probe):
            return True
        if not self.respect_gitignore:
            return False
        for directory in (path.parent, *path.parent.parents):
            spec = self._gitignore(directory)
            if spec is not None:
                sub = relative(path, directory) + ("/" if is_dir else "")
                if spec.match_file(sub):
                    return True
            if directory == self.root or (directory / ".git").exists():
                break
        return False


def discover(paths: Iterable[Path], config: Config) -> Discovery:
    """List the Python files under `paths` and read the project's declared dependencies."""
    root = config.root
    found = Discovery(root=root)
    ignorer = _Ignorer(root, config)
    seen: set[Path] = set()
    for raw in paths:
        path = Path(os.path.abspath(raw))
        if path.is_symlink() and not path.exists():
            found.warnings.append(f"{raw}: broken symbolic link, skipped")
        elif not path.exists():
            found.warnings.append(f"{raw}: no such file or directory")
        elif path.is_dir():
            _walk(path, ignorer, found, seen, set())
        elif path not in seen:
            seen.add(path)
            found.files.append(path)
    found.dependencies, found.requires_python = read_dependencies(root)
    return found


def _walk(
    directory: Path, ignorer: _Ignorer, found: Discovery, seen: set[Path], active: set[str]
) -> None:
    real = os.path.realpath(directory)
    if real in active:
        found.warnings.append(f"{relative(directory, found.root)}: symbolic link loop, skipped")
        return
    active.add(real)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as error:
        found.warnings.append(
            f"{relative(directory, found.root)}: cannot read directory ({error.strerror})"
        )
        active.discard(real)
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if entry.is_symlink() and not (is_dir or is_file):
            if entry.name.endswith(".py"):
                found.warnings.append(
                    f"{relative(path, found.root)}: broken symbolic link, skipped"
                )
            continue
        if ignorer.excluded(path, is_dir):
            continue
        if is_dir:
            _walk(path, ignorer, found, seen, active)
        elif is_file and entry.name.endswith((".py", ".pyi")) and path not in seen:
            seen.add(path)
            found.files.append(path)
    active.discard(real)


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
