"""How pytest runs the project's async tests: read once per project from its configuration.

pytest takes its settings from the first of `pytest.ini`, `pyproject.toml`
(`[tool.pytest.ini_options]`), `tox.ini` (`[pytest]`) and `setup.cfg` (`[tool:pytest]`)
found from the tests' directory upwards. What matters for async tests: pytest-asyncio's
`asyncio_mode = auto` (also as `--asyncio-mode=auto` in `addopts`), pytest-trio's
`trio_mode = true`, plugins named in `-p`, and whether a conftest rewrites collection.
"""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend_expert.discover import tomllib

if TYPE_CHECKING:
    from backend_expert.index import Project


@dataclass(frozen=True)
class PytestConfig:
    file: str | None = None  # the configuration file that applies, relative to the root
    asyncio_auto: bool = False
    trio_mode: bool = False
    plugins: tuple[str, ...] = ()  # `-p name` in addopts

    @property
    def runs_unmarked_async(self) -> bool:
        return self.asyncio_auto or self.trio_mode


NONE = PytestConfig()


def _from_options(file: str, options: dict[str, object]) -> PytestConfig:
    def text(key: str) -> str:
        value = options.get(key, "")
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    addopts = text("addopts")
    auto = text("asyncio_mode").strip().lower() == "auto" or bool(
        re.search(r"--asyncio-mode[= ]auto", addopts)
    )
    trio = text("trio_mode").strip().lower() in ("true", "1", "yes") or "--trio-mode" in addopts
    plugins = tuple(re.findall(r"-p\s*([\w.:-]+)", addopts))
    return PytestConfig(file, auto, trio, plugins)


def _read_directory(directory: str, root: str) -> PytestConfig | None:
    """The configuration held in `directory`, when one of pytest's files there has a section."""
    rel = os.path.relpath(directory, root)

    def name(file: str) -> str:
        return file if rel == "." else f"{rel}/{file}"

    ini = os.path.join(directory, "pytest.ini")
    if os.path.isfile(ini):  # pytest.ini wins even when empty
        return _ini(ini, name("pytest.ini"), ("pytest", "tool:pytest")) or PytestConfig(
            name("pytest.ini")
        )
    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        try:
            with open(pyproject, "rb") as handle:
                data = tomllib.load(handle)
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        options = data.get("tool", {}).get("pytest", {})
        if isinstance(options, dict) and isinstance(options.get("ini_options"), dict):
            return _from_options(name("pyproject.toml"), options["ini_options"])
    for file, sections in (("tox.ini", ("pytest",)), ("setup.cfg", ("tool:pytest",))):
        found = _ini(os.path.join(directory, file), name(file), sections)
        if found is not None:
            return found
    return None


def _ini(path: str, shown: str, sections: tuple[str, ...]) -> PytestConfig | None:
    if not os.path.isfile(path):
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None
    for section in sections:
        if parser.has_section(section):
            return _from_options(shown, dict(parser.items(section)))
    return None


def pytest_config(project: Project, rel_path: str) -> PytestConfig:
    """The pytest configuration that applies to the test file `rel_path` (cached per directory).

    Only files that exist on disk are looked up: code checked from memory has no configuration.
    """
    root = os.path.abspath(project.root)
    cache: dict[str, PytestConfig] = project.__dict__.setdefault("_pytest_config", {})
    if not os.path.isfile(os.path.join(root, rel_path)):
        return NONE
    directory = os.path.dirname(os.path.join(root, rel_path))
    visited = []
    result = NONE
    while True:
        if directory in cache:
            result = cache[directory]
            break
        visited.append(directory)
        found = _read_directory(directory, root)
        if found is not None:
            result = found
            break
        parent = os.path.dirname(directory)
        if directory == root or parent == directory or not directory.startswith(root):
            break
        directory = parent
    for seen in visited:
        cache[seen] = result
    return result


def collection_hooks(project: Project) -> set[str]:
    """The hooks of the project's conftest files that may run or mark async tests themselves:
    `pytest_pyfunc_call`/`pytest_pycollect_makeitem` (they call the test), and
    `pytest_collection_modifyitems` (it may add markers)."""
    found = project.__dict__.get("_pytest_hooks")
    if found is None:
        wanted = {
            "pytest_collection_modifyitems",
            "pytest_pyfunc_call",
            "pytest_pycollect_makeitem",
        }
        found = set()
        for facts in project.modules.values():
            if facts.path.rpartition("/")[2] == "conftest.py":
                found |= wanted & set(facts.functions)
        project.__dict__["_pytest_hooks"] = found
    return found


def config_fingerprint(root: str) -> str:
    """A hash of the pytest configuration files at the project root: cached findings of
    test files must be recomputed when `asyncio_mode` or the plugins change."""
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    for name in ("pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
        try:
            with open(os.path.join(root, name), "rb") as handle:
                digest.update(name.encode() + handle.read())
        except OSError:
            continue
    return digest.hexdigest()
