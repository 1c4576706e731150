"""`requires-python` that lets the project run on end-of-life Pythons."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.project_files import line_of, read_file
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding

# Minor version -> end of security support (the last month of its five years).
END_OF_LIFE = {
    6: "2021-12", 7: "2023-06", 8: "2024-10", 9: "2025-10", 10: "2026-10",
    11: "2027-10", 12: "2028-10", 13: "2029-10", 14: "2030-10",
}  # fmt: skip
OLDEST_ADVISED = 10  # the catalogue's floor: 3.10 (the oldest bex itself runs on)
_CLAUSE = re.compile(r"(\^|~=|~|>=|<=|==|!=|>|<)?\s*(\d+)(?:\.(\d+|\*))?")


def bounds(spec: str) -> tuple[int | None, int | None]:
    """The lowest and highest 3.x minor a specifier allows (None: unbounded or unknown)."""
    low = high = None
    for clause in re.split(r"[,|]", spec):
        match = _CLAUSE.fullmatch(clause.strip().rstrip(".*").strip())
        if not match:
            continue
        op, major, minor = match.group(1) or "==", int(match.group(2)), match.group(3)
        if major != 3 or minor in (None, "*"):
            continue
        value = int(minor)
        if op in (">=", ">", "^", "~=", "~", "=="):
            low = value if low is None else max(low, value)
        if op in ("<",):
            high = value - 1 if high is None else min(high, value - 1)
        elif op in ("<=", "==", "~"):
            high = value if high is None else min(high, value)
    return low, high


def _ended(minor: int, today: datetime.date | None = None) -> bool:
    date = END_OF_LIFE.get(minor)
    if minor < 6:
        return True
    if date is None:
        return False
    return (today or datetime.date.today()).strftime("%Y-%m") > date


class PythonEol(Rule):
    code = "BEX015"
    slug = "project-python-eol"
    pack = "project"
    severity = Severity.INFO
    category = "maintenance"
    summary = "requires-python allows Pythons older than 3.10, or only end-of-life ones"
    hint = "Raise requires-python to a supported version (>=3.12 for new services)."
    explanation = Explanation(
        what=(
            "Reports a `requires-python` (or poetry `python`) whose lowest allowed version is "
            "below 3.10, and, as a warning, one whose every allowed version has reached its "
            "end of life."
        ),
        why=(
            "An end-of-life interpreter gets no security fixes, and current releases of "
            "Django, FastAPI, Pydantic and SQLAlchemy drop it: the project is pinned to old "
            "libraries too. A low floor also keeps the code from using `X | None`, `match`, "
            "`asyncio.TaskGroup` and the other features reviewers expect."
        ),
        use_instead=(
            '`requires-python = ">=3.12"` for a service you deploy (pick the oldest version '
            "your production image runs); libraries follow the oldest version still supported."
        ),
        references=(
            "https://devguide.python.org/versions/",
            "https://packaging.python.org/en/latest/specifications/pyproject-toml/#requires-python",
        ),
    )
    fire = (
        Example(
            title="a floor of 3.8",
            files={
                "app.py": "import os\n",
                "pyproject.toml": '[project]\nname = "shop"\nrequires-python = ">=3.8"  # flagged\n',
            },
        ),
        Example(
            title="poetry's caret on 3.9",
            files={
                "app.py": "import os\n",
                "pyproject.toml": '[tool.poetry]\nname = "shop"\n\n[tool.poetry.dependencies]\npython = "^3.9"  # flagged\n',
            },
        ),
    )
    clean = (
        Example(
            title="near miss: a supported floor",
            files={
                "app.py": "import os\n",
                "pyproject.toml": '[project]\nname = "shop"\nrequires-python = ">=3.11,<4"\n',
            },
        ),
        Example(
            title="near miss: no requires-python at all (project-no-pyproject's business)",
            files={"app.py": "import os\n", "pyproject.toml": '[project]\nname = "shop"\n'},
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        spec = project.requires_python
        if not spec:
            return
        low, high = bounds(spec)
        text = read_file(project, "pyproject.toml")
        path = "pyproject.toml" if text is not None else "setup.py"
        line = line_of(text, r"requires-python|^\s*python\s*=") if text else 1
        if high is not None and _ended(high):
            yield project_finding(
                self,
                path,
                line,
                f'`requires-python = "{spec}"` allows only end-of-life Pythons (3.{high} and '
                "older get no security fixes)",
                severity=Severity.WARNING,
            )
        elif low is not None and low < OLDEST_ADVISED:
            status = (
                f"end of life since {END_OF_LIFE[low]}"
                if low in END_OF_LIFE and _ended(low)
                else "end of life"
            )
            yield project_finding(
                self,
                path,
                line,
                f'`requires-python = "{spec}"` still allows Python 3.{low} ({status}): raise the '
                "floor to a supported version",
            )
