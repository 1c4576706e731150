"""Render a template into a new directory with copier, refusing anything that would clobber."""

from __future__ import annotations

from pathlib import Path

from backend_expert.scaffold.options import Choices, problems
from backend_expert.scaffold.source import versioned

ANSWERS_FILE = ".copier-answers.yml"


class ScaffoldError(Exception):
    """A reason not to generate; nothing has been written when it is raised."""


def _copier():
    try:
        import copier
    except ImportError as error:  # the `new` extra is not installed
        raise ScaffoldError("`bex new` needs copier: pip install 'backend-expert[new]'") from error
    return copier


def generate(choices: Choices, target: Path, *, quiet: bool = True) -> Path:
    """Write the project for `choices` into `target` (which must not exist or be empty)."""
    found = problems(choices)
    if found:
        raise ScaffoldError("; ".join(found))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ScaffoldError(f"{target} already exists and is not empty; choose a new directory")
    copier = _copier()
    source, tag = versioned(choices.framework)
    try:
        copier.run_copy(
            source,
            target,
            data=choices.answers(),
            vcs_ref=tag,
            defaults=True,
            quiet=quiet,
            unsafe=False,
        )
    except Exception as error:  # copier raises many types; none may escape as a traceback
        raise ScaffoldError(
            f"copier could not render the {choices.framework} template: {error}"
        ) from error
    return target


def update(target: Path, *, quiet: bool = True) -> None:
    """Move a generated project to this bex version's template (copier's three-way merge)."""
    answers = target / ANSWERS_FILE
    if not answers.is_file():
        raise ScaffoldError(f"{answers} not found: only projects made by `bex new` can be updated")
    copier = _copier()
    framework = _framework_of(answers.read_text(encoding="utf-8"))
    _, tag = versioned(framework)
    if tag is None:
        raise ScaffoldError("updating needs git on PATH (copier updates from a git repository)")
    try:
        copier.run_update(
            target, vcs_ref=tag, defaults=True, overwrite=True, quiet=quiet, unsafe=False
        )
    except Exception as error:
        raise ScaffoldError(f"copier could not update {target}: {error}") from error


def _framework_of(answers: str) -> str:
    for line in answers.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "framework":
            return value.strip().strip("'\"")
    raise ScaffoldError(f"{ANSWERS_FILE} does not say which framework the project uses")
