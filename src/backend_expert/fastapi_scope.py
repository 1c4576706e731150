"""Is the code being checked run once per request? The module-level function around a node,
and whether the route table says it is a route handler, a dependency or a route's callee."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.fastapi_routes import dependency_functions, route_callees, route_handlers

if TYPE_CHECKING:
    from backend_expert.check import FileContext

CACHE_DECORATORS = frozenset(
    {"functools.lru_cache", "functools.cache", "async_lru.alru_cache", "cachetools.cached"}
)
LIFESPAN_DECORATORS = frozenset({"contextlib.asynccontextmanager", "contextlib.contextmanager"})


def top_function(ctx: FileContext) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The module-level function the current node is in (through nested defs)."""
    ancestors = ctx.ancestors
    if len(ancestors) > 1 and isinstance(ancestors[1], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return ancestors[1]
    return None


def decorator_names(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> set[str]:
    names = set()
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        names.add(ctx.qualname(target) or "")
    return names


def is_cached(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    return bool(decorator_names(function, ctx) & CACHE_DECORATORS)


def per_request_role(function: ast.AST | None, ctx: FileContext) -> str | None:
    """ "route", "dependency" or "callee" when the module-level function runs per request."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    qualname = f"{ctx.module}.{function.name}"
    project = ctx.project
    if qualname in route_handlers(project):
        return "route"
    if qualname in dependency_functions(project):
        return "dependency"
    if qualname in route_callees(project):
        return "callee"
    return None
