"""Pieces of the editor and agent integrations that need no client: the ignore comment,
the warm model, and the message when an optional dependency is missing."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

from backend_expert.cli import main
from backend_expert.findings import Finding, Severity
from backend_expert.ignore_comment import ignore_edit, ignore_line
from backend_expert.warm import WarmProject


def _finding(line: int, end_line: int | None = None) -> Finding:
    return Finding(
        code="BEX601",
        slug="async-blocking-call",
        pack="async",
        severity=Severity.WARNING,
        category="performance",
        path="app.py",
        line=line,
        column=1,
        end_line=end_line or line,
        end_column=2,
        message="m",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("time.sleep(1)", "time.sleep(1)  # bex: ignore[async-blocking-call]"),
        (
            'f("#")  # noqa: E501',
            'f("#")  # noqa: E501  # bex: ignore[async-blocking-call]',
        ),
        (
            "x()  # bex: ignore[other-rule] -- why",
            "x()  # bex: ignore[other-rule, async-blocking-call] -- why",
        ),
        ("x()  # bex: ignore", None),
        ("x()  # bex: ignore[async-blocking-call]", None),
    ],
)
def test_ignore_line(line, expected):
    assert ignore_line(line, "async-blocking-call") == expected


def test_ignore_comment_never_lands_inside_a_string():
    text = 'call(\n    """a\nb""", time.sleep(1)\n)\n'
    # The finding spans lines 2-3; the end of line 2 is inside the string, that of line 3 is not.
    assert ignore_edit(text, _finding(2, 3)) == (
        3,
        'b""", time.sleep(1)',
        'b""", time.sleep(1)  # bex: ignore[async-blocking-call]',
    )
    assert ignore_edit('x = """\n"""\n', _finding(1, 1)) is None  # no line can take it


BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def test_warm_project_follows_the_open_document(write_project):
    root = write_project(
        {
            "app/__init__.py": "",
            "app/clock.py": "import time\n\n\ndef pause():\n    pass\n",
            "app/jobs.py": "from app.clock import pause\n\n\nasync def job():\n    pause()\n",
        }
    )
    project = WarmProject(root, use_cache=False)
    assert project.check_text("app/jobs.py", (root / "app/jobs.py").read_text()) == []
    assert [f.code for f in project.check_text("app/new.py", BLOCKING, update=False)] == ["BEX601"]
    assert "app/new.py" not in project.facts  # a snippet leaves the model alone
    project.check_text("app/new.py", BLOCKING)
    assert "app/new.py" in project.facts  # an editor buffer updates it
    project.reload("app/new.py")  # closed without saving: the disk is the truth again
    assert "app/new.py" not in project.facts


@pytest.mark.parametrize(("command", "module"), [("lsp", "pygls"), ("mcp", "mcp")])
def test_missing_extra_is_a_clear_message(monkeypatch, command, module):
    for name in [n for n in sys.modules if n == module or n.startswith(f"{module}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    for mine in ("backend_expert.lsp", "backend_expert.mcp_server"):
        monkeypatch.delitem(sys.modules, mine, raising=False)
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2
    assert f"pip install 'backend-expert[{command}]'" in result.output


def test_keystrokes_defer_the_model_rebuild_until_save(write_project):
    root = write_project({"app/__init__.py": "", "app/jobs.py": "def a():\n    pass\n"})
    project = WarmProject(root, use_cache=False)
    project.check_text("app/jobs.py", "def a():\n    pass\n")
    model = project.project
    typed = "def a():\n    pass\n\n\ndef b():\n    pass\n"
    project.check_text("app/jobs.py", typed, project_level=False)
    assert project.project is model  # lagging: the keystroke did not rebuild it
    assert "b" in project.facts["app/jobs.py"].functions
    project.check_text("app/jobs.py", typed)  # a save
    assert project.project is not model and "b" in project.project.by_path["app/jobs.py"].functions


def test_excluded_files_follow_the_configuration(write_project):
    root = write_project(
        {"app/__init__.py": "", "legacy/old.py": "x = 1\n"},
        pyproject="[project]\nname = 'demo'\n[tool.bex]\nextend-exclude = ['legacy']\n",
    )
    project = WarmProject(root, use_cache=False)
    assert project.excluded(root / "legacy" / "old.py")
    assert project.excluded(root / "legacy" / "new.py")  # created after the model was built
    assert not project.excluded(root / "app" / "new.py")
    assert not project.excluded(root / "app" / "__init__.py")
