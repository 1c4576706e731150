"""Where copier reads a template from: a git repository that bex keeps in its cache.

copier can only *update* a project (three-way merge of the template's old and new versions)
when the template is a git repository with version tags. The templates ship inside the bex
package as plain files, so bex mirrors each into `<cache>/templates/<framework>` and commits
and tags it as `v<bex version>` the first time a version is used. The project's
`.copier-answers.yml` records that path and tag: after upgrading bex, `bex new --update`
(or `copier update`) moves the project to the new template version. Without git, copier
renders straight from the package (no updates).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from backend_expert import __version__

TEMPLATES = Path(__file__).parent / "templates"
GIT_IDENTITY = (
    "-c",
    "user.name=bex",
    "-c",
    "user.email=bex@localhost",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
)


def cache_root() -> Path:
    if os.environ.get("BEX_CACHE_DIR"):
        return Path(os.environ["BEX_CACHE_DIR"]) / "templates"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bex" / "templates"


def packaged(framework: str) -> Path:
    return TEMPLATES / framework


def versioned(framework: str, version: str = __version__) -> tuple[str, str | None]:
    """(copier source path, tag) for a framework's template; tag None when git is missing."""
    if shutil.which("git") is None:
        return str(packaged(framework)), None
    repo = cache_root() / framework
    tag = f"v{version}"
    try:
        _sync(repo, packaged(framework), tag)
    except (OSError, subprocess.CalledProcessError):
        return str(packaged(framework)), None
    return str(repo), tag


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_IDENTITY, *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    return done.stdout.strip()


def _sync(repo: Path, source: Path, tag: str) -> None:
    """Make `repo` hold `source` at `tag`; an existing tag is never moved."""
    if not (repo / ".git").is_dir():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "-q")
    if tag in _git(repo, "tag", "--list", tag).split():
        return
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(source, repo, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "add", "-A")
    if _git(repo, "status", "--porcelain"):
        _git(repo, "commit", "-q", "-m", f"bex {tag}")
    _git(repo, "tag", tag)
