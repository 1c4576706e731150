"""The command line as a user meets it: exit codes, formats, help, explain, rules."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from backend_expert.cli import main

BAD = 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s():\n    pass\n'
GOOD = "from fastapi import FastAPI\napp = FastAPI()\n"


def bex(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(write_project):
    return write_project({"svc/__init__.py": "", "svc/main.py": BAD, "svc/ok.py": GOOD})


def test_exit_codes(project, write_project):
    assert bex("check", str(project), "--no-cache").exit_code == 1
    assert bex("check", str(project), "--no-cache", "--exit-zero").exit_code == 0
    assert bex("check", str(project / "svc" / "ok.py"), "--no-cache").exit_code == 0
    assert bex("check", str(project), "--select", "nonsense").exit_code == 2
    assert bex("check", "--output-format", "xml", str(project)).exit_code == 2


def test_concise_output(project):
    result = bex("check", str(project), "--no-cache", "--output-format", "concise")
    assert result.output == (
        'svc/main.py:4:2: BEX101 [fastapi-on-event] `app.on_event("startup")` is deprecated '
        "(Starlette 1.0 removed event handlers; FastAPI keeps a deprecated copy). Move the code "
        "into a lifespan context manager.\n"
    )


def test_json_output_has_the_documented_fields(project):
    result = bex("check", str(project), "--no-cache", "--output-format", "json")
    [finding] = json.loads(result.output)
    assert set(finding) >= {
        "code",
        "slug",
        "pack",
        "severity",
        "category",
        "confidence",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "fix",
        "docs",
    }
    assert (finding["path"], finding["line"], finding["code"]) == ("svc/main.py", 4, "BEX101")
    assert finding["fix"]["applicability"] == "unsafe"
    assert finding["docs"].endswith("#fastapi-on-event")


def test_text_output_shows_frame_and_help(project):
    result = bex("check", str(project), "--no-cache")
    assert "svc/main.py" in result.output
    assert '> 4 | @app.on_event("startup")' in result.output
    assert "help: Move the startup and shutdown code" in result.output
    assert "Found 1 finding: 1 warning (3 files checked)." in result.output


def test_quiet_and_statistics(project):
    assert "Found" not in bex("check", str(project), "--no-cache", "-q").output
    stats = bex("check", str(project), "--no-cache", "--statistics").output
    assert stats.split() == ["1", "BEX101", "[*]", "fastapi-on-event"]


def test_select_and_ignore_on_the_command_line(project):
    assert bex("check", str(project), "--no-cache", "--ignore", "fastapi").exit_code == 0
    assert bex("check", str(project), "--no-cache", "--select", "core").exit_code == 0
    assert (
        bex(
            "check", str(project), "--no-cache", "--select", "core", "--extend-select", "BEX101"
        ).exit_code
        == 1
    )


def test_unknown_config_key_is_exit_2_with_the_name(write_project):
    root = write_project({"a.py": GOOD}, pyproject="[tool.bex]\nselcet = []\n")
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 2
    assert "unknown option `selcet`" in result.output


def test_explain_by_code_and_slug():
    by_code = bex("explain", "BEX101").output
    assert by_code == bex("explain", "fastapi-on-event").output
    for section in (
        "## What it does",
        "## Why it matters",
        "## Example",
        "## Use instead",
        "## Not flagged",
    ):
        assert section in by_code
    assert '@app.on_event("startup")  # flagged' in by_code
    assert "asynccontextmanager" in by_code


def test_explain_unknown_rule_suggests():
    result = CliRunner().invoke(main, ["explain", "fastapi-on-evnt"])
    assert result.exit_code == 2 and "Did you mean 'fastapi-on-event'" in result.output


def test_rules_table_and_json():
    table = bex("rules", "--pack", "fastapi").output
    assert "BEX101" in table and "BEX001" not in table
    rows = json.loads(bex("rules", "--format", "json").output)
    assert {"BEX001", "BEX101"} <= {row["code"] for row in rows}


def test_help_is_understandable():
    assert "Review PATHS" in bex("check", "--help").output
    assert "bex explain" in bex("--help").output


def test_python_dash_m_entry_point(project):
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "backend_expert",
            "check",
            str(project),
            "--no-cache",
            "--output-format",
            "concise",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout.startswith("svc/main.py:4:2: BEX101")
