"""Flask facts gathered while indexing: apps, blueprints, raw route registrations, view classes.

Called from `index.collect_facts` (one pass over a module's statements, not its expressions);
`flask_web.py` merges them into the project's route inventory.
"""

from __future__ import annotations

import ast
import re
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.index import _FactCollector

APP_CLASSES = frozenset({"flask.Flask", "flask.app.Flask", "apiflask.APIFlask", "quart.Quart"})
BLUEPRINT_CLASSES = frozenset(
    {"flask.Blueprint", "flask.blueprints.Blueprint", "apiflask.APIBlueprint", "quart.Blueprint"}
)
API_CLASSES = frozenset({"flask_restful.Api", "flask_restx.Api", "flask_smorest.Api"})
VIEW_BASES = frozenset(
    {
        "flask.views.MethodView",
        "flask.views.View",
        "flask_restful.Resource",
        "flask_restx.Resource",
    }
)
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
VERB_DECORATORS = {verb: (verb.upper(),) for verb in ("get", "post", "put", "patch", "delete")}
# Decorator names that guard a route with authentication or authorisation.
AUTH_WORDS = re.compile(
    r"login|auth|permission|jwt_required|token_required|roles?_(?:required|accepted)|"
    r"admin_required|requires?_(?:user|admin|role|scope|perm|login)|protected",
    re.IGNORECASE,
)
_GATE = re.compile(
    r"\.route\(|add_url_rule\(|add_resource\(|Blueprint\(|Flask\(|^\s*@\w+\.(?:get|post|put|patch|delete)\(",
    re.M,
)


@dataclass(frozen=True)
class FlaskApp:
    name: str  # qualified: `pkg.app.app`, or `pkg.app.create_app.app` inside a factory
    file: str
    line: int
    factory: str | None  # the function that builds it, when not at module level


@dataclass(frozen=True)
class FlaskBlueprint:
    name: str  # qualified variable
    file: str
    line: int
    url_prefix: str | None
    guards: tuple[str, ...] = ()  # its `before_request` functions that look like auth checks


@dataclass(frozen=True)
class Route:
    """One URL rule bound to a handler (a function, or a class-based view)."""

    file: str
    line: int  # of the handler's `def`/`class` (or of the `add_url_rule` call)
    handler: str  # qualified function or view class
    methods: tuple[str, ...]  # upper-case; () when they cannot be read
    rule: str | None  # the URL rule as written
    owner: str | None  # qualified app/blueprint/api variable, None when it cannot be told
    owner_kind: str  # "app", "blueprint", "api" or "unknown"
    decorators: tuple[str, ...]  # the handler's other decorators (qualified when possible)
    auth: tuple[str, ...]  # those among them (and view-class decorators) that look like auth
    view_class: bool = False

    @property
    def mutating(self) -> bool:
        return bool({"POST", "PUT", "PATCH", "DELETE"} & set(self.methods))


@dataclass(frozen=True)
class _RawRoute:
    file: str
    line: int
    handler: str
    methods: tuple[str, ...]
    rule: str | None
    owner: str | None
    via: str  # "route", "verb", "add_url_rule", "add_resource"
    decorators: tuple[str, ...]
    view: str | None  # a view class whose methods and decorators decide


@dataclass(frozen=True)
class _View:
    name: str  # qualified class
    methods: tuple[tuple[str, tuple[str, ...]], ...]  # (http method, decorators)
    decorators: tuple[str, ...]  # the class-level `decorators = [...]`/`method_decorators`


@dataclass(frozen=True)
class FlaskFacts:
    apps: tuple[FlaskApp, ...] = ()
    blueprints: tuple[FlaskBlueprint, ...] = ()
    apis: tuple[str, ...] = ()
    routes: tuple[_RawRoute, ...] = ()
    views: tuple[_View, ...] = ()
    guards: tuple[tuple[str, str], ...] = ()  # (owner, before_request function)

    def key(self) -> tuple:
        return astuple(self)

    def __bool__(self) -> bool:
        return bool(self.apps or self.blueprints or self.apis or self.routes or self.views)


def looks_like_auth(name: str) -> bool:
    """A decorator that authenticates or authorises: by its name, or by the library it is from
    (flask-allows' `requires(...)` included)."""
    short = name.rpartition(".")[2] or name
    return (
        bool(AUTH_WORDS.search(short))
        or short in ("requires", "allows")
        or ".allows." in name
        or name.startswith(
            ("flask_login.", "flask_jwt_extended.", "flask_httpauth.", "flask_allows.")
        )
    )


