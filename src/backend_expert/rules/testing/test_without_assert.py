"""A test function that checks nothing: no assert, no `pytest.raises`, no mock assertion."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.nodes import walk
from backend_expert.rules.base import Example, Explanation, Rule, visit


def is_test_file(path: str) -> bool:
    """A file pytest (or Django's runner) collects tests from: `test*.py`, `*_test.py`."""
    name = path.rpartition("/")[2]
    return name.startswith("test") or name.endswith("_test.py")


# Words in a called name that mean "this checks something" (assert helpers, mock assertions,
# pytest.raises/warns/fail, expect-style libraries, snapshot and approval tools).
CHECK_WORDS = (
    "assert", "raises", "warns", "fail", "expect", "check", "verify", "validate", "ensure",
    "should", "must", "snapshot", "approx", "deprecated_call", "compare", "match", "equal",
    "confirm", "inspect", "wait_for", "until", "full_clean",
)  # fmt: skip
# Fixtures that assert on their own (at teardown) or record results.
CHECKING_FIXTURES = (
    "httpx_mock", "respx", "snapshot", "benchmark", "regression", "assert", "expect", "check",
    "aioresponses", "requests_mock", "responses", "recorder", "django_assert",
)  # fmt: skip
SKIP_MARKS = ("skip", "xfail", "todo", "expected_failure")
# Test names that state the test checks only that nothing raises (a deliberate smoke test).
SMOKE_WORDS = (
    "raise", "crash", "error", "fail", "smoke", "okay", "_ok", "works", "handles", "succeed",
    "runs", "exception", "does_not", "doesnt", "not_", "no_", "import", "sanity", "noop",
    "idempotent", "silent", "ignore", "skips", "accept", "_pass", "valid",
)  # fmt: skip
# Method names of test helpers (on `self` or a module) that run a check.
HELPER_PREFIXES = ("_test", "test_", "do_test", "run_test", "_check", "_verify", "_assert")


def _asserts(
    function: ast.AST, helpers: dict[str, ast.AST], ctx: FileContext, depth: int = 0
) -> bool:
    for node in walk(function):
        if isinstance(node, (ast.Assert, ast.Raise)):
            return True
        if isinstance(node, ast.Call):
            func = node.func
            if func.__class__ is ast.Attribute and "assert" in func.attr:  # type: ignore[attr-defined]
                return True  # `self.assertEqual(...)`: the common case, decided cheaply
            text = (dotted(func) or node_text(ctx, func)).lower()
            if any(word in text for word in CHECK_WORDS):
                return True
            if isinstance(func, ast.Attribute) and func.attr.startswith(HELPER_PREFIXES):
                return True
            if any(  # `self.post(data, expect_fragment="...")`: the helper checks
                keyword.arg
                and any(word in keyword.arg.lower() for word in (*CHECK_WORDS, "status"))
                for keyword in node.keywords
            ):
                return True
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and f"self.{func.attr}" in helpers
                and depth < 2
                and _asserts(helpers[f"self.{func.attr}"], helpers, ctx, depth + 1)
            ):
                return True
            if (
                isinstance(func, ast.Name)
                and func.id in helpers
                and depth < 2
                and _asserts(helpers[func.id], helpers, ctx, depth + 1)
            ):
                return True
    return False


def _trivial(body: list[ast.stmt]) -> bool:
    """Empty, `pass`, `...`, a docstring or a bare `return`: a placeholder or a test switched off
    in a subclass (overriding an inherited test with `return`)."""
    return all(
        isinstance(stmt, ast.Pass)
        or (isinstance(stmt, ast.Return) and stmt.value is None)
        or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in body
    )


