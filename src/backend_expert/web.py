"""Recognising HTTP entry points: the FastAPI/Starlette application objects and their routes.

Shared by every rule that asks "is this function a route?". Ownership is judged
by what the decorated object holds (`ctx.type_of`), so a user's own class with a
`get` method is never taken for a router.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.check import FileContext

APP_TYPES = frozenset(
    {"fastapi.FastAPI", "fastapi.APIRouter", "starlette.Starlette", "starlette.Router"}
)
ROUTE_DECORATORS = {
    "get": ("GET",),
    "post": ("POST",),
    "put": ("PUT",),
    "patch": ("PATCH",),
    "delete": ("DELETE",),
    "head": ("HEAD",),
    "options": ("OPTIONS",),
    "trace": ("TRACE",),
    "api_route": (),
    "route": (),
    "websocket": ("WEBSOCKET",),
}
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_TYPES = frozenset({"starlette.requests.Request"})


def is_app_object(node: ast.AST, ctx: FileContext) -> bool:
    """True when `node` holds a FastAPI/Starlette application or router (or a subclass of one)."""
    kind = ctx.type_of(node)
    return kind is not None and (kind in APP_TYPES or ctx.project.is_subclass(kind, APP_TYPES))


@dataclass(frozen=True)
class Route:
    function: ast.FunctionDef | ast.AsyncFunctionDef
    decorator: ast.Call
    methods: tuple[str, ...]
    path: str | None
    has_response_model: bool


def fastapi_route(function: ast.AST, ctx: FileContext) -> Route | None:
    """The route a function is registered as, when one of its decorators is `@app.<method>(...)`."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            continue
        methods = ROUTE_DECORATORS.get(decorator.func.attr)
        if methods is None or not is_app_object(decorator.func.value, ctx):
            continue
        keywords = {kw.arg: kw.value for kw in decorator.keywords if kw.arg}
        if not methods and isinstance(keywords.get("methods"), (ast.List, ast.Tuple, ast.Set)):
            methods = tuple(
                e.value.upper()
                for e in keywords["methods"].elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            )
        path = (
            decorator.args[0].value
            if decorator.args and isinstance(decorator.args[0], ast.Constant)
            else None
        )
        has_model = "response_model" in keywords or function.returns is not None
        return Route(
            function,
            decorator,
            methods or ("GET",),
            path if isinstance(path, str) else None,
            has_model,
        )
    return None


def request_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> set[str]:
    """Names of the parameters annotated as a Starlette/FastAPI `Request`."""
    names = set()
    args = function.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        if ctx.inference.annotation_type(arg.annotation) in REQUEST_TYPES:
            names.add(arg.arg)
    return names
