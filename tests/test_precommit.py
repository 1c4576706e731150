"""The pre-commit hooks, run by real pre-commit against this repository as the hook source."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BAD = 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s():\n    pass\n'
GOOD = "from fastapi import FastAPI\napp = FastAPI()\n"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bex tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "bex tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def test_hooks_file_declares_both_hooks():
    yaml = pytest.importorskip("yaml")
    hooks = {
        hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    }
    assert set(hooks) == {"bex", "bex-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["require_serial"] is True
        assert hook["types_or"] == ["python", "pyi"]
        assert hook["entry"].startswith("bex check")
    assert "--fix" in hooks["bex-fix"]["entry"].split()


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _snapshot_of_this_repository(into: Path) -> str:
    """A git repository holding the working tree as it is now (uncommitted edits too)."""
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO)
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git("init", "-q", cwd=into)
    _git("add", "-A", cwd=into)
    _git("commit", "-q", "-m", "snapshot", cwd=into)
    return _git("rev-parse", "HEAD", cwd=into)


def _has_fix_option() -> bool:
    from click.testing import CliRunner

    from backend_expert.cli import main

    return "--fix" in CliRunner().invoke(main, ["check", "--help"]).output


def _project_with_hook(tmp_path: Path, hook: str, text: str) -> Path:
    source = tmp_path / "bex-source"
    source.mkdir()
    rev = _snapshot_of_this_repository(source)
    project = tmp_path / "project"
    (project / "svc").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n"
    )
    (project / "svc" / "main.py").write_text(text)
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    return project


def _pre_commit(project: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_pre_commit_runs_the_bex_hook(tmp_path):
    pytest.importorskip("pre_commit")
    project = _project_with_hook(tmp_path, "bex", BAD)
    failed = _pre_commit(project, tmp_path / "cache")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "BEX101" in failed.stdout and "svc/main.py" in failed.stdout
    (project / "svc" / "main.py").write_text(GOOD)
    _git("add", "-A", cwd=project)
    passed = _pre_commit(project, tmp_path / "cache")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout


@pytest.mark.slow
def test_pre_commit_bex_fix_hook_fixes_the_file(tmp_path):
    pytest.importorskip("pre_commit")
    if not _has_fix_option():
        pytest.skip("`bex check --fix` is not part of this build")
    fixable = GOOD + "x = 1  # bex: ignore[fastapi-on-event]\n"  # BEX004, with a safe fix
    project = _project_with_hook(tmp_path, "bex-fix", fixable)
    first = _pre_commit(project, tmp_path / "cache")
    assert first.returncode == 1, first.stdout + first.stderr  # files were modified
    assert (project / "svc" / "main.py").read_text() == GOOD + "x = 1\n"
    _git("add", "-A", cwd=project)
    second = _pre_commit(project, tmp_path / "cache")
    assert second.returncode == 0, second.stdout + second.stderr


def test_force_exclude_applies_the_configuration_to_named_files(write_project):
    from click.testing import CliRunner

    from backend_expert.cli import main

    root = write_project(
        {"legacy/old.py": BAD, "svc/main.py": BAD},
        pyproject="[project]\nname = 'demo'\n[tool.bex]\nextend-exclude = ['legacy']\n",
    )

    def check(*args: str) -> int:
        return CliRunner().invoke(main, ["check", "--no-cache", "-q", *args]).exit_code

    assert check(str(root / "legacy" / "old.py")) == 1  # named explicitly: checked
    assert check("--force-exclude", str(root / "legacy" / "old.py")) == 0
    assert (
        check("--force-exclude", str(root / "legacy" / "old.py"), str(root / "svc" / "main.py"))
        == 1
    )