class TestWithoutAssert(Rule):
    code = "BEX903"
    slug = "test-without-assert"
    pack = "testing"
    severity = Severity.WARNING
    category = "correctness"
    summary = "Test function that asserts nothing"
    hint = "Assert on the outcome (status code, returned value, database state), or use `pytest.raises` for the expected error."
    explanation = Explanation(
        what=(
            "Flags `test_*` functions in test modules whose body (nested blocks included) "
            "contains no `assert`, no `raise`, and calls nothing that checks: `pytest.raises`/"
            "`warns`/`fail`, unittest's `self.assert*`, mock assertions "
            "(`m.assert_called_once_with`), or a helper whose name says it checks "
            "(`assert_*`, `check_*`, `verify_*`, `expect(...)`). Helpers defined in the same "
            "module are looked into. Tests that request a fixture which asserts by itself "
            "(`httpx_mock`, `snapshot`, `benchmark`, `*_regression`), skipped or xfail tests, "
            "empty placeholder tests (and tests switched off with a bare `return`), smoke tests whose name or docstring says they check that "
            "nothing raises (`test_doesnt_raise_...`, `test_..._okay`) are left alone, as are tests that call a helper imported "
            "from another test module (conftest, test utilities), which may assert."
        ),
        why=(
            "A test without an assertion passes whenever the code under test does not raise: "
            "a view that returns the wrong data with a 200, or a function that returns None, "
            "still shows green. The coverage report counts the lines as tested, so the gap "
            "stays invisible until a bug ships."
        ),
        use_instead=(
            "Assert on what the code must produce (`assert response.status_code == 201`, "
            "`assert order.total == 30`); for an expected error, `with pytest.raises(...)`; for "
            "an interaction, `mock.assert_called_once_with(...)`."
        ),
        references=("https://docs.pytest.org/en/stable/how-to/assert.html",),
    )
    fire = (
        Example(
            title="tests that call the code and check nothing",
            files={
                "tests/test_orders.py": """\
def test_create_order(client):  # flagged
    client.post("/orders", json={"sku": "A1", "qty": 2})


class TestRefunds:
    def test_refund(self, service):  # flagged
        order = service.place("A1")
        service.refund(order)
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: asserts, pytest.raises, mock asserts, helper asserts, fixtures",
            files={
                "tests/test_orders.py": """\
import pytest


def _assert_created(response):
    assert response.status_code == 201


def test_create(client):
    _assert_created(client.post("/orders", json={}))


def test_invalid(service):
    with pytest.raises(ValueError):
        service.place("")


def test_notifies(service, mailer):
    service.place("A1")
    mailer.send.assert_called_once()


def test_total(service):
    assert service.total() == 0


def test_page(client, snapshot):
    snapshot.match(client.get("/").text)


@pytest.mark.skip(reason="flaky upstream")
def test_later(client):
    client.get("/slow")


def test_placeholder():
    pass


@pytest.fixture
def test_user(db):
    db.create_user("ann")
""",
            },
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_test(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
        if not ctx.is_test or not node.name.startswith("test") or _trivial(node.body):
            return
        name = node.name.lower()
        if not is_test_file(ctx.path) or any(w in name for w in SMOKE_WORDS):
            return
        parents = ctx.ancestors
        parent = parents[-1] if parents else None
        if not isinstance(parent, (ast.Module, ast.ClassDef)):
            return
        if isinstance(parent, ast.ClassDef) and not (
            parent.name.startswith("Test") or parent.name.endswith(("Test", "Tests", "TestCase"))
        ):
            return
        for decorator in node.decorator_list:
            text = node_text(ctx, decorator).lower()
            if any(word in text for word in SKIP_MARKS) or "fixture" in text:
                return  # skipped, expected to fail, or a fixture that happens to be named test_*
        params = " ".join(a.arg for a in (*node.args.args, *node.args.kwonlyargs)).lower()
        if any(word in params for word in CHECKING_FIXTURES):
            return
        helpers = self._helpers(ctx, parent)
        if _asserts(node, helpers, ctx) or self._calls_test_helper(node, ctx):
            return
        if self._says_it_raises(node, ctx):
            return
        ctx.report(
            node,
            f"`{node.name}` asserts nothing: it passes whenever the code does not raise; "
            "assert on the outcome",
            confidence=Confidence.MEDIUM,
            end_node=node.args,
        )

    @staticmethod
    def _says_it_raises(node: ast.AST, ctx: FileContext) -> bool:
        """A docstring or comment in the test says the call is expected to raise on failure."""
        first, last = node.lineno, node.end_lineno or node.lineno
        text = "\n".join(ctx.source.lines[first - 1 : last]).lower()
        return any(
            word in text
            for word in (
                "will raise",
                "would raise",
                "should not raise",
                "shouldn't raise",
                "no exception",
                "does not raise",
                "doesn't raise",
            )
        )

    @staticmethod
    def _calls_test_helper(node: ast.AST, ctx: FileContext) -> bool:
        """A call to a function imported from another test module, or a method of a parameter
        whose annotated type comes from one (test helpers such as `logo.create(...)` may assert)."""
        typed = {
            a.arg: ast.unparse(a.annotation).partition("[")[0]
            for a in (*node.args.args, *node.args.kwonlyargs)  # type: ignore[attr-defined]
            if a.annotation is not None
        }
        for inner in walk(node):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and isinstance(inner.func.value, ast.Name)
                and inner.func.value.id in typed
            ):
                target = ctx.facts.imports.get(typed[inner.func.value.id].partition(".")[0])
                module = ctx.project.modules.get((target or "").rpartition(".")[0])
                if module is not None and module.is_test:
                    return True
            if isinstance(inner, ast.Call) and isinstance(inner.func, (ast.Name, ast.Attribute)):
                target = ctx.facts.imports.get((dotted(inner.func) or "").partition(".")[0])
                if target is None:
                    continue
                module = ctx.project.modules.get(target) or ctx.project.modules.get(
                    target.rpartition(".")[0]
                )
                if module is not None and module.is_test:
                    return True
        return False

    @staticmethod
    def _helpers(ctx: FileContext, parent: ast.AST) -> dict[str, ast.AST]:
        """Module-level functions of this file, by name (helpers a test may delegate to), and
        in a class its own methods as `self.name` (computed once per file and class)."""
        cache = ctx.__dict__.setdefault("_bex903_helpers", {})
        found = cache.get(id(parent))
        if found is not None:
            return found
        module = cache.get(None)
        if module is None:
            tree = ctx.source.tree
            module = cache[None] = {
                stmt.name: stmt
                for stmt in (tree.body if tree is not None else ())
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not stmt.name.startswith("test")
            }
        found = module
        if isinstance(parent, ast.ClassDef):  # the class's own methods: `self.helper(...)`
            methods = (
                s for s in parent.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
            )
            found = {**module, **{f"self.{stmt.name}": stmt for stmt in methods}}
        cache[id(parent)] = found
        return found
