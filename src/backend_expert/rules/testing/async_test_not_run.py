"""`async def test_*` with no marker and no auto mode: pytest never runs its body."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import insert_line
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.pytest_config import collection_hooks, pytest_config
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.testing.test_without_assert import is_test_file

ASYNC_WORDS = ("asyncio", "anyio", "trio", "async", "curio", "gen_test", "tornado")
# Fixtures whose presence makes a plugin run the coroutine (anyio, legacy pytest-aiohttp).
RUNNER_FIXTURES = frozenset({"anyio_backend", "loop"})


def _marks_async(nodes: list[ast.expr]) -> bool | None:
    """True when a decorator marks the test async, None when one is not a pytest mark
    (a custom wrapper may run the coroutine itself), False otherwise."""
    result: bool | None = False
    for decorator in nodes:
        text = ast.unparse(decorator.func if isinstance(decorator, ast.Call) else decorator)
        if any(word in text.lower() for word in ASYNC_WORDS):
            return True
        if "mark." not in text:
            result = None
    return result


def _pytestmark(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets):
                text = ast.unparse(stmt.value).lower() if stmt.value is not None else ""
                if any(word in text for word in ASYNC_WORDS):
                    return True
    return False


class AsyncTestNotRun(Rule):
    code = "BEX902"
    slug = "async-test-not-run"
    pack = "testing"
    severity = Severity.ERROR
    category = "correctness"
    fix_applicability = Applicability.SAFE
    summary = "Async test function that pytest will not run (no marker, no auto mode)"
    hint = 'Mark it `@pytest.mark.asyncio` (or `anyio`), mark the module with `pytestmark`, or set `asyncio_mode = "auto"`.'
    explanation = Explanation(
        what=(
            "Flags `async def test_*` functions (module level or in a test class) that carry "
            "no asyncio/anyio/trio marker (on the function, the class, or a module "
            "`pytestmark`) in a project whose pytest configuration, read once from "
            "`pytest.ini`, `pyproject.toml`, `tox.ini` or `setup.cfg`, does not set "
            "`asyncio_mode = auto` (or `--asyncio-mode=auto`, or pytest-trio's `trio_mode`). "
            "Tests with a custom decorator, tests requesting `anyio_backend`, methods of "
            "unittest `TestCase` classes and projects whose conftest calls tests itself "
            "(`pytest_pyfunc_call`) are left alone; a conftest with "
            "`pytest_collection_modifyitems` lowers the confidence (it may add the markers)."
        ),
        why=(
            "pytest itself cannot run a coroutine function: calling it only creates a coroutine "
            "object. Without a plugin that handles the test (pytest-asyncio in strict mode "
            "only handles marked tests) the test is skipped with a warning, or fails on recent "
            "pytest, and in older setups it even passes without executing a line. Either way "
            "the assertions inside never run, and the suite looks greener than the code is."
        ),
        use_instead=(
            "`@pytest.mark.asyncio` on the test (pytest-asyncio) or `@pytest.mark.anyio` "
            "(AnyIO's plugin); `pytestmark = pytest.mark.asyncio` for a whole module; or "
            '`asyncio_mode = "auto"` under `[tool.pytest.ini_options]`.'
        ),
        fix_safety=(
            "Safe: the marker only makes the intended test run (it needs pytest-asyncio, or "
            "anyio for the anyio marker, to be installed). The fix adds `import pytest` when "
            "the module lacks it."
        ),
        references=(
            "https://pytest-asyncio.readthedocs.io/en/stable/concepts.html#test-discovery-modes",
            "https://anyio.readthedocs.io/en/stable/testing.html",
        ),
    )
    fire = (
        Example(
            title="an async test without a marker",
            files={
                "tests/test_api.py": """\
import pytest


async def test_health(client):  # flagged
    response = await client.get("/health")
    assert response.status_code == 200


class TestOrders:
    @pytest.mark.parametrize("n", [1, 2])
    async def test_count(self, client, n):  # flagged
        assert await client.count() >= 0
""",
            },
            fixed="""\
import pytest


@pytest.mark.asyncio
async def test_health(client):
    response = await client.get("/health")
    assert response.status_code == 200


