"""Properties of fixing, on generated and on real code: the result parses, fixing again
changes nothing, and nothing outside the edits changes (checked independently of the
engine: undoing the toy rename gives back the original, comments survive).

Real code is the rules' own examples and the test fixtures; generated code comes from
hypothesmith when it is installed and BEX_FUZZ_EXAMPLES=N asks for N programs (generating
them is slow: about 30 s each on a busy machine).
"""

from __future__ import annotations

import ast
import io
import keyword
import os
import re
import tokenize
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backend_expert.config import Config
from backend_expert.findings import Applicability, Edit, Finding, Fix, Severity
from backend_expert.fixes import fix_sources, fix_text
from backend_expert.parse import parse_text
from backend_expert.rules import all_rules

FIXTURES = Path(__file__).parent / "fixtures"


def _real_sources() -> list[str]:
    texts = []
    for rule in all_rules():
        for example in (*rule.fire, *rule.clean):
            texts.extend(example.sources().values())
    texts.extend(p.read_text() for p in sorted(FIXTURES.rglob("*.py")))
    return [t for t in dict.fromkeys(texts) if t.strip() and parse_text("x.py", t).tree]


REAL = _real_sources()
PATH = "m.py"


def _names(text: str) -> list[str]:
    tree = parse_text(PATH, text).tree
    assert tree is not None
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})


def _renamer(word: str, replacement: str, breaking: str | None = None):
    """Flags `word` wherever it stands as a name token; every other one is replaced by
    `breaking` (to mix fixes that must be rejected among good ones)."""

    def recheck(text: str) -> list[Finding]:
        found = []
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        except (tokenize.TokenError, SyntaxError):
            return []
        for index, token in enumerate(t for t in tokens if t.type == tokenize.NAME):
            if token.string != word:
                continue
            (line, start), (_, end) = token.start, token.end
            content = breaking if breaking is not None and index % 2 else replacement
            edit = Edit(line, start + 1, line, end + 1, content)
            found.append(
                Finding(
                    "BEX999",
                    "toy",
                    "toy",
                    Severity.INFO,
                    "toy",
                    PATH,
                    line,
                    start + 1,
                    line,
                    end + 1,
                    "toy",
                    fix=Fix("rename", (edit,), Applicability.SAFE),
                )
            )
        return found

    return recheck


def _comments(text: str) -> Counter:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return Counter(t.string for t in tokens if t.type == tokenize.COMMENT)
    except (tokenize.TokenError, SyntaxError):
        return Counter()


def _check_rename(text: str, word: str, newline: str) -> None:
    text = text.replace("\n", newline)
    fresh = f"{word}_bex"
    assume(fresh not in text)
    outcome = fix_text(PATH, text, unsafe=True, recheck=_renamer(word, fresh, breaking="(("))
    assert parse_text(PATH, outcome.text).syntax_error is None
    # nothing else changed: undoing the rename gives back the original, byte for byte
    restored = re.sub(rf"\b{fresh}\b", word, outcome.text)
    assert restored == text
    if newline == "\r\n":
        assert "\n" not in outcome.text.replace("\r\n", "")
    again = fix_text(PATH, outcome.text, unsafe=True, recheck=_renamer(word, fresh, "(("))
    assert again.text == outcome.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), newline=st.sampled_from(["\n", "\r\n"]))
def test_rename_fixes_on_real_code(data, newline):
    text = data.draw(st.sampled_from(REAL))
    names = [n for n in _names(text) if not keyword.iskeyword(n)]
    assume(names)
    _check_rename(text, data.draw(st.sampled_from(names)), newline)


def _real_fix_properties(sources: dict[str, str]) -> None:
    config = Config(root=Path("."))
    outcomes = fix_sources(sources, config, unsafe=True)
    fixed = {path: o.text for path, o in outcomes.items()}
    for path, outcome in outcomes.items():
        assert parse_text(path, outcome.text).syntax_error is None, path
        before = _comments(outcome.original) - Counter({"# flagged": 10**6})
        lost = before - _comments(outcome.text)
        # unused-suppression (BEX004) exists to remove stale suppression comments
        lost = [c for c in lost if not re.search(r"bex:\s*ignore|noqa", c, re.IGNORECASE)]
        assert not lost, f"{path}: a fix dropped comments: {lost}"
    again = fix_sources(fixed, config, unsafe=True)
    assert {path: o.text for path, o in again.items()} == fixed, "fixing twice changed more"


EXAMPLES = [
    example.sources() for rule in all_rules() for example in rule.fire if rule.fix_applicability
]


@pytest.mark.parametrize("sources", EXAMPLES, ids=lambda s: "+".join(s)[:60])
def test_all_rules_fix_their_examples_cleanly(sources):
    _real_fix_properties(sources)


@pytest.mark.slow
def test_all_rules_fix_the_fixture_project_cleanly():
    sources = {str(p.relative_to(FIXTURES)): p.read_text() for p in FIXTURES.rglob("*.py")}
    _real_fix_properties(sources)


try:
    import hypothesmith
except ImportError:  # optional: the real-code properties above still run
    hypothesmith = None


@pytest.mark.slow
@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith not installed")
@pytest.mark.skipif(
    "BEX_FUZZ_EXAMPLES" not in os.environ,
    reason="generated programs take ~30 s each: set BEX_FUZZ_EXAMPLES=N to run",
)
@settings(
    max_examples=max(1, int(os.environ.get("BEX_FUZZ_EXAMPLES") or 1)),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_rename_fixes_on_generated_code(data):
    text = data.draw(hypothesmith.from_node())
    assume(parse_text(PATH, text).tree is not None)
    names = [n for n in _names(text) if not keyword.iskeyword(n)]
    assume(names)
    _check_rename(text, data.draw(st.sampled_from(names)), "\n")
