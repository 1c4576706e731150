"""The fixes of the FastAPI and Pydantic rules: applying every fix of an example gives code that
parses and reads like the example's `fixed` text; edits of one fix never overlap."""

from __future__ import annotations

import ast
import itertools

import pytest
from conftest import check_example
from test_rule_fixes import fix_example

from backend_expert.findings import Finding
from backend_expert.fixes import apply_edits
from backend_expert.rules import all_rules

PACKS = ("fastapi", "pydantic")
CASES = [
    (rule, example)
    for rule in all_rules()
    if rule.pack in PACKS and rule.fix_applicability is not None
    for example in rule.fire
    if example.fixed
]


def apply(text: str, findings: list[Finding]) -> str:
    """Apply all edits of the findings; identical edits (same import) count once."""
    return apply_edits(text, {edit for f in findings if f.fix for edit in f.fix.edits})


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].slug}:{c[1].title}")
def test_fixes_give_the_fixed_example(case):
    rule, example = case
    result = check_example(rule, example)
    findings = [f for f in result.findings if f.code == rule.code]
    assert any(f.fix for f in findings)
    for finding in findings:
        if finding.fix is None:
            continue
        assert finding.fix.applicability.value == rule.fix_applicability.value
        spans = sorted((e.line, e.column, e.end_line, e.end_column) for e in finding.fix.edits)
        for first, second in itertools.pairwise(spans):
            assert (first[2], first[3]) <= (second[0], second[1]), "overlapping edits"
    path = next(iter(example.sources()))
    fixed = fix_example(rule, example)[path].text  # in rounds, as `bex check --fix` does
    ast.parse(fixed)
    got = [line.replace("  # flagged", "").rstrip() for line in fixed.splitlines() if line.strip()]
    for line in example.fixed.splitlines():
        if line.strip():
            assert line.rstrip() in got, f"{line!r} not in:\n{fixed}"
