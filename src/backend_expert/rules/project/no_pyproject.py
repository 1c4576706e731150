"""A project declared without pyproject.toml, or without `requires-python`."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.project_files import line_of, read_file, read_toml, requires_python_of
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding

LEGACY = ("setup.py", "setup.cfg", "Pipfile", "requirements.txt", "requirements/base.txt")
APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


class NoPyproject(Rule):
    code = "BEX010"
    slug = "project-no-pyproject"
    pack = "project"
    severity = Severity.INFO
    category = "packaging"
    summary = "The project has no pyproject.toml, or its pyproject.toml has no requires-python"
    hint = "Declare the project in pyproject.toml ([project] with name, requires-python, dependencies)."
    explanation = Explanation(
        what=(
            "Reports a project whose metadata and dependencies live only in `setup.py`, "
            "`setup.cfg`, a `Pipfile` or `requirements.txt` files, and a `pyproject.toml` "
            "that declares the project (`[project]` or `[tool.poetry]`) without saying which "
            "Python versions it supports. A directory with no packaging file at all is left alone."
        ),
        why=(
            "`pyproject.toml` is the one file every current tool reads: pip, uv, poetry, "
            "hatch, ruff, mypy, pytest and bex itself. Without `requires-python`, installers "
            "resolve dependencies for interpreters the code never ran on, and linters cannot "
            "tell which syntax and library features are allowed."
        ),
        use_instead=(
            'A minimal file:\n\n```toml\n[project]\nname = "shop"\nversion = "0.1.0"\n'
            'requires-python = ">=3.12"\ndependencies = ["fastapi>=0.115", "sqlalchemy>=2.0"]\n'
            '\n[dependency-groups]\ndev = ["pytest>=8"]\n```\n\nKeep `requirements.txt` only as '
            "a lock file generated from it (`uv pip compile pyproject.toml`), if at all."
        ),
        references=(
            "https://packaging.python.org/en/latest/guides/writing-pyproject-toml/",
            "https://packaging.python.org/en/latest/specifications/pyproject-toml/#requires-python",
        ),
    )
    fire = (
        Example(
            title="dependencies only in requirements.txt",
            files={"app.py": APP, "requirements.txt": "fastapi==0.115.0  # flagged\nuvicorn\n"},
        ),
        Example(
            title="a [project] table without requires-python",
            files={
                "app.py": APP,
                "pyproject.toml": '[project]  # flagged\nname = "shop"\ndependencies = ["fastapi"]\n',
            },
        ),
    )
    clean = (
        Example(
            title="near miss: pyproject.toml with requires-python",
            files={
                "app.py": APP,
                "pyproject.toml": '[project]\nname = "shop"\nrequires-python = ">=3.12"\n',
                "requirements.txt": "fastapi==0.115.0\n",
            },
        ),
        Example(
            title="near miss: poetry's python dependency",
            files={
                "app.py": APP,
                "pyproject.toml": '[tool.poetry]\nname = "shop"\n\n[tool.poetry.dependencies]\npython = "^3.12"\n',
            },
        ),
        Example(title="near miss: no packaging file at all (a script)", code=APP),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        text = read_file(project, "pyproject.toml")
        data = read_toml(text)
        tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
        declared = isinstance(data.get("project"), dict) or isinstance(tool.get("poetry"), dict)
        if text is not None and declared:
            if requires_python_of(text) is None and not project.requires_python:
                line = line_of(text, r"^\s*\[(project|tool\.poetry)\]")
                yield project_finding(
                    self,
                    "pyproject.toml",
                    line,
                    "pyproject.toml declares the project but not `requires-python`: installers "
                    "and linters cannot tell which Python versions it supports",
                )
            return
        legacy = next((name for name in LEGACY if read_file(project, name) is not None), None)
        if legacy is None:
            return
        where = "only tool settings in pyproject.toml and " if text is not None else ""
        yield project_finding(
            self,
            legacy,
            1,
            f"The project is declared with {where}`{legacy}`: move its metadata, "
            "`requires-python` and dependencies into a pyproject.toml `[project]` table",
        )
