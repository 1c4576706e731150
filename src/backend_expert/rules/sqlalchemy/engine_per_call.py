"""`create_engine()` inside a function that runs per request or per call."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.sqlalchemy._orm import called_name, last, skipped_path
from backend_expert.web import fastapi_route

ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine.create.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
        "sqlmodel.create_engine",
    }
)
# Decorators of functions that run once, or whose result is kept.
ONCE_DECORATORS = frozenset(
    {"lru_cache", "cache", "cached", "cached_property", "asynccontextmanager", "contextmanager",
     "fixture", "command", "group", "callback", "on_event", "listens_for"}
)  # fmt: skip
# Decorators that make a function run per request or per job.
PER_CALL_DECORATORS = frozenset(
    {"get", "post", "put", "patch", "delete", "route", "api_route", "task", "shared_task",
     "websocket", "actor"}
)  # fmt: skip


def _decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _kept(call: ast.Call, function: ast.AST, ctx: FileContext) -> bool:
    """The engine outlives the call: returned, yielded, stored, or made global."""
    parent = ctx.parent()
    if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom)):
        return True
    if isinstance(parent, (ast.Assign, ast.AnnAssign)):
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if any(not isinstance(t, ast.Name) for t in targets):
            return True
        names = {t.id for t in targets if isinstance(t, ast.Name)}
    else:
        return False  # `Session(create_engine(url))`, `create_engine(url).connect()`: local

    def mentions(value: ast.AST | None) -> bool:
        return value is not None and any(
            isinstance(n, ast.Name) and n.id in names for n in ast.walk(value)
        )

    for node in ctx.own_nodes(function):
        if isinstance(node, (ast.Global, ast.Nonlocal)) and names & set(node.names):
            return True
        if isinstance(node, (ast.Return, ast.Yield)) and mentions(node.value):
            return True
        stored = isinstance(node, ast.Assign) and any(
            not isinstance(t, ast.Name) for t in node.targets
        )
        if stored and mentions(node.value):  # type: ignore[union-attr]
            return True
    return False


class EnginePerCall(Rule):
    code = "BEX306"
    slug = "sqlalchemy-engine-per-call"
    pack = "sqlalchemy"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    skip_tests = True
    summary = "`create_engine()` called inside a function that runs per request or per call"
    hint = (
        "Create the engine once (module level, the app's lifespan, or an `@lru_cache` "
        "factory) and share it."
    )
    explanation = Explanation(
        what=(
            "Flags `create_engine(...)` / `create_async_engine(...)` inside a function that runs "
            "per request or per job: a FastAPI/Flask route handler, a function the module uses "
            "as a FastAPI dependency (`Depends(get_engine)`), a Celery/Dramatiq task; unless "
            "the engine is kept (returned, yielded, stored on an object, in a container or a "
            "global). Module level, lifespan and startup code, `@lru_cache`/`@cache` factories, "
            "context managers, tests and migrations are not reported, and neither are plain "
            "functions, since bex cannot tell how often they run."
        ),
        why=(
            "An engine owns a connection pool. Making one per call throws the pool away every "
            "time: each request pays a fresh TCP and TLS handshake and authentication, the "
            "pool's connections are left for the garbage collector to close, and under load "
            "the database runs out of connection slots. It also re-parses the URL and dialect "
            "on every call."
        ),
        use_instead=(
            "Create the engine once at import time or in the app's lifespan and reach it "
            "through a dependency, or wrap its creation in `@functools.lru_cache` so every "
            "caller shares one engine (and its pool)."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage",
            "https://docs.sqlalchemy.org/en/20/core/pooling.html",
        ),
    )
    fire = (
        Example(
            title="an engine per request, and one per dependency call",
            code="""\
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

app = FastAPI()


@app.get("/health")
def health(url: str = "sqlite://") -> dict:
    engine = create_engine(url)  # flagged
    with engine.connect() as connection:
        connection.execute(text("select 1"))
    return {"ok": True}


def get_session():
    with Session(create_engine("sqlite://")) as session:  # flagged
        yield session


@app.get("/users/count")
def count_users(session: Session = Depends(get_session)) -> int:
    return session.execute(text("select count(*) from users")).scalar_one()
""",
        ),
    )
    clean = (
        Example(
            title="near miss: module scope, lifespan, a cached factory, an engine handed on",
            code="""\
from contextlib import asynccontextmanager
from functools import lru_cache

from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_engine("sqlite://")


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.engine = create_async_engine("sqlite+aiosqlite://")
    yield
    await app.state.engine.dispose()


@lru_cache
def get_engine():
    return create_engine("sqlite://")


def engine_for(url: str):
    built = create_engine(url, pool_pre_ping=True)
    return built


class Database:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)


def check(url: str) -> None:
    probe = create_engine(url)  # a helper: how often it runs is not known
    probe.connect().close()
    probe.dispose()
""",
        ),
    )

    @visit_call("create_engine", "create_async_engine")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        name = called_name(node)
        if name not in ("create_engine", "create_async_engine"):
            return
        function = ctx.enclosing_function()
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        if (ctx.qualname(func) or "") not in ENGINE_FACTORIES or skipped_path(ctx):
            return
        decorators = _decorator_names(function)
        route = fastapi_route(function, ctx) is not None or bool(decorators & PER_CALL_DECORATORS)
        if not route and function.name not in _dependencies(ctx):
            return  # how often a plain function runs is not known: not reported
        if decorators & ONCE_DECORATORS or _kept(node, function, ctx):
            return
        kind = last(ctx.qualname(func))
        where = "a route handler" if route else f"the dependency `{function.name}()`"
        ctx.report(
            node,
            f"`{kind}()` inside {where} builds a new engine and connection pool on every "
            "call; create it once (module level, lifespan, or an `@lru_cache` factory) and "
            "share it",
        )


def _dependencies(ctx: FileContext) -> frozenset[str]:
    """Names of this module's functions used as `Depends(name)` (they run per request)."""
    cache = ctx.__dict__.setdefault("_bex306", {})
    if "names" not in cache:
        found = set()
        tree = ctx.source.tree
        for node in ast.walk(tree) if tree is not None and "Depends" in ctx.source.text else ():
            if (
                isinstance(node, ast.Call)
                and node.args
                and isinstance(node.args[0], ast.Name)
                and (ctx.qualname(node.func) or "").endswith(".Depends")
            ):
                found.add(node.args[0].id)
        cache["names"] = frozenset(found)
    return cache["names"]
