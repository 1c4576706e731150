"""A module-level dict/list/set mutated by a request handler: per-process, racy state."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.flask_web import is_flask_route
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.web import fastapi_route

MUTATORS = frozenset(
    {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove",
     "discard", "clear", "appendleft", "extendleft", "popleft"}
)  # fmt: skip
CONTAINER_CALLS = frozenset(
    {"builtins.dict", "builtins.list", "builtins.set", "collections.defaultdict",
     "collections.OrderedDict", "collections.deque", "collections.Counter"}
)  # fmt: skip
# Names that say the state is a deliberate per-process cache or registry.
CACHE_WORDS = ("cache", "memo", "registry", "_seen", "lock", "pool", "metrics", "stats")


def _module_containers(ctx: FileContext) -> dict[str, int]:
    """Module-level names bound to a mutable container, with the line of the binding."""
    found = getattr(ctx, "_bex804_names", None)
    if found is not None:
        return found
    found = {}
    tree = ctx.source.tree
    for stmt in tree.body if tree is not None else ():
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            value = stmt.value
            mutable = isinstance(
                value, (ast.Dict, ast.List, ast.Set, ast.DictComp, ast.ListComp, ast.SetComp)
            ) or (isinstance(value, ast.Call) and ctx.qualname(value.func) in CONTAINER_CALLS)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    if mutable:
                        found[target.id] = stmt.lineno
                    else:
                        found.pop(target.id, None)
    ctx._bex804_names = found  # type: ignore[attr-defined]
    return found


def _is_handler(function: ast.AST, ctx: FileContext) -> str | None:
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if fastapi_route(function, ctx) is not None:
        return "FastAPI route"
    if is_flask_route(function, ctx):
        return "Flask view"
    args = function.args.args
    if (
        args
        and args[0].arg == "request"
        and ctx.enclosing_class() is None
        and "django" in ctx.project.frameworks
        and "views" in ctx.path
    ):
        return "Django view"
    return None


class SharedMutableState(Rule):
    code = "BEX804"
    slug = "shared-mutable-state"
    pack = "python"
    severity = Severity.WARNING
    category = "reliability"
    skip_tests = True
    summary = "Module-level container mutated inside a request handler"
    hint = "Keep shared state in the database, a cache (Redis) or a session; per-request data belongs in locals."
    explanation = Explanation(
        what=(
            "Flags a FastAPI route, a Flask view or a Django function view that mutates a "
            "module-level `dict`, `list`, `set`, `defaultdict`, `deque` or `Counter` "
            "(`NAME[k] = v`, `NAME.append(...)`, `del NAME[k]`, `NAME += ...`). Containers "
            "named as caches, registries, pools or metrics are not reported, nor are mutations "
            "made while holding a lock, nor constants that are only read."
        ),
        why=(
            "Module globals live in one worker process. Production servers run several "
            "processes, so each has its own copy: a user who writes through one worker and "
            "reads through another sees different data, and everything is lost on restart or "
            "deploy. Inside one process, threaded servers (and free-threaded Python 3.13t/3.14t) "
            "run handlers concurrently, so read-modify-write sequences on the container race."
        ),
        use_instead=(
            "Persist shared state in the database or Redis; keep per-user state in the session; "
            "for a true per-process cache, use a bounded cache (`functools.lru_cache`, "
            "`cachetools.TTLCache`) guarded by a lock."
        ),
        references=(
            "https://flask.palletsprojects.com/en/stable/appcontext/#storing-data",
            "https://docs.gunicorn.org/en/stable/design.html",
        ),
    )
    fire = (
        Example(
            title="a shopping cart kept in a module-level dict",
            code="""\
from fastapi import FastAPI

app = FastAPI()
carts: dict[int, list[int]] = {}
events = []


@app.post("/carts/{user_id}/items")
def add_item(user_id: int, item_id: int) -> dict:
    carts.setdefault(user_id, []).append(item_id)  # flagged
    events.append(("add", user_id, item_id))  # flagged
    return {"items": carts[user_id]}
""",
        ),
    )
    clean = (
        Example(
            title="near miss: a constant read, a cache, a lock, and a helper that is not a view",
            code="""\
import threading

from flask import Flask

app = Flask(__name__)
PRICES = {"basic": 10, "pro": 30}
_cache = {}
_lock = threading.Lock()
_counts = {}


@app.get("/price/<plan>")
def price(plan):
    _cache[plan] = PRICES[plan]
    with _lock:
        _counts[plan] = _counts.get(plan, 0) + 1
    return {"price": PRICES[plan]}


def warm():
    _counts.clear()
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        names = _module_containers(ctx)
        if not names:
            return
        kind = _is_handler(node, ctx)
        if kind is None:
            return
        scope = ctx.scope(node)
        local = set(scope.params) | set(scope.assignments)
        reported: set[str] = set()
        for stmt, locked in _statements(node.body, False):
            if locked:
                continue
            for target in _mutated(stmt):
                if (
                    target.id in names
                    and target.id not in local
                    and target.id not in reported
                    and not any(word in target.id.lower() for word in CACHE_WORDS)
                ):
                    reported.add(target.id)
                    ctx.report(
                        stmt,
                        f"This {kind} mutates the module-level `{target.id}` (line "
                        f"{names[target.id]}): each worker process has its own copy, it is lost "
                        "on restart, and concurrent requests race on it",
                        confidence=Confidence.MEDIUM,
                    )


def _statements(body: list[ast.stmt], locked: bool):
    """(statement, under a `with <lock>`) for the statements of a body, not of nested defs."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield stmt, locked
        inner_locked = locked or (
            isinstance(stmt, (ast.With, ast.AsyncWith))
            and any("lock" in ast.unparse(item.context_expr).lower() for item in stmt.items)
        )
        for field in ("body", "orelse", "finalbody"):
            yield from _statements(getattr(stmt, field, None) or [], inner_locked)
        for handler in getattr(stmt, "handlers", ()):
            yield from _statements(handler.body, inner_locked)


def _mutated(stmt: ast.stmt) -> list[ast.Name]:
    """Names whose container the statement changes in place."""
    found: list[ast.Name] = []
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Delete)):
        targets = stmt.targets if isinstance(stmt, (ast.Assign, ast.Delete)) else [stmt.target]
        for target in targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                found.append(target.value)
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        while isinstance(func, ast.Attribute):
            if func.attr in MUTATORS:
                base = func.value
                while isinstance(base, (ast.Call, ast.Subscript)):
                    base = base.func if isinstance(base, ast.Call) else base.value
                    if isinstance(base, ast.Attribute) and base.attr in MUTATORS | {"get"}:
                        base = base.value
                if isinstance(base, ast.Name):
                    found.append(base)
                break
            func = func.value
    return found