class _Collector:
    def __init__(self, collector: _FactCollector, rel_path: str) -> None:
        self.c = collector
        self.path = rel_path
        self.apps: list[FlaskApp] = []
        self.blueprints: list[FlaskBlueprint] = []
        self.apis: list[str] = []
        self.routes: list[_RawRoute] = []
        self.views: list[_View] = []
        self.guards: list[tuple[str, str]] = []
        self.local: dict[str, str] = {}  # names bound in the current factory -> owner id
        self.params: set[str] = set()  # parameters of the function being read

    def owner(self, node: ast.AST, scope: str | None) -> str | None:
        if isinstance(node, ast.Name) and scope and node.id in self.local:
            return self.local[node.id]
        return self.c.qualify(node)

    def block(self, body: list[ast.stmt], scope: str | None) -> None:
        for stmt in body:
            self.statement(stmt, scope)

    def statement(self, stmt: ast.stmt, scope: str | None) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(stmt, scope)
            saved, saved_params = dict(self.local), self.params
            args = stmt.args
            self.params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            self.block(stmt.body, f"{scope or self.c.module}.{stmt.name}")
            self.local, self.params = saved, saved_params
        elif isinstance(stmt, ast.ClassDef):
            self.klass(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            self.assign(stmt, scope)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.call(stmt.value, scope)
        else:
            for name in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list):
                    self.block(inner, scope)
            for handler in getattr(stmt, "handlers", ()):
                self.block(handler.body, scope)

    def assign(self, stmt: ast.Assign | ast.AnnAssign, scope: str | None) -> None:
        value = stmt.value
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not isinstance(value, ast.Call) or not names:
            return
        callee = self.c.qualify(value.func) or ""
        prefix = scope or self.c.module
        for name in names:
            qualified = f"{prefix}.{name}"
            if callee in APP_CLASSES:
                self.apps.append(FlaskApp(qualified, self.path, stmt.lineno, scope))
            elif callee in BLUEPRINT_CLASSES:
                prefix_kw = _keyword(value, "url_prefix")
                self.blueprints.append(
                    FlaskBlueprint(qualified, self.path, stmt.lineno, _string(prefix_kw))
                )
            elif callee in API_CLASSES or callee.rpartition(".")[2] in ("Api", "ExternalApi"):
                self.apis.append(qualified)
            else:
                continue
            if scope:
                self.local[name] = qualified

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str | None) -> None:
        handler = f"{scope or self.c.module}.{node.name}"
        found = []
        others = []
        for decorator in node.decorator_list:
            route = _route_decorator(decorator)
            if route is not None:
                found.append((decorator, route))
            else:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = self.c.qualify(target) or ast.unparse(target)
                if isinstance(decorator, ast.Attribute) and decorator.attr == "before_request":
                    owner = self.owner(decorator.value, scope)
                    if owner:
                        self.guards.append((owner, handler))
                others.append(name)
        for decorator, (via, methods) in found:
            owner = self.owner(decorator.func.value, scope)  # type: ignore[attr-defined]
            rule = _string(decorator.args[0] if decorator.args else _keyword(decorator, "rule"))
            self.routes.append(
                _RawRoute(
                    self.path, node.lineno, handler, methods, rule, owner, via, tuple(others), None
                )
            )

    def call(self, call: ast.Call, scope: str | None) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            if isinstance(func, ast.Name) and call.args:
                self.helper_call(call, scope)
            return
        owner = self.owner(func.value, scope)
        if func.attr == "add_url_rule":
            rule = _string(call.args[0] if call.args else _keyword(call, "rule"))
            view = call.args[2] if len(call.args) > 2 else _keyword(call, "view_func")
            if view is None or (isinstance(view, ast.Name) and view.id in self.params):
                return  # a registration helper: its callers are read instead
            methods = _methods(_keyword(call, "methods"))
            view_class = None
            if (
                isinstance(view, ast.Call)
                and isinstance(view.func, ast.Attribute)
                and view.func.attr == "as_view"
            ):
                view_class = self.c.qualify(view.func.value)
                handler = view_class
            else:
                handler = self.c.qualify(view) or ast.unparse(view)
            self.routes.append(
                _RawRoute(
                    self.path, call.lineno, handler or "?", methods, rule, owner,
                    "add_url_rule", (), view_class,
                )
            )  # fmt: skip
        elif func.attr in ("add_resource", "add_org_resource") and call.args:
            resource = self.c.qualify(call.args[0])
            rules = [_string(a) for a in call.args[1:]] or [None]
            for rule in rules:
                self.routes.append(
                    _RawRoute(
                        self.path, call.lineno, resource or "?", (), rule, owner,
                        "add_resource", (), resource,
                    )
                )  # fmt: skip
        elif func.attr == "before_request" and call.args and owner:
            handler = self.c.qualify(call.args[0])
            if handler:
                self.guards.append((owner, handler))

    def helper_call(self, call: ast.Call, scope: str | None) -> None:
        """`register_view(bp, routes=["/a"], view_func=V.as_view("a"))`: a project helper
        wrapping `add_url_rule`, recognised by its `view_func=...as_view(...)` argument."""
        view = _keyword(call, "view_func")
        if not (
            isinstance(view, ast.Call)
            and isinstance(view.func, ast.Attribute)
            and view.func.attr == "as_view"
        ):
            return
        owner = self.owner(call.args[0], scope)
        routes = _keyword(call, "routes") or (call.args[1] if len(call.args) > 1 else None)
        items = routes.elts if isinstance(routes, (ast.List, ast.Tuple)) else [routes]
        view_class = self.c.qualify(view.func.value)
        for item in items:
            self.routes.append(
                _RawRoute(
                    self.path, call.lineno, view_class or "?", _methods(_keyword(call, "methods")),
                    _string(item), owner, "add_url_rule", (), view_class,
                )
            )  # fmt: skip

    def klass(self, node: ast.ClassDef) -> None:
        methods = []
        decorators: list[str] = []
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                stmt.name in HTTP_METHODS or stmt.name == "dispatch_request"
            ):
                names = tuple(
                    self.c.qualify(d.func if isinstance(d, ast.Call) else d) or ast.unparse(d)
                    for d in stmt.decorator_list
                )
                methods.append((stmt.name.upper(), names))
            elif isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("decorators", "method_decorators")
                for t in stmt.targets
            ):
                values = stmt.value
                items = values.elts if isinstance(values, (ast.List, ast.Tuple)) else []
                if isinstance(values, ast.Dict):
                    items = [
                        e
                        for v in values.values
                        if isinstance(v, (ast.List, ast.Tuple))
                        for e in v.elts
                    ]
                for item in items:
                    target = item.func if isinstance(item, ast.Call) else item
                    decorators.append(self.c.qualify(target) or ast.unparse(target))
        if methods or decorators:
            self.views.append(
                _View(f"{self.c.module}.{node.name}", tuple(methods), tuple(decorators))
            )

    def facts(self) -> FlaskFacts:
        return FlaskFacts(
            tuple(self.apps),
            tuple(self.blueprints),
            tuple(self.apis),
            tuple(self.routes),
            tuple(self.views),
            tuple(self.guards),
        )


def _route_decorator(decorator: ast.AST) -> tuple[str, tuple[str, ...]] | None:
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
        return None
    attr = decorator.func.attr
    if attr == "route":
        given = _keyword(decorator, "methods")
        return "route", _methods(given) if given is not None else ("GET",)
    if attr in VERB_DECORATORS:
        return "verb", VERB_DECORATORS[attr]
    return None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _methods(node: ast.AST | None) -> tuple[str, ...]:
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return ()
    found = [_string(e) for e in node.elts]
    if any(m is None for m in found):
        return ()
    return tuple(sorted({m.upper() for m in found if m}))


def collect_flask_facts(
    tree: ast.Module, rel_path: str, collector: _FactCollector, text: str | None
) -> FlaskFacts | None:
    """The Flask facts of one module (None when it has none)."""
    flaskish = any(
        m.partition(".")[0] in ("flask", "flask_restful", "flask_restx", "apiflask", "quart")
        for m in collector.imported
    )
    if not flaskish and (text is None or not _GATE.search(text)):
        return None
    state = _Collector(collector, rel_path)
    state.block(tree.body, None)
    facts = state.facts()
    return facts if facts else None
