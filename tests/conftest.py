from __future__ import annotations

from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.discover import _add_requirement
from backend_expert.engine import RunResult, run_sources
from backend_expert.rules import Example, Rule

# Fixture projects are data for bex (some hold test files of their own), not tests to collect.
collect_ignore_glob = ["fixtures/*"]


def check_example(rule: Rule, example: Example) -> RunResult:
    """Run one rule (plus the core ones) over an example, in memory."""
    config = Config(root=Path("."), layers=[Selection(select=(rule.code, "core"))])
    dependencies: dict[str, str] = {}
    for line in example.dependencies:
        _add_requirement(line, dependencies)
    return run_sources(example.sources(), config, dependencies)


@pytest.fixture
def write_project(tmp_path):
    """Write {relative path: text} under a temporary project root and return the root."""

    def write(files: dict[str, str | bytes], pyproject: str = "[project]\nname = 'demo'\nrequires-python = '>=3.10'\n") -> Path:
        if pyproject is not None:
            (tmp_path / "pyproject.toml").write_text(pyproject)
        for rel, content in files.items():
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return tmp_path

    return write
