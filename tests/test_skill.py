"""`bex skill`: the files follow the Agent Skills and agent-file formats, and every command
they tell an agent to run exists in this bex."""

from __future__ import annotations

import re
import shlex

import click
import pytest
from click.testing import CliRunner

from backend_expert.cli import main

yaml = pytest.importorskip("yaml")

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SKILL = ".claude/skills/bex-review/SKILL.md"
AGENT = ".claude/agents/bex-reviewer.md"


def _front_matter(text: str) -> tuple[dict, str]:
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


@pytest.fixture
def written(tmp_path):
    result = CliRunner().invoke(main, ["skill", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path


def test_skill_follows_the_agent_skills_format(written):
    meta, body = _front_matter((written / SKILL).read_text())
    assert set(meta) <= {
        "name",
        "description",
        "license",
        "compatibility",
        "metadata",
        "allowed-tools",
    }
    name = meta["name"]
    assert NAME.match(name) and len(name) <= 64
    assert name == (written / SKILL).parent.name  # the name is the folder's
    assert 0 < len(meta["description"]) <= 1024
    assert "Use it" in meta["description"]  # says when, not only what
    assert isinstance(meta["allowed-tools"], str)
    assert len(body.splitlines()) < 500


def test_agent_file_has_the_required_fields(written):
    meta, body = _front_matter((written / AGENT).read_text())
    assert {"name", "description", "tools"} <= set(meta)
    assert NAME.match(meta["name"]) and meta["name"] == "bex-reviewer"
    assert meta["tools"].split(", ")[0] == "Bash"
    assert "bex check" in body


def _options(command: click.Command) -> set[str]:
    """Every option the command accepts, --help included."""
    params = command.get_params(click.Context(command))
    return {opt for param in params for opt in getattr(param, "opts", ())}


def _commands(text: str) -> list[list[str]]:
    spans = re.findall(r"`(bex [^`]*)`", text)
    return [shlex.split(span) for span in spans]


@pytest.mark.parametrize("path", [SKILL, AGENT])
def test_every_command_mentioned_exists(written, path):
    text = (written / path).read_text()
    commands = _commands(text)
    assert commands
    for words in commands:
        command = main.commands.get(words[1])
        assert isinstance(command, click.Command), words
        options = _options(command)
        for word in words[2:]:
            if word.startswith("--"):
                assert word in options, (words, word)
    check_options = _options(main.commands["check"])
    for option in re.findall(r"`(--[a-z-]+)`", text):
        assert option in check_options, option


def test_skill_does_not_overwrite_without_force(written):
    again = CliRunner().invoke(main, ["skill", "--dir", str(written)])
    assert again.exit_code == 2 and "--force" in again.output
    forced = CliRunner().invoke(main, ["skill", "--dir", str(written), "--force"])
    assert forced.exit_code == 0


def test_skill_leaves_out_options_this_bex_lacks(monkeypatch):
    from backend_expert import skill

    stripped = click.Group(commands={"check": click.Command("check", params=[])})
    text = skill.skill_text(stripped)
    assert "--fix" not in text and "--diff" not in text and "no automatic fixes" in text


def test_skill_speaks_of_the_baseline_when_bex_has_one():
    from backend_expert import skill

    check = click.Command(
        "check",
        params=[
            click.Option(["--baseline"]),
            click.Option(["--no-baseline"], is_flag=True),
            click.Option(["--fix"], is_flag=True),
        ],
    )
    baseline = click.Command("baseline", params=[click.Option(["--update"], is_flag=True)])
    text = skill.skill_text(click.Group(commands={"check": check, "baseline": baseline}))
    assert (
        "`bex baseline` records them once (`bex baseline --update` only drops fixed ones)" in text
    )
    assert "`bex check --no-baseline` shows every finding again." in text
    assert "See `bex check --help` for `--baseline`." in text
