"""Bad input gets a clear message and the run goes on; nothing here may crash bex."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from backend_expert.check import Checker
from backend_expert.config import Config
from backend_expert.engine import run, run_sources
from backend_expert.findings import Severity
from backend_expert.index import build_project, collect_facts
from backend_expert.parse import parse_text
from backend_expert.rules import Rule, rule_by_id, visit
from backend_expert.rules.base import Explanation

ON_EVENT = 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s():\n    pass\n'


def slugs(result, path):
    return [(f.slug, f.message) for f in result.findings if f.path == path]


def test_encodings_and_boms_are_honoured(write_project):
    root = write_project(
        {
            "latin.py": b'# -*- coding: latin-1 -*-\nname = "caf\xe9"\n' + ON_EVENT.encode(),
            "bom.py": b"\xef\xbb\xbf" + ON_EVENT.encode(),
            "empty.py": b"",
        }
    )
    result = run([root], use_cache=False)
    assert [s for s, _ in slugs(result, "latin.py")] == ["fastapi-on-event"]
    assert [s for s, _ in slugs(result, "bom.py")] == ["fastapi-on-event"]
    assert slugs(result, "empty.py") == []
    latin = next(f for f in result.findings if f.path == "latin.py")
    assert latin.line == 6  # positions survive the cookie and the decoding


def test_binary_undecodable_and_oversized_files_are_reported(write_project):
    root = write_project(
        {
            "binary.py": b"x = '\x00\x01'\n",
            "bad.py": b"x = '\xff\xfe'\n",
            "big.py": "x = 1\n" * 3000,
            "fine.py": ON_EVENT,
        },
        pyproject="[tool.bex]\nmax-file-size-kb = 10\n",
    )
    result = run([root], use_cache=False)
    assert "binary file" in slugs(result, "binary.py")[0][1]
    assert "not valid utf-8" in slugs(result, "bad.py")[0][1]
    assert "over the max-file-size-kb limit" in slugs(result, "big.py")[0][1]
    assert all(
        slug == "io-error"
        for path in ("binary.py", "bad.py", "big.py")
        for slug, _ in slugs(result, path)
    )
    assert [s for s, _ in slugs(result, "fine.py")] == ["fastapi-on-event"]


def test_unreadable_file_is_reported(write_project, monkeypatch):
    root = write_project({"locked.py": "x = 1\n", "fine.py": ON_EVENT})
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.py":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = run([root], use_cache=False, jobs=1)
    assert slugs(result, "locked.py") == [("io-error", "cannot read this file: Permission denied")]
    assert [s for s, _ in slugs(result, "fine.py")] == ["fastapi-on-event"]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_broken_symlinks_and_loops_warn_and_continue(write_project):
    root = write_project({"pkg/fine.py": ON_EVENT})
    (root / "pkg" / "broken.py").symlink_to(root / "missing.py")
    (root / "pkg" / "loop").symlink_to(root / "pkg")
    result = run([root], use_cache=False)
    assert any("broken symbolic link" in w for w in result.warnings)
    assert any("symbolic link loop" in w for w in result.warnings)
    assert [f.path for f in result.findings] == ["pkg/fine.py"]


def test_syntax_error_is_a_finding_with_its_location():
    result = run_sources({"broken.py": "x = 1\n\ndef f(:\n    pass\n", "ok.py": ON_EVENT})
    [error] = [f for f in result.findings if f.path == "broken.py"]
    assert (error.slug, error.line) == ("syntax-error", 3)
    assert error.severity is Severity.ERROR
    assert any(f.slug == "fastapi-on-event" for f in result.findings if f.path == "ok.py")


def test_deeply_nested_code_does_not_overflow():
    # 2,000 levels: deeper than Python's recursion limit, still within what ast builds.
    text = "x = " + " + ".join(["a"] * 2000) + "\n" + ON_EVENT
    result = run_sources({"deep.py": text})
    assert [f.slug for f in result.findings] == ["fastapi-on-event"]


def test_code_too_deep_for_python_is_a_syntax_error_not_a_crash():
    # Some interpreters refuse this depth (RecursionError in the parser): that is a finding.
    result = run_sources({"deeper.py": "x = " + " + ".join(["a"] * 20000) + "\n" + ON_EVENT})
    slugs_found = [f.slug for f in result.findings]
    assert slugs_found in (["syntax-error"], ["fastapi-on-event"])


class Exploding(Rule):
    code = "BEX099"
    slug = "exploding"
    pack = "core"
    severity = Severity.ERROR
    category = "test"
    summary = "Raises on every call"
    explanation = Explanation(what="-", why="-")

    @visit(ast.Call)
    def boom(self, node, ctx):
        raise ValueError("boom")


def test_a_failing_rule_is_contained_and_reported():
    source = parse_text("main.py", ON_EVENT)
    facts = collect_facts(source.tree, "main.py", "main")
    project = build_project([facts], ".")
    rules = [Exploding(), rule_by_id("fastapi-on-event")]
    findings = Checker(rules, project, Config(root=Path("."))).check_file(source, facts)
    slugs_found = [f.slug for f in findings]
    assert slugs_found.count("internal-error") == 1  # reported once, then skipped for the file
    assert "fastapi-on-event" in slugs_found  # the other rules still ran
    internal = next(f for f in findings if f.slug == "internal-error")
    assert "BEX099" in internal.message and "ValueError: boom" in internal.message


def test_a_failure_while_indexing_is_reported(write_project, monkeypatch):
    import backend_expert.engine as engine

    real = engine.collect_facts

    def collect(tree, rel, module, text=None):
        if rel == "odd.py":
            raise RuntimeError("odd")
        return real(tree, rel, module, text)

    monkeypatch.setattr(engine, "collect_facts", collect)
    root = write_project({"odd.py": "x = 1\n", "fine.py": ON_EVENT})
    result = run([root], use_cache=False, jobs=1)
    assert [(f.path, f.slug) for f in result.findings] == [
        ("fine.py", "fastapi-on-event"),
        ("odd.py", "internal-error"),
    ]
    assert "indexing failed: RuntimeError: odd" in result.findings[1].message


@pytest.mark.parametrize(
    "code",
    [
        "import os\n\ndef f():\n    import requests\n    return requests\n",
        "def f(): import requests; return requests\n",
        "class C:\n    def m(self):\n        from requests import Session as requests\n",
    ],
)
def test_imports_inside_functions_are_known(code):
    facts = collect_facts(ast.parse(code), "app.py", "app", code)
    assert facts.imports["requests"].startswith("requests")


def test_a_module_with_top_level_imports_only_skips_the_function_scan():
    from backend_expert.index import _imports_only_at_line_starts

    assert _imports_only_at_line_starts("import os\nfrom a.b import c as d\nx = 1\n")
    assert _imports_only_at_line_starts("from x import y; import z\n")
    assert not _imports_only_at_line_starts("def f():\n    import x\n")
    assert not _imports_only_at_line_starts("x = importlib.import_module('y')\n")