class TestOrders:
    @pytest.mark.asyncio
    @pytest.mark.parametrize("n", [1, 2])
    async def test_count(self, client, n):
        assert await client.count() >= 0
""",
        ),
    )
    clean = (
        Example(
            title="near miss: marked tests, a module marker, anyio_backend, unittest",
            files={
                "tests/test_api.py": """\
import unittest

import pytest


@pytest.mark.asyncio
async def test_health(client):
    assert (await client.get("/health")).status_code == 200


@pytest.mark.anyio
async def test_ready(client):
    assert await client.ready()


async def test_backend(anyio_backend):
    assert anyio_backend


class TestOrders(unittest.IsolatedAsyncioTestCase):
    async def test_count(self):
        self.assertTrue(True)
""",
                "tests/test_jobs.py": """\
import pytest

pytestmark = pytest.mark.asyncio


async def test_job():
    assert True
""",
            },
        ),
    )

    @visit(ast.AsyncFunctionDef)
    def check_test(self, node: ast.AsyncFunctionDef, ctx: FileContext) -> None:
        if not ctx.is_test or not node.name.startswith("test") or not is_test_file(ctx.path):
            return
        parents = ctx.ancestors
        klass = parents[-1] if parents and isinstance(parents[-1], ast.ClassDef) else None
        if not (isinstance(parents[-1], ast.Module) if parents else False) and klass is None:
            return
        if klass is not None and (
            not klass.name.startswith("Test")
            or klass.bases
            or _marks_async(klass.decorator_list) is not False
            or _pytestmark(klass.body)
        ):
            return
        if any("fixture" in ast.unparse(d) for d in node.decorator_list):
            return  # an async fixture named test_*: pytest-asyncio's business, not a test
        marked = _marks_async(node.decorator_list)
        if marked is not False or self._module_marked(ctx):
            return
        params = {a.arg for a in (*node.args.args, *node.args.kwonlyargs)}
        if params & RUNNER_FIXTURES:
            return
        config = pytest_config(ctx.project, ctx.path)
        if config.runs_unmarked_async:
            return
        hooks = collection_hooks(ctx.project)
        if hooks & {"pytest_pyfunc_call", "pytest_pycollect_makeitem"}:
            return
        confidence = Confidence.HIGH if config.file else Confidence.MEDIUM
        if "pytest_collection_modifyitems" in hooks:
            confidence = Confidence.LOW
        marker = self._marker(ctx)
        ctx.report(
            node,
            f"`async def {node.name}` has no async marker and pytest is not in asyncio auto mode"
            f"{' (' + config.file + ')' if config.file else ''}: its body never runs; add "
            f"`@pytest.mark.{marker}`",
            confidence=confidence,
            fix=self._fix(node, marker, ctx),
            end_node=node.args,
        )

    @staticmethod
    def _module_marked(ctx: FileContext) -> bool:
        cached = getattr(ctx, "_bex902_module", None)
        if cached is None:
            tree = ctx.source.tree
            cached = tree is not None and _pytestmark(tree.body)
            ctx._bex902_module = cached  # type: ignore[attr-defined]
        return cached

    @staticmethod
    def _marker(ctx: FileContext) -> str:
        deps = ctx.project.dependencies
        uses_anyio = any(m.partition(".")[0] == "anyio" for m in ctx.facts.imported_modules)
        if "pytest-asyncio" not in deps and (uses_anyio or "anyio" in deps):
            return "anyio"
        return "asyncio"

    @staticmethod
    def _fix(node: ast.AsyncFunctionDef, marker: str, ctx: FileContext) -> Fix | None:
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        indent = ctx.source.line(first)[
            : len(ctx.source.line(first)) - len(ctx.source.line(first).lstrip())
        ]
        edits = [insert_line(first, f"{indent}@pytest.mark.{marker}\n")]
        try:
            added = add_import(ctx.source, "pytest")
        except ImportConflict:  # `pytest` means something else here: no fix
            return None
        if added is not None:
            edits.insert(0, added)
        return Fix(f"Add `@pytest.mark.{marker}`", tuple(edits), Applicability.SAFE)
