"""Every rule's examples are executable: `fire` examples are flagged exactly on the lines
marked `# flagged`, `clean` examples (near misses) are not flagged at all."""

from __future__ import annotations

import re

import pytest
from conftest import check_example

from backend_expert.rules import all_rules

FIRE = [(rule, example) for rule in all_rules() for example in rule.fire]
CLEAN = [(rule, example) for rule in all_rules() for example in rule.clean]


def _id(case) -> str:
    rule, example = case
    return f"{rule.slug}:{example.title or 'example'}"


@pytest.mark.parametrize("case", FIRE, ids=map(_id, FIRE))
def test_fire_examples_are_flagged_on_marked_lines(case):
    rule, example = case
    result = check_example(rule, example)
    internal = [f for f in result.findings if f.slug == "internal-error"]
    assert not internal, internal
    got = {(f.path, f.line) for f in result.findings if f.code == rule.code}
    assert got == example.expected_lines()


@pytest.mark.parametrize("case", CLEAN, ids=map(_id, CLEAN))
def test_clean_examples_are_not_flagged(case):
    rule, example = case
    result = check_example(rule, example)
    unexpected = [f for f in result.findings if f.code == rule.code or f.slug == "internal-error"]
    assert not unexpected, unexpected


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.slug)
def test_rule_metadata_is_complete(rule):
    assert re.fullmatch(r"BEX\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.slug)
    assert rule.summary and not rule.summary.endswith(".")
    assert rule.explanation.what and rule.explanation.why
    if rule.pack != "core":
        assert rule.fire, "every rule needs code that must fire"
        assert rule.clean, "every rule needs near misses that must not fire"
        assert rule.hint, "every rule tells what to do instead"
    if rule.pack == "security":
        assert rule.cwe and rule.security_severity


def test_codes_do_not_collide_with_ruff():
    # ruff's codes are a prefix of capital letters followed by digits (E501, ASYNC110, FAST001).
    # Ours all start with BEX, which no ruff linter prefix is or begins with.
    ruff_prefixes = {
        "A",
        "ANN",
        "ARG",
        "ASYNC",
        "B",
        "BLE",
        "C4",
        "C90",
        "COM",
        "CPY",
        "D",
        "DJ",
        "DOC",
        "DTZ",
        "E",
        "EM",
        "ERA",
        "EXE",
        "F",
        "FA",
        "FAST",
        "FBT",
        "FIX",
        "FLY",
        "FURB",
        "G",
        "I",
        "ICN",
        "INP",
        "INT",
        "ISC",
        "LOG",
        "N",
        "NPY",
        "PD",
        "PERF",
        "PGH",
        "PIE",
        "PL",
        "PT",
        "PTH",
        "PYI",
        "Q",
        "RET",
        "RSE",
        "RUF",
        "S",
        "SIM",
        "SLF",
        "SLOT",
        "T10",
        "T20",
        "TC",
        "TD",
        "TID",
        "TRY",
        "UP",
        "W",
        "YTT",
        "AIR",
    }
    for rule in all_rules():
        prefix = re.match(r"[A-Z]+", rule.code).group()
        assert prefix == "BEX" and prefix not in ruff_prefixes
