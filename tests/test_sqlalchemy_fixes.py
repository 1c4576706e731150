"""The fixes of the SQLAlchemy rules: applied to each `fire` example, they give `fixed`."""

from __future__ import annotations

import ast
from dataclasses import replace

import pytest
from conftest import check_example

from backend_expert.findings import Edit
from backend_expert.rules import all_rules


def apply(text: str, edits: list[Edit]) -> str:
    """Apply edits (1-based lines and character columns, end exclusive); identical edits
    proposed by several findings (the same import) are applied once."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    spans = sorted(
        {(offset(e.line, e.column), offset(e.end_line, e.end_column), e.content) for e in edits},
        reverse=True,
    )
    for (start, end, _), (next_start, next_end, _) in zip(spans[1:], spans, strict=False):
        assert end <= next_start or (start == end == next_start == next_end), "overlapping edits"
    for start, end, content in spans:
        text = text[:start] + content + text[end:]
    return text


CASES = [
    (rule, example)
    for rule in all_rules()
    if rule.pack == "sqlalchemy"
    for example in rule.fire
    if example.fixed and rule.fix_applicability is not None
]


def _conflict(a: tuple, b: tuple) -> bool:
    if a == b:
        return False
    return a[0] == b[0] or (a[0] < b[1] and b[0] < a[1])


def fix_all(rule, example) -> str:
    """Rounds as `bex check --fix` runs them: every fix that does not conflict with one
    already taken (identical edits are one), then check the new text again."""
    text = example.code
    for _ in range(10):
        result = check_example(rule, replace(example, code=text))
        fixes = [f.fix for f in result.findings if f.code == rule.code and f.fix]
        if not fixes:
            return text
        taken: list[Edit] = []
        for fix in fixes:
            spans = [_span(text, e) for e in fix.edits]
            if all(not _conflict(s, _span(text, t)) for s in spans for t in taken):
                taken.extend(fix.edits)
        text = apply(text, taken)
        ast.parse(text)  # every round leaves a parsable file
    raise AssertionError("the fixes do not converge")


def _span(text: str, e: Edit) -> tuple[int, int, str]:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return (starts[e.line - 1] + e.column - 1, starts[e.end_line - 1] + e.end_column - 1, e.content)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].slug}:{c[1].title}")
def test_fix_gives_the_fixed_example(case):
    rule, example = case
    assert any(f.fix for f in check_example(rule, example).findings if f.code == rule.code)
    fixed = fix_all(rule, example).replace("  # flagged", "")
    assert fixed == example.fixed


def test_every_sqlalchemy_fix_has_the_rules_applicability():
    for rule, example in CASES:
        for finding in check_example(rule, example).findings:
            if finding.code == rule.code and finding.fix:
                assert finding.fix.applicability == rule.fix_applicability


def _rule(code: str):
    return next(rule for rule in all_rules() if rule.code == code)


def test_declarative_base_fix_keeps_a_shared_import():
    from backend_expert.rules.base import Example

    code = (
        "from sqlalchemy.orm import declarative_base, relationship\n\n"
        "Base = declarative_base(cls=Helpers)\n"
    )
    fixed = fix_all(_rule("BEX303"), Example(code=code))
    assert fixed == (
        "from sqlalchemy.orm import declarative_base, relationship\n"
        "from sqlalchemy.orm import DeclarativeBase\n\n"
        "class Base(Helpers, DeclarativeBase):\n    pass\n"
    )


def test_no_fix_when_the_type_cannot_be_mapped_or_a_keyword_differs():
    from backend_expert.rules.base import Example

    code = (
        "from sqlalchemy import JSON, Column, Integer\n"
        "from sqlalchemy.orm import DeclarativeBase\n\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n\n"
        "class Doc(Base):\n"
        "    __tablename__ = 'docs'\n"
        "    id = Column(Integer, primary_key=True, key='pk')\n"
        "    body = Column(JSON)\n"
        "    size = Column(Integer, **extra)\n"
    )
    findings = check_example(_rule("BEX302"), Example(code=code)).findings
    ours = [f for f in findings if f.code == "BEX302"]
    assert len(ours) == 3
    assert [f.fix is not None for f in ours] == [True, False, False]
