"""`bex advise`: the decision matrix as flags (or questions), with reasons, and where an
existing project departs from the recommendation."""

from __future__ import annotations

import os
from pathlib import Path

import click

from backend_expert.advise import PARAMETERS, SCENARIOS, departures, detect_parameters, recommend
from backend_expert.config import ConfigError


def _ask(
    choices: dict[str, str | None], scenario: str | None
) -> tuple[dict[str, str | None], str | None]:
    if scenario is None and not any(choices.values()):
        keys = [s.key for s in SCENARIOS]
        for number, item in enumerate(SCENARIOS, start=1):
            click.echo(f"  {number}. {item.title}", err=True)
        picked = click.prompt(
            "Which scenario fits best (number, or Enter to choose each parameter)",
            default="",
            show_default=False,
            err=True,
        )
        if picked.isdigit() and 1 <= int(picked) <= len(keys):
            return choices, keys[int(picked) - 1]
    for name, values in PARAMETERS.items():
        if not choices.get(name):
            answer = click.prompt(
                f"{name} ({'/'.join(values)}, Enter: recommended)",
                default="",
                show_default=False,
                err=True,
            )
            choices[name] = answer if answer in values else None
    return choices, scenario


def _existing(path: Path | None):
    """The project model of PATH when it holds Python code (None otherwise)."""
    target = Path(os.path.abspath(path or "."))
    if not target.is_dir() or not any(target.glob("**/*.py")):
        return None
    from backend_expert.architecture import architecture
    from backend_expert.engine import run

    result = run([target], use_cache=False)
    project = result.project
    return project, architecture(project)


def new_command(recommended: dict[str, tuple[str, str]]) -> str | None:
    """The `bex new` command line for a recommendation, when the scaffold supports it."""
    try:
        from backend_expert.scaffold import options
    except ImportError:  # pragma: no cover - a build without the scaffold
        return None
    value = {name: choice for name, (choice, _) in recommended.items()}
    supported = (
        value["framework"] in options.FRAMEWORKS
        and value["database"] in options.DATABASES
        and value["orm"] in options.ORMS
        and value["api_style"] in options.API_STYLES
        and value["testing_framework"] in options.TESTING
    )
    if not supported:
        return None
    mode = "--async" if value["async_support"] == "true" else "--no-async"
    return (
        f"bex new NAME --framework {value['framework']} {mode} --database {value['database']} "
        f"--orm {value['orm']} --api-style {value['api_style']}"
    )


def run_advise(
    path: Path | None, scenario: str | None, flags: dict[str, object], interactive: bool
) -> str:
    choices: dict[str, str | None] = {}
    for name, value in flags.items():
        if isinstance(value, bool):
            choices[name] = "true" if value else "false"
        else:
            choices[name] = value if isinstance(value, str) else None
    if interactive and scenario is None and not all(choices.get(n) for n in PARAMETERS):
        choices, scenario = _ask(choices, scenario)
    if path is not None and not Path(path).is_dir():
        raise ConfigError(f"{path}: not a directory")
    existing = _existing(path) if path is not None or not any(choices.values()) else None
    detected = detect_parameters(*existing) if existing is not None else None
    inherited = False
    if (
        detected
        and scenario is None
        and not choices.get("framework")
        and detected["framework"] in PARAMETERS["framework"]
    ):
        choices["framework"] = detected["framework"]  # advise within the project's framework
        inherited = True
    recommended = recommend(choices, scenario)
    if inherited:
        value, reason = recommended["framework"]
        recommended["framework"] = (
            value,
            reason.replace("(your choice)", "(what the project uses)"),
        )
    lines = ["# Recommended stack", ""]
    lines += [f"- **{name}**: {value}: {reason}" for name, (value, reason) in recommended.items()]
    if detected is not None:
        lines += ["", "# This project", ""]
        lines += [f"- **{name}**: {value}" for name, value in detected.items()]
        notes = departures(detected, recommended)
        lines += ["", "# Where it departs from the recommendation", ""]
        lines += [f"- {note}" for note in notes] or [
            "- Nowhere: the project follows the recommendation."
        ]
    command = new_command(recommended)
    if command and detected is None:
        lines += ["", f"Start it with: `{command}`"]
    lines += [
        "",
        "Decision matrix: "
        + "; ".join(
            f"{s.title} -> {s.choice['framework']}, async {s.choice['async_support']}, {s.choice['database']}"
            for s in SCENARIOS
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"
