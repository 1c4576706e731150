"""Call handlers registered with `visit_call` run only for calls of the names they give,
and rules with `requires_text` only on files whose text contains it.

These prefilters must never change a finding: every rule's examples give the same findings
with them and without them, and calls made through renamed imports or canonical aliases
still reach the handlers.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from conftest import check_example

from backend_expert.check import Checker
from backend_expert.config import Config, Selection
from backend_expert.engine import run_sources
from backend_expert.rules import all_rules

PREFILTERED = [
    rule
    for rule in all_rules()
    if rule.requires_text
    or any(
        getattr(method, "__bex_callees__", None) is not None
        for methods in type(rule).handlers.values()
        for method in methods
    )
]


def _findings(result) -> list[tuple]:
    return sorted((f.path, f.line, f.column, f.code, f.message) for f in result.findings)


def test_most_call_rules_name_their_callees():
    # The prefilter is what keeps the check pass fast on large projects.
    assert len(PREFILTERED) >= 30


@pytest.mark.parametrize("rule", PREFILTERED, ids=lambda r: r.slug)
def test_prefilter_changes_no_finding_of_the_examples(rule, monkeypatch):
    examples = [*rule.fire, *rule.clean]
    with_prefilter = [_findings(check_example(rule, example)) for example in examples]
    monkeypatch.setattr(Checker, "prefilter", False)
    without = [_findings(check_example(rule, example)) for example in examples]
    assert with_prefilter == without


def _check(code: str, select: str, dependencies: dict[str, str] | None = None) -> list[tuple]:
    config = Config(root=Path("."), layers=[Selection(select=(select,))])
    result = run_sources({"app.py": textwrap.dedent(code)}, config, dependencies)
    return [(f.line, f.code) for f in result.findings]


def test_a_call_through_a_renamed_import_reaches_the_handler():
    code = """\
        from jwt import decode as read_token

        def claims(token):
            return read_token(token, options={"verify_signature": False})
        """
    assert _check(code, "jwt-unverified") == [(4, "BEX703")]


def test_a_call_through_a_module_alias_reaches_the_handler():
    code = """\
        import ssl as tls

        CONTEXT = tls._create_unverified_context()
        """
    assert _check(code, "tls-verify-disabled") == [(3, "BEX708")]


def test_a_canonical_alias_reaches_the_handler_of_the_name_it_stands_for():
    # `requests.session()` is `requests.Session()`; the rule registered the name `Session`.
    code = """\
        import requests
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/price")
        def price():
            http = requests.session()
            return http.get("https://rates.example.com", timeout=5).json()
        """
    found = _check(code, "fastapi-client-per-request", {"fastapi": ""})
    assert found == [(8, "BEX106")]


def _spy_on(monkeypatch, slug: str, method: str, record) -> None:
    """Make the rule's only Call handler `method` call `record(node, ctx)` first, keeping
    how it is registered (node types, callee names)."""
    rule = next(r for r in all_rules() if r.slug == slug)
    original = getattr(type(rule), method)

    def spy(self, node, ctx):
        record(node, ctx)
        return original(self, node, ctx)

    spy.__dict__.update(original.__dict__)  # the `visit` / `visit_call` registration
    monkeypatch.setattr(type(rule), "handlers", {ast.Call: (spy,)})


def test_calls_of_other_names_do_not_reach_a_prefiltered_handler(monkeypatch):
    seen: list[int] = []
    _spy_on(
        monkeypatch, "jwt-unverified", "check_decode", lambda node, ctx: seen.append(node.lineno)
    )
    code = """\
        import jwt

        def claims(token, key, rows):
            rows.append(len(token))
            print(sorted(rows))
            return jwt.decode(token, key, algorithms=["HS256"])
        """
    assert _check(code, "jwt-unverified") == []
    assert seen == [6]  # only `jwt.decode(...)`, not append/len/print/sorted


def test_a_rule_with_a_text_gate_skips_files_without_that_text(monkeypatch):
    seen: list[str] = []
    _spy_on(
        monkeypatch, "async-blocking-call", "check_call", lambda node, ctx: seen.append(ctx.path)
    )
    config = Config(root=Path("."), layers=[Selection(select=("async-blocking-call",))])
    sources = {
        "sync_code.py": "import time\n\ndef f():\n    time.sleep(1)\n",
        "async_code.py": "import time\n\nasync def f():\n    time.sleep(1)\n",
    }
    result = run_sources(sources, config)
    assert [(f.path, f.line) for f in result.findings] == [("async_code.py", 4)]
    assert set(seen) == {"async_code.py"}
