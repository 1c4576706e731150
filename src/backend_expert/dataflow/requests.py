"""Where request data enters a function: route parameters and request attributes."""

from __future__ import annotations

import ast

from backend_expert.dataflow.known import (
    CONTAINER_TYPES,
    ENUM_BASES,
    FLASK_APPS,
    FLASK_REQUEST,
    NON_DATA_TYPES,
    NUMERIC_TYPES,
    REQUEST_TYPES,
)
from backend_expert.dataflow.model import Kind, Source
from backend_expert.dataflow.util import (
    _function_label,
    _is_ellipsis,
)
from backend_expert.index import dotted
from backend_expert.infer import unwrap_annotation
from backend_expert.web import fastapi_route


class RequestMixin:
    """Parameters of routes, request objects and their typed annotations."""

    def _param_source(self, name: str) -> Source:
        function = self.function
        assert function is not None and self.scope is not None
        arg = self.scope.params[name]
        label = _function_label(function)
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        if positional and positional[0] is arg and name in ("self", "cls", "mcs"):
            return Source(Kind.UNKNOWN, f"`{name}`", arg)
        if self._is_request_object(ast.Name(id=name, ctx=ast.Load())):
            return Source(Kind.UNKNOWN, f"the request object `{name}`", arg)
        typed = self._annotation_kind(arg.annotation)
        if typed is not None:
            return Source(typed, f"parameter `{name}` of {label} (typed)", arg)
        route = self._route_info()
        if route is not None:
            _framework, injected = route
            if name not in injected:
                return Source(Kind.REQUEST, f"request parameter `{name}` of route {label}", arg)
            return Source(Kind.UNKNOWN, f"`{name}` (injected into {label})", arg)
        return Source(Kind.PARAMETER, f"parameter `{name}` of {label}", arg)

    def _annotation_kind(self, annotation: ast.AST | None) -> Kind | None:
        """CONSTANT for numbers/dates, SAFE_IDENTIFIER for enums and literals, else None."""
        node = unwrap_annotation(annotation)
        if node is None:
            return None
        if isinstance(node, ast.Subscript):
            head = (dotted(node.value) or "").rpartition(".")[2]
            if head == "Literal":
                return Kind.SAFE_IDENTIFIER
            if head in CONTAINER_TYPES:
                inner = node.slice
                elements = inner.elts if isinstance(inner, ast.Tuple) else [inner]
                kinds = [self._annotation_kind(e) for e in elements if not _is_ellipsis(e)]
                if kinds and all(k is not None for k in kinds):
                    return max(kinds)  # type: ignore[type-var]
            return None
        if isinstance(node, ast.Call):  # conint(...), constr(...) stays unknown
            head = (dotted(node.func) or "").rpartition(".")[2]
            return Kind.CONSTANT if head in ("conint", "confloat", "condecimal") else None
        name = dotted(node)
        if name is None:
            return None
        if name.rpartition(".")[2] in NUMERIC_TYPES:
            return Kind.CONSTANT
        qualified = self.ctx.inference.annotation_type(node)
        if qualified and self.ctx.project.is_subclass(qualified, ENUM_BASES):
            return Kind.SAFE_IDENTIFIER
        return None

    def _route_info(self) -> tuple[str, set[str]] | None:
        """(framework, names of injected parameters) when the function is an HTTP route."""
        if self._route is not False:
            return self._route  # type: ignore[return-value]
        self._route = None
        function = self.function
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        if fastapi_route(function, self.ctx) is not None:
            self._route = ("fastapi", self._injected_params(function))
        elif self._flask_route(function):
            self._route = ("flask", self._injected_params(function))
        return self._route  # type: ignore[return-value]

    def _flask_route(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        for decorator in function.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and decorator.func.attr in ("route", "get", "post", "put", "patch", "delete")
            ):
                kind = self.ctx.type_of(decorator.func.value)
                if kind in FLASK_APPS or (kind and self.ctx.project.is_subclass(kind, FLASK_APPS)):
                    return True
        return False

    def _injected_params(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        """Route parameters the framework fills from elsewhere than the request data."""
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        defaults: dict[str, ast.AST] = {}
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
        ):
            defaults[arg.arg] = default
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if default is not None:
                defaults[arg.arg] = default
        injected: set[str] = set()
        for arg in (*positional, *args.kwonlyargs):
            marker = [defaults.get(arg.arg), arg.annotation]
            text = " ".join(ast.unparse(m) for m in marker if m is not None)
            if "Depends(" in text or "Security(" in text:
                injected.add(arg.arg)
                continue
            kind = self.ctx.inference.annotation_type(arg.annotation)
            if kind and (kind in REQUEST_TYPES or kind.startswith(NON_DATA_TYPES)):
                injected.add(arg.arg)
        return injected

    def _is_request_object(self, node: ast.AST) -> bool:
        """`request` in a view, a Starlette `Request` parameter, or Flask's `request` global."""
        if isinstance(node, ast.Call):  # `request.get_json()` is not a request object
            return False
        if (  # `self.request` in Django class-based views and DRF viewsets
            isinstance(node, ast.Attribute)
            and node.attr == "request"
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        ):
            return True
        qualified = self.ctx.qualname(node)
        if qualified in FLASK_REQUEST:
            return True
        if not isinstance(node, ast.Name) or self.scope is None:
            return False
        arg = self.scope.params.get(node.id)
        if arg is None:
            return False
        if node.id in ("request", "req"):
            return True
        return self.ctx.inference.annotation_type(arg.annotation) in REQUEST_TYPES
