"""`bex new`: generated projects are complete, pass bex and ruff, and refuse bad input."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from backend_expert.cli import main
from backend_expert.config import load_config
from backend_expert.engine import run
from backend_expert.scaffold import source
from backend_expert.scaffold.generate import generate, update
from backend_expert.scaffold.options import Choices

copier = pytest.importorskip("copier")

VARIANTS = [
    Choices("shop-api"),  # the decision matrix's default: fastapi, async, postgresql
    Choices("shop-api", use_async=False, database="sqlite"),
    Choices("shop-api", database="mysql"),
    Choices("shop-site", framework="django", use_async=False, orm="django-orm"),
    Choices("shop-site", framework="django", use_async=False, orm="django-orm", database="sqlite"),
    Choices("shop-app", framework="flask", use_async=False, database="sqlite"),
    Choices("shop-app", framework="flask", use_async=False, database="postgresql"),
]


@pytest.fixture(autouse=True)
def template_cache(tmp_path_factory, monkeypatch):
    """Keep the versioned template repositories out of the user's cache."""
    monkeypatch.setenv("BEX_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "bex-cache"))


def _new(runner: CliRunner, *args: str):
    return runner.invoke(main, ["new", *args], catch_exceptions=False)


@pytest.mark.parametrize("choices", VARIANTS, ids=lambda c: c.summary().replace(" ", ""))
def test_generated_project_passes_bex_and_ruff(choices: Choices, tmp_path: Path) -> None:
    target = generate(choices, tmp_path / choices.name)
    files = {path.relative_to(target).as_posix() for path in target.rglob("*") if path.is_file()}
    for expected in ("pyproject.toml", "README.md", "Dockerfile", ".github/workflows/ci.yml",
                     ".copier-answers.yml", ".gitignore"):
        assert expected in files
    assert any(name.startswith("tests/test_") for name in files)
    assert not [name for name in files if name.endswith(".jinja")]
    assert 'requires-python = ">=3.11"' in (target / "pyproject.toml").read_text()

    result = run([target], load_config(target), use_cache=False, jobs=1)
    assert [f"{f.path}:{f.line} {f.code} {f.message}" for f in result.findings] == []

    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=target, capture_output=True, text=True, check=False,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr


def test_answers_file_records_the_choices(tmp_path: Path) -> None:
    result = _new(CliRunner(), "orders", "--framework", "flask", "-d", str(tmp_path / "orders"))
    assert result.exit_code == 0, result.output
    answers = (tmp_path / "orders" / ".copier-answers.yml").read_text()
    for line in ("framework: flask", "database: sqlite", "use_async: false", "package: orders"):
        assert line in answers
    assert "_commit: v" in answers  # a versioned template: `copier update` can work


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad Name"], "not a usable project name"),
        (["class"], "not a usable project name"),
        (["svc", "--framework", "django", "--orm", "sqlalchemy"], "Django ORM"),
        (["svc", "--framework", "flask", "--orm", "django-orm"], "use --orm sqlalchemy"),
        (["svc", "--framework", "flask", "--async"], "--no-async"),
        (["svc", "--framework", "django", "--async"], "--no-async"),
        (["svc", "--api-style", "graphql"], "graphql is not scaffolded yet"),
        (["svc", "--orm", "none"], "--orm none is not scaffolded yet"),
    ],
)
def test_impossible_choices_write_nothing(args, message, tmp_path: Path) -> None:
    os.chdir(tmp_path)
    result = CliRunner().invoke(main, ["new", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["new", "taken", "-d", str(target)])
    assert result.exit_code == 2
    assert "already exists and is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_missing_copier_is_explained(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "copier", None)
    result = CliRunner().invoke(main, ["new", "svc", "-d", str(tmp_path / "svc")])
    assert result.exit_code == 2
    assert "pip install 'backend-expert[new]'" in result.output
    assert not (tmp_path / "svc").exists()


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd, check=True, capture_output=True,
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="copier updates need git")
def test_update_merges_a_new_template_version_and_keeps_local_edits(tmp_path: Path) -> None:
    project = generate(Choices("svc", framework="flask", use_async=False, database="sqlite"),
                       tmp_path / "svc")
    services = project / "src" / "svc" / "services.py"
    services.write_text(services.read_text() + "\n\ndef local_helper() -> int:\n    return 1\n")
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "generated")

    # Same version: nothing to do, and it says so without error.
    update(project)

    # A newer bex ships a changed template: copier merges it into the project.
    newer = tmp_path / "template-v2"
    shutil.copytree(source.packaged("flask"), newer)
    readme = newer / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line added by the next template version.\n")
    repo, _ = source.versioned("flask")
    source._sync(Path(repo), newer, "v99.0.0")
    copier.run_update(project, vcs_ref="v99.0.0", defaults=True, overwrite=True, quiet=True)

    assert "A line added by the next template version." in (project / "README.md").read_text()
    assert "def local_helper" in services.read_text()
    assert "_commit: v99.0.0" in (project / ".copier-answers.yml").read_text()


@pytest.mark.slow
@pytest.mark.parametrize(
    "choices",
    [
        Choices("svc-fastapi"),
        Choices("svc-fastapi-sync", use_async=False, database="sqlite"),
        Choices("svc-django", framework="django", use_async=False, orm="django-orm"),
        Choices("svc-flask", framework="flask", use_async=False, database="sqlite"),
    ],
    ids=lambda c: c.name,
)
def test_generated_project_installs_and_its_tests_pass(choices: Choices, tmp_path: Path) -> None:
    """The promise: a fresh virtual environment, the project's own tests, green (SQLite)."""
    target = generate(choices, tmp_path / choices.name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-e", ".[test]"],
        cwd=target, capture_output=True, text=True, check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    tests = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=target, capture_output=True, text=True, check=False,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout


def test_prompts_ask_only_what_is_missing_with_the_matrix_defaults() -> None:
    from backend_expert.scaffold.prompt import ask_missing

    # framework: accept the default; async: no; database: mysql; orm: default; api: default
    with CliRunner().isolation(input="\nn\nmysql\n\n\n") as streams:
        choices = ask_missing("svc", interactive=True)
    assert choices == Choices("svc", "fastapi", False, "mysql", "sqlalchemy", "rest", "pytest")
    assert b"framework" in streams[0].getvalue()

    with CliRunner().isolation(input="") as streams:
        given = ask_missing("svc", interactive=True, framework="django", use_async=False,
                            database="sqlite", orm="django-orm", api_style="rest")
    assert given.database == "sqlite"
    assert streams[0].getvalue() == b""  # nothing left to ask


def test_without_a_terminal_the_decision_matrix_decides() -> None:
    from backend_expert.scaffold.prompt import ask_missing

    assert ask_missing("svc", interactive=False, framework="django").database == "postgresql"
    assert ask_missing("svc", interactive=False, framework="flask").database == "sqlite"
    assert ask_missing("svc", interactive=False).use_async is True
