"""Recognising HTTP entry points: the FastAPI/Starlette application objects and their routes.

Shared by every rule that asks "is this function a route?". Ownership is judged
by what the decorated object holds (`ctx.type_of`), so a user's own class with a
`get` method is never taken for a router.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend_expert.index import dotted
from backend_expert.infer import unwrap_annotation

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
    return kind is not None and (
        kind in APP_TYPES
        or ctx.project.is_subclass(kind, APP_TYPES)
        or _factory_built_app_class(kind, ctx)
    )


def _factory_built_app_class(kind: str, ctx: FileContext) -> bool:
    """`APIRouter = make_router_class(...)`: a project name spelled like FastAPI's classes that
    a class factory builds (a router with a custom route class), in a project that uses FastAPI."""
    return (
        kind.rpartition(".")[2] in ("APIRouter", "FastAPI")
        and ctx.project.assigned_call(kind) is not None
        and "fastapi" in ctx.project.frameworks
    )


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


# --- route parameters --------------------------------------------------------------------------

# FastAPI's parameter functions: what a parameter is filled from when one of them is its default
# or sits in its `Annotated[...]` metadata.
PARAMETER_SOURCES = {
    "Depends": "dependency",
    "Security": "dependency",
    "Query": "query",
    "Path": "path",
    "Header": "header",
    "Cookie": "cookie",
    "Body": "body",
    "Form": "form",
    "File": "file",
}
# Annotations FastAPI reads from the body as a free-form JSON object (no schema).
FREE_FORM_BODY_TYPES = frozenset(
    {
        "builtins.dict",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
    }
)
ANY_TYPES = frozenset({"typing.Any", "typing_extensions.Any"})


def route_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> list[tuple[ast.arg, ast.expr | None]]:
    """Every named parameter of a function with its default (None when it has none)."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults.extend(args.defaults)
    pairs = list(zip(positional, defaults, strict=True))
    pairs.extend(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    return pairs


def _fastapi_marker(node: ast.AST | None, ctx: FileContext) -> tuple[str, ast.Call] | None:
    if not isinstance(node, ast.Call):
        return None
    name = ctx.qualname(node.func)
    if name is None or not name.startswith(("fastapi.", "starlette.")):
        return None
    source = PARAMETER_SOURCES.get(name.rpartition(".")[2])
    return (source, node) if source else None


def parameter_marker(
    arg: ast.arg, default: ast.expr | None, ctx: FileContext
) -> tuple[str, ast.Call] | None:
    """Where FastAPI fills a parameter from, when a parameter function says so.

    Returns ("dependency" | "query" | "path" | "header" | "cookie" | "body" | "form" | "file",
    the `Depends(...)`/`Query(...)`... call), from the default or from `Annotated[T, marker]`.
    """
    found = _fastapi_marker(default, ctx)
    if found:
        return found
    annotation = arg.annotation
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if (
        isinstance(annotation, ast.Subscript)
        and (dotted_head := ctx.qualname(annotation.value))
        and dotted_head.rpartition(".")[2] == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        for metadata in annotation.slice.elts[1:]:
            found = _fastapi_marker(metadata, ctx)
            if found:
                return found
    return None


def dependency_name(arg: ast.arg, default: ast.expr | None, ctx: FileContext) -> str | None:
    """The dotted name of the callable a `Depends(f)` parameter is obtained from (`get_db`)."""
    marker = parameter_marker(arg, default, ctx)
    if marker is None or marker[0] != "dependency":
        return None
    call = marker[1]
    target = (
        call.args[0]
        if call.args
        else next((kw.value for kw in call.keywords if kw.arg == "dependency"), None)
    )
    if target is None:
        return None
    if isinstance(target, ast.Call):  # Depends(Factory(...)): an instance whose __call__ runs
        target = target.func
    return dotted(target)


def free_form_body_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> dict[str, ast.arg]:
    """Parameters FastAPI fills with the request's JSON body *without a schema*.

    That is a parameter annotated `dict`, `Dict[str, Any]`, `dict[str, Any]` or `Mapping` (bare,
    or with `Any`/`object`/an untyped mapping as the value type) with no parameter function or
    with `Body()`, and one annotated `Any` with `Body()`. A bare `Any` is a query parameter for
    FastAPI; `Depends()`, `Query()`, `Form()`... take the value elsewhere; `dict[str, int]` is
    validated value by value (free keys are then a design choice: labels, settings).
    """
    found: dict[str, ast.arg] = {}
    for arg, default in route_parameters(function):
        kind = ctx.inference.annotation_type(arg.annotation)
        if kind is None:
            continue
        marker = parameter_marker(arg, default, ctx)
        if marker is not None and marker[0] != "body":
            continue
        if (kind in FREE_FORM_BODY_TYPES and _untyped_values(arg.annotation, ctx)) or (
            kind in ANY_TYPES and marker is not None
        ):
            found[arg.arg] = arg
    return found


def _untyped_values(annotation: ast.AST | None, ctx: FileContext) -> bool:
    """A mapping annotation whose values are not described: bare, or `[K, Any]`/`[K, object]`/
    `[K, dict]`."""
    node = unwrap_annotation(annotation)
    if not isinstance(node, ast.Subscript):
        return True
    arguments = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if len(arguments) != 2:
        return True
    value = ctx.inference.annotation_type(arguments[1])
    if value in ANY_TYPES or value == "builtins.object":
        return True
    return value in FREE_FORM_BODY_TYPES and not isinstance(
        unwrap_annotation(arguments[1]), ast.Subscript
    )


# Types FastAPI fills from the request itself or from the framework, never from the body.
FRAMEWORK_PARAMETER_TYPES = frozenset(
    {
        "starlette.requests.Request",
        "starlette.requests.HTTPConnection",
        "starlette.websockets.WebSocket",
        "fastapi.WebSocket",
        "fastapi.BackgroundTasks",
        "fastapi.background.BackgroundTasks",
        "starlette.background.BackgroundTasks",
        "fastapi.Response",
        "fastapi.responses.Response",
        "starlette.responses.Response",
        "fastapi.security.SecurityScopes",
    }
)


def _through_alias(arg: ast.arg, ctx: FileContext) -> bool:
    """`user: CurrentUser` where `CurrentUser = Annotated[User, Depends(...)]` elsewhere: the
    project model keeps the alias's type but not its metadata, so where it comes from is unknown."""
    node = unwrap_annotation(arg.annotation)
    name = ctx.qualname(node) if node is not None else None
    return name is not None and ctx.project.alias_target(name) is not None


ENUM_TYPES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})


def body_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> dict[str, ast.arg]:
    """Parameters FastAPI reads from the request body, as far as bex can tell.

    `Body()`-marked parameters, and unmarked ones annotated with a mapping type or a project
    class (a Pydantic model or dataclass). When there are several, each one is a field of the
    JSON body object. Unknown third-party types are left out: they may be anything.
    """
    found: dict[str, ast.arg] = {}
    for arg, default in route_parameters(function):
        marker = parameter_marker(arg, default, ctx)
        if marker is not None:
            if marker[0] == "body":
                found[arg.arg] = arg
            continue
        kind = ctx.inference.annotation_type(arg.annotation)
        if kind is None or kind in FRAMEWORK_PARAMETER_TYPES or _through_alias(arg, ctx):
            continue
        if kind in FREE_FORM_BODY_TYPES or (
            ctx.project.class_facts(kind) is not None
            and not ctx.project.is_subclass(kind, ENUM_TYPES)  # enums are query parameters
        ):
            found[arg.arg] = arg
    return found
