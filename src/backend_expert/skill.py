"""`bex skill`: teach a coding agent to use bex (an Agent Skill and a reviewer subagent).

The files follow the Agent Skills format (`SKILL.md` with YAML front matter: a
lowercase hyphenated `name` equal to its folder, a `description` of what and
when) and Claude Code's agent files. They are written from the command line bex
actually has: an option this build lacks (say `--fix` or a baseline) is not
mentioned, so an agent is never told to run a command that fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from backend_expert.config import ConfigError

NAME = "bex-review"
AGENT = "bex-reviewer"
DESCRIPTION = (
    "Review Python backend code (Django, DRF, FastAPI, Flask, SQLAlchemy 2.0, Pydantic v2, "
    "asyncio) with bex, a static reviewer that models the whole project. Use it before and "
    "after editing Python web or backend code, when asked to review such code, and when "
    "hunting N+1 queries, blocking calls in async code, SQL injection, unsafe settings or "
    "deprecated framework APIs. bex reports findings with rule codes, explains each rule "
    "and applies the fixes it is sure of."
)
AGENT_DESCRIPTION = (
    "Reviews changed Python backend code with bex and reports the findings that matter, "
    "with the rule explanation and a proposed fix. Use proactively after editing Django, "
    "FastAPI, Flask, SQLAlchemy, Pydantic or asyncio code."
)


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", ())}


def _capabilities(cli: click.Group) -> dict[str, object]:
    check = cli.commands["check"]
    options = _options(check)
    baseline = sorted(opt for opt in options if "baseline" in opt)
    return {
        "fix": "--fix" in options,
        "diff": "--diff" in options,
        "unsafe": "--unsafe-fixes" in options,
        "baseline": baseline,
        "mcp": "mcp" in cli.commands,
    }


def _fix_section(caps: dict[str, object]) -> list[str]:
    lines = ["## Fixes", ""]
    if caps["diff"]:
        lines.append("- `bex check PATH --diff` shows the fixes bex would make, as a diff.")
    if caps["fix"]:
        lines.append(
            "- `bex check PATH --fix` applies the safe fixes (they never change behaviour); "
            "re-run your tests afterwards."
        )
    if caps["unsafe"] and caps["fix"]:
        lines.append(
            "- `--unsafe-fixes` also applies fixes that may change behaviour: only when the "
            "user agrees, and read the diff first."
        )
    if not caps["fix"]:
        lines.append("- This bex has no automatic fixes: apply the rule's advice by hand.")
    return [*lines, ""]


def _baseline_section(cli: click.Group, caps: dict[str, object]) -> list[str]:
    """Baselines, in the words of the commands and options this bex has."""
    options = caps["baseline"]
    command = cli.commands.get("baseline")
    if command is None and not options:
        return []
    lines = ["## Existing findings", ""]
    if command is not None:
        update = (
            " (`bex baseline --update` only drops fixed ones)"
            if "--update" in _options(command)
            else ""
        )
        lines.append(
            "In a project with many old findings, `bex baseline` records them once"
            f"{update}; `bex check` then reports only new ones."
        )
    if "--no-baseline" in options:  # type: ignore[operator]
        lines.append("`bex check --no-baseline` shows every finding again.")
    others = [opt for opt in options if opt != "--no-baseline"]  # type: ignore[union-attr]
    if others:
        listed = ", ".join(f"`{opt}`" for opt in others)
        lines.append(f"See `bex check --help` for {listed}.")
    lines += [
        "Never add findings you introduced to the baseline: fix them, or silence one with a "
        "reason.",
        "",
    ]
    return lines


def skill_text(cli: click.Group) -> str:
    caps = _capabilities(cli)
    lines = [
        "---",
        f"name: {NAME}",
        f"description: {json.dumps(DESCRIPTION)}",
        "allowed-tools: Bash(bex:*) Read Grep Glob",
        "---",
        "",
        "# Reviewing Python backend code with bex",
        "",
        "bex knows the frameworks and reads the whole project (models, settings, routes), so "
        "its findings are about this codebase, not about one line in isolation.",
        "",
        "## When",
        "",
        "1. Before editing: `bex check PATH --output-format concise` on the files you will touch, "
        "so you know which findings were already there.",
        "2. After editing: run it again. Any new finding is yours to fix or to justify.",
        "3. Before saying a change is done: `bex check` on the project (or the package you "
        "changed) exits 0 when nothing is found, 1 when something is.",
        "",
        "## Reading findings",
        "",
        "A concise line reads `path:line:column: CODE [slug] message`. The severity says how "
        "bad it is (`error`: a bug or vulnerability; `warning`: likely harm; `info`: "
        "guidance); `--output-format json` adds `confidence` and the fix, if any.",
        "",
        "- When a finding is not obvious, run `bex explain CODE` (for example "
        "`bex explain BEX601`): what the rule flags, why it matters, what to write instead, "
        "and the near-misses it deliberately leaves alone.",
        "- `bex rules` lists every rule; `bex check PATH --select fastapi` limits a run to one "
        "pack or rule.",
        "- A finding you judge wrong for a good reason can be silenced on its line with "
        "`# bex: ignore[slug] -- reason`. Say why; never silence to get a clean run.",
        "",
        *_fix_section(caps),
        *_baseline_section(cli, caps),
    ]
    if caps["mcp"]:
        lines += [
            "## Through MCP",
            "",
            "When the `bex` MCP server is connected (`bex mcp`), prefer its tools: `check` "
            "(inline `content` with a `filename`, or `paths`), `explain_rule`, `list_rules`, "
            "`propose_fixes` (a diff; it writes only with `write: true`) and "
            "`review_project`.",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def agent_text(cli: click.Group) -> str:
    caps = _capabilities(cli)
    fix = (
        "Show the diff of `bex check PATH --diff` for findings bex can fix."
        if caps["diff"]
        else "Propose the change the rule's explanation recommends."
    )
    return "\n".join(
        [
            "---",
            f"name: {AGENT}",
            f"description: {json.dumps(AGENT_DESCRIPTION)}",
            "tools: Bash, Read, Grep, Glob",
            "model: inherit",
            "---",
            "",
            "You review Python backend changes with bex.",
            "",
            "1. Find the changed Python files (`git diff --name-only` and untracked files).",
            "2. Run `bex check --output-format concise` on them.",
            "3. For each finding, read the code around it and `bex explain CODE`; drop a finding "
            "only when you can say why it does not apply here.",
            f"4. {fix}",
            "5. Report: the findings that matter, most severe first, each with its code, place, "
            "why it matters in this code, and the fix. Say plainly when bex found nothing.",
            "",
            "Do not edit files yourself: the main agent decides what to change.",
            "",
        ]
    )


def write_skill(directory: Path, cli: click.Group, *, force: bool = False) -> list[Path]:
    """Write the skill and the agent file under `directory`; refuse to overwrite without force."""
    targets = {
        directory / ".claude" / "skills" / NAME / "SKILL.md": skill_text(cli),
        directory / ".claude" / "agents" / f"{AGENT}.md": agent_text(cli),
    }
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        verb = "exists" if len(existing) == 1 else "exist"
        raise ConfigError(f"{names} already {verb}; pass --force to replace them")
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(targets)
