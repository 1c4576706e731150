"""Every rule's fixes, through the real engine: the `fixed` code of each `fire` example is
what `--fix --unsafe-fixes` produces, a second run changes nothing, and clean examples
are left untouched.

`fixed` is either the whole fixed file or an excerpt of it (a run of whole lines, so
the docs can show just the function that changed); `# flagged` markers are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.discover import _add_requirement
from backend_expert.findings import Applicability
from backend_expert.fixes import fix_sources
from backend_expert.parse import parse_text
from backend_expert.rules import Example, Rule, all_rules

MARKER = re.compile(r"[ \t]*# flagged[ \t]*$", re.MULTILINE)

FIXABLE = [
    rule
    for rule in all_rules()
    if rule.fix_applicability in (Applicability.SAFE, Applicability.UNSAFE)
]
FIRE = [(rule, example) for rule in FIXABLE for example in rule.fire]
WITH_FIXED = [(rule, example) for rule, example in FIRE if example.fixed]
CLEAN = [(rule, example) for rule in FIXABLE for example in rule.clean]


def _id(case) -> str:
    rule, example = case
    return f"{rule.slug}:{example.title or 'example'}"


def fix_example(rule: Rule, example: Example, sources: dict[str, str] | None = None):
    config = Config(root=Path("."), layers=[Selection(select=(rule.code, "core"))])
    dependencies: dict[str, str] = {}
    for line in example.dependencies:
        _add_requirement(line, dependencies)
    # `# flagged` markers annotate the example; they are not comments of the user's code
    sources = sources or {path: unmarked(text) for path, text in example.sources().items()}
    return fix_sources(sources, config, dependencies, unsafe=True)


def unmarked(text: str) -> str:
    return MARKER.sub("", text)


def is_excerpt(part: str, whole: str) -> bool:
    """`part` is `whole`, or a run of whole lines of it."""
    if part == whole:
        return True
    return ("\n" + part) in ("\n" + whole) and part.endswith("\n")


def test_some_rules_have_fixes():
    assert len(FIXABLE) >= 3 and WITH_FIXED


@pytest.mark.parametrize("case", FIRE, ids=map(_id, FIRE))
def test_fixes_apply_cleanly_and_once(case):
    rule, example = case
    outcomes = fix_example(rule, example)
    assert not [f for o in outcomes.values() for f in o.failed], "a fix failed verification"
    fixed = {path: o.text for path, o in outcomes.items()}
    for path, text in fixed.items():
        assert parse_text(path, text).syntax_error is None
    again = fix_example(rule, example, fixed)
    assert {path: o.text for path, o in again.items()} == fixed, "fixing twice changed more"


@pytest.mark.parametrize("case", WITH_FIXED, ids=map(_id, WITH_FIXED))
def test_fixed_example_is_what_the_fix_produces(case):
    rule, example = case
    outcomes = fix_example(rule, example)
    changed = [unmarked(o.text) for o in outcomes.values() if o.changed]
    assert changed, "nothing was fixed"
    expected = unmarked(example.fixed)
    assert any(is_excerpt(expected, text) for text in changed), (
        f"`fixed` is not what the fix produces; the fix gave:\n{changed[0]}"
    )


@pytest.mark.parametrize("case", CLEAN, ids=map(_id, CLEAN))
def test_clean_examples_are_not_changed(case):
    rule, example = case
    outcomes = fix_example(rule, example)
    assert not [path for path, o in outcomes.items() if o.changed]
