"""Configuration: precedence like ruff, and clear errors (exit 2) for anything wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend_expert.config import (
    Config,
    ConfigError,
    Selection,
    load_config,
    resolve_selection,
    validate_selector,
)
from backend_expert.findings import Severity
from backend_expert.rules import rule_by_id


def codes(layers):
    return {rule.code for rule in resolve_selection(layers)}


def test_everything_is_selected_by_default():
    assert codes([]) >= {"BEX001", "BEX101"}


def test_select_resets_and_ignore_wins_a_tie():
    assert codes([Selection(select=("fastapi",))]) == {
        r.code for r in resolve_selection([]) if r.pack == "fastapi"
    }
    assert "BEX101" not in codes([Selection(select=("fastapi",), ignore=("fastapi",))])


def test_a_more_specific_select_beats_a_broader_ignore():
    selected = codes(
        [Selection(select=("ALL",), ignore=("fastapi",), extend_select=("fastapi-on-event",))]
    )
    assert "BEX101" in selected
    assert not any(code.startswith("BEX1") and code != "BEX101" for code in selected)


def test_later_layers_extend_or_override_earlier_ones():
    file_layer = Selection(ignore=("BEX101",))
    assert "BEX101" not in codes([file_layer])
    assert "BEX101" in codes([file_layer, Selection(extend_select=("BEX101",))])
    assert codes([file_layer, Selection(select=("BEX001",))]) == {"BEX001"}


def test_code_prefixes_slugs_and_packs_select_the_same_rule():
    for selector in ("BEX1", "BEX101", "fastapi-on-event", "fastapi", "bex101"):
        canonical = validate_selector(selector, "test")
        assert "BEX101" in codes([Selection(select=(canonical,))]), selector


def write(tmp_path: Path, text: str, name: str = "pyproject.toml") -> Path:
    (tmp_path / name).write_text(text)
    return tmp_path


def test_pyproject_table_is_read(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[tool.bex]\nselect = ["fastapi"]\nignore = ["BEX101"]\nextend-exclude = ["legacy"]\n'
            'target-version = "py312"\nmin-confidence = "medium"\nper-file-ignores = {"tests/*" = ["security"]}\n'
            '[tool.bex.severity]\nfastapi-on-event = "error"\n',
        )
    )
    assert "BEX101" not in {r.code for r in config.enabled_rules()}
    assert config.extend_exclude == ("legacy",)
    assert config.target_version == "py312"
    assert config.per_file_ignores == {"tests/*": ("security",)}
    assert config.severity_of(rule_by_id("BEX101")) is Severity.ERROR


def test_bex_toml_takes_precedence_over_pyproject(tmp_path):
    write(tmp_path, '[tool.bex]\nselect = ["fastapi"]\n')
    write(tmp_path, 'select = ["core"]\n', "bex.toml")
    config = load_config(tmp_path)
    assert config.source.name == "bex.toml"
    assert {r.pack for r in config.enabled_rules()} == {"core"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tool.bex]\nselct = ["fastapi"]\n', "unknown option `selct`. Did you mean `select`?"),
        ('[tool.bex]\nselect = ["fastapi-on-evnt"]\n', "Unknown rule selector 'fastapi-on-evnt'"),
        ('[tool.bex]\nselect = "BEX101"\nignore = [1]\n', "`ignore` must be a list of strings"),
        ('[tool.bex]\ntarget-version = "py27"\n', "`target-version` must be one of py310"),
        ("[tool.bex]\nmax-file-size-kb = -1\n", "`max-file-size-kb` must be a positive integer"),
        ('[tool.bex.severity]\nBEX101 = "fatal"\n', "must be one of error, warning, info"),
        ("[tool.bex\n", "invalid TOML"),
    ],
)
def test_bad_configuration_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=None) as error:
        load_config(write(tmp_path, text))
    assert message in str(error.value)
    assert "pyproject.toml" in str(error.value)


def test_no_config_file_means_defaults(tmp_path):
    config = load_config(tmp_path)
    assert isinstance(config, Config) and config.source is None
