"""Per-file facts for the architecture model: routes, app objects, URL paths, module-level imports.

Collected in the index stage next to the other facts (cheap: top-level statements and
function bodies only, no expression walk) and cached with them. Line numbers are kept
for reports but left out of the digest, as with the Django settings facts: editing a
function body must not change the project model.

What is recorded is what a route inventory needs and the per-file facts do not hold:
the path and methods of decorator-registered routes (FastAPI, Starlette, Flask), the
names of their dependencies and decorators (auth evidence), router-level dependencies,
`include_router` wiring, Flask `before_request` hooks, app objects created at module level
or inside a factory function, Django `path()` strings, and which imports sit at module level
(an import cycle only hurts when both imports run at import time).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from backend_expert.index import dotted
from backend_expert.web import ROUTE_DECORATORS

APP_CONSTRUCTORS = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "flask.Flask",
        "flask.app.Flask",
        "starlette.applications.Starlette",
        "quart.Quart",
    }
)
URL_FUNCTIONS = frozenset({"path", "re_path", "url"})


@dataclass(frozen=True)
class RouteFact:
    """A function registered with `@owner.attr(path, ...)`; `owner` qualified as written."""

    owner: str
    attr: str
    methods: tuple[str, ...]
    path: str | None
    handler: str
    dependencies: tuple[str, ...] = ()  # Depends()/Security() targets, `dependencies=[...]`
    annotations: tuple[str, ...] = ()  # qualified annotations of parameters without a default
    parameters: tuple[str, ...] = ()  # names of parameters filled by Depends/Security
    decorators: tuple[str, ...] = ()  # the other decorators, qualified
    response_model: str | None = None
    is_async: bool = False
    line: int = 0

    def key(self) -> tuple:
        return (
            self.owner,
            self.attr,
            self.methods,
            self.path,
            self.handler,
            self.dependencies,
            self.annotations,
            self.parameters,
            self.decorators,
            self.response_model,
            self.is_async,
        )


@dataclass(frozen=True)
class AppFact:
    """`name = Flask(...)` / `FastAPI(...)`: `scope` is "" at module level, else the function."""

    callee: str
    name: str
    scope: str
    dependencies: tuple[str, ...] = ()
    line: int = 0

    def key(self) -> tuple:
        return (self.callee, self.name, self.scope, self.dependencies)


@dataclass(frozen=True)
class ArchFacts:
    routes: tuple[RouteFact, ...] = ()
    apps: tuple[AppFact, ...] = ()
    # Module-level routers: (name, prefix, dependencies); includes: (parent, child, prefix, deps).
    routers: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    includes: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
    hooks: tuple[tuple[str, str], ...] = ()  # (owner, function) of `@owner.before_request`
    urls: tuple[tuple[str, str], ...] = ()  # Django (route string, qualified view)
    url_includes: tuple[tuple[str, str], ...] = ()  # Django (prefix, included URLconf module)
    top_imports: tuple[str, ...] = ()  # modules/names imported at module level, at run time
    creates_tables: bool = False  # `metadata.create_all(...)` somewhere in the module
    # Where things are written, for reports (not part of the digest): imported name -> line,
    # and the line of each Django URL in `urls`.
    import_lines: tuple[tuple[str, int], ...] = ()
    url_lines: tuple[int, ...] = ()

    def line_of_import(self, name: str) -> int:
        """The line importing `name` or something inside it (1 when unknown)."""
        for imported, line in self.import_lines:
            if imported == name or imported.startswith(name + "."):
                return line
        return 1

    def key(self) -> tuple:
        return (
            tuple(r.key() for r in self.routes),
            tuple(a.key() for a in self.apps),
            self.routers,
            self.includes,
            self.hooks,
            self.urls,
            self.url_includes,
            self.top_imports,
            self.creates_tables,
        )

    def __bool__(self) -> bool:
        return any(self.key())


def collect_arch_facts(tree: ast.Module, collector) -> ArchFacts | None:
    """The architecture facts of one module; `collector` is the index's `_FactCollector`."""
    state = _State(collector)
    state.module(tree.body)
    facts = ArchFacts(
        routes=tuple(state.routes),
        apps=tuple(state.apps),
        routers=tuple(state.routers),
        includes=tuple(state.includes),
        hooks=tuple(state.hooks),
        urls=tuple(state.urls),
        url_includes=tuple(state.url_includes),
        top_imports=tuple(sorted(state.top_imports)),
        creates_tables=state.creates_tables,
        import_lines=tuple(state.import_lines),
        url_lines=tuple(state.url_lines),
    )
    return facts if facts else None


class _State:
    def __init__(self, collector) -> None:
        self.collector = collector
        self.routes: list[RouteFact] = []
        self.apps: list[AppFact] = []
        self.routers: list[tuple[str, str, tuple[str, ...]]] = []
        self.includes: list[tuple[str, str, str, tuple[str, ...]]] = []
        self.hooks: list[tuple[str, str]] = []
        self.urls: list[tuple[str, str]] = []
        self.url_includes: list[tuple[str, str]] = []
        self.top_imports: set[str] = set()
        self.creates_tables = False
        self.import_lines: list[tuple[str, int]] = []
        self.drf_routers: set[str] = set()
        self.url_lines: list[int] = []

    def qualify(self, node: ast.AST) -> str | None:
        return self.collector.qualify(node)

    # --- statements -------------------------------------------------------------------------

    def module(self, body: list[ast.stmt]) -> None:
        for stmt in _block(body, skip_type_checking=True):
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.imports(stmt)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function(stmt, scope="")
            elif isinstance(stmt, ast.ClassDef):
                continue
            else:
                self.statement(stmt, scope="")

    def imports(self, stmt: ast.Import | ast.ImportFrom, top: bool = True) -> None:
        names = self.imported_names(stmt)
        self.import_lines.extend((name, stmt.lineno) for name in names)
        if top:
            self.top_imports.update(names)

    def imported_names(self, stmt: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(stmt, ast.Import):
            return [alias.name for alias in stmt.names]
        source = (
            self.collector.resolve_relative(stmt.level, stmt.module)
            if stmt.level
            else (stmt.module or "")
        )
        names = [source] if source else []
        names.extend(f"{source}.{a.name}" for a in stmt.names if a.name != "*" and source)
        return names

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str) -> None:
        for decorator in node.decorator_list:
            self.decorated(node, decorator)
        inner_scope = scope or node.name
        for stmt in _block(node.body):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function(stmt, inner_scope)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.imports(stmt, top=False)
            elif not isinstance(stmt, ast.ClassDef):
                self.statement(stmt, inner_scope)

    def statement(self, stmt: ast.stmt, scope: str) -> None:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self.assigned(target.id, value, scope, stmt)
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and not scope:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == "urlpatterns" for t in targets):
                self.url_patterns(value)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self.call(stmt.value)

    def assigned(self, name: str, call: ast.Call, scope: str, stmt: ast.stmt) -> None:
        callee = self.qualify(call.func) or ""
        if callee in APP_CONSTRUCTORS or callee.endswith((".FastAPI", ".Flask")):
            deps = self.dependency_list(call)
            self.apps.append(AppFact(callee, name, scope, deps, stmt.lineno))
        elif callee.endswith("APIRouter") and not scope:
            self.routers.append((name, _prefix(call), self.dependency_list(call)))
        elif callee.startswith("rest_framework") and callee.endswith("Router"):
            self.drf_routers.add(name)
        self.call(call)

    def call(self, call: ast.Call) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr == "create_all":
            self.creates_tables = True
        elif func.attr == "include_router" and call.args:
            parent = self.qualify(func.value)
            child = dotted(call.args[0]) and self.qualify(call.args[0])
            if parent and child:
                self.includes.append((parent, child, _prefix(call), self.dependency_list(call)))
        elif (
            func.attr == "register"
            and len(call.args) >= 2
            and isinstance(func.value, ast.Name)
            and func.value.id in self.drf_routers
        ):  # `router.register("orders", OrderViewSet)` on a DRF router
            prefix, view = call.args[0], call.args[1]
            qualified = self.qualify(view) if isinstance(view, (ast.Name, ast.Attribute)) else None
            if isinstance(prefix, ast.Constant) and isinstance(prefix.value, str) and qualified:
                self.urls.append((prefix.value, qualified))
                self.url_lines.append(call.lineno)
        elif func.attr == "register_blueprint" and call.args:
            parent = self.qualify(func.value)
            child = dotted(call.args[0]) and self.qualify(call.args[0])
            if parent and child:
                self.includes.append((parent, child, _prefix(call, "url_prefix"), ()))

    # --- routes -----------------------------------------------------------------------------

    def decorated(self, node: ast.FunctionDef | ast.AsyncFunctionDef, decorator: ast.AST) -> None:
        if isinstance(decorator, ast.Attribute) and decorator.attr == "before_request":
            owner = self.qualify(decorator.value)
            if owner:
                self.hooks.append((owner, node.name))
            return
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            return
        attr = decorator.func.attr
        if attr not in ROUTE_DECORATORS:
            return
        owner = self.qualify(decorator.func.value)
        path = _route_path(decorator)
        if owner is None or path is None:
            return
        keywords = {kw.arg: kw.value for kw in decorator.keywords if kw.arg}
        methods = ROUTE_DECORATORS[attr]
        if not methods and isinstance(keywords.get("methods"), (ast.List, ast.Tuple, ast.Set)):
            methods = tuple(
                e.value.upper()
                for e in keywords["methods"].elts  # type: ignore[union-attr]
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            )
        dependencies, parameters, annotations = self.parameters(node)
        others = tuple(
            name
            for d in node.decorator_list
            if d is not decorator
            and (name := self.qualify(d.func if isinstance(d, ast.Call) else d))
        )
        model = keywords.get("response_model")
        response = (self.render(model) if model is not None else None) or (
            self.render(node.returns) if node.returns is not None else None
        )
        self.routes.append(
            RouteFact(
                owner=owner,
                attr=attr,
                methods=methods or ("GET",),
                path=path,
                handler=node.name,
                dependencies=(*self.dependency_list(decorator), *dependencies),
                annotations=annotations,
                parameters=parameters,
                decorators=others,
                response_model=response,
                is_async=isinstance(node, ast.AsyncFunctionDef),
                line=node.lineno,
            )
        )

    def parameters(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        pairs = [
            *zip(positional, defaults, strict=True),
            *zip(args.kwonlyargs, args.kw_defaults, strict=True),
        ]
        dependencies: list[str] = []
        names: list[str] = []
        annotations: list[str] = []
        for arg, default in pairs:
            found = self.marker(default)
            annotation = arg.annotation
            if found is None and isinstance(annotation, ast.Subscript):
                head = self.qualify(annotation.value) or ""
                if head.endswith("Annotated") and isinstance(annotation.slice, ast.Tuple):
                    found = next(
                        (m for m in map(self.marker, annotation.slice.elts[1:]) if m), None
                    )
            if found is not None:
                dependencies.append(found)
                names.append(arg.arg)
            elif annotation is not None and (name := self.qualify(annotation)):
                annotations.append(name)
        return tuple(dependencies), tuple(names), tuple(annotations)

    def marker(self, node: ast.AST | None) -> str | None:
        """`Depends(f)` -> the qualified f; `Security(f)` -> "Security:" + f."""
        if not isinstance(node, ast.Call):
            return None
        name = (self.qualify(node.func) or "").rpartition(".")[2]
        if name not in ("Depends", "Security"):
            return None
        target = node.args[0] if node.args else None
        target = next((k.value for k in node.keywords if k.arg == "dependency"), target)
        if isinstance(target, ast.Call):
            target = target.func
        qualified = (self.qualify(target) if target is not None else None) or "?"
        return f"Security:{qualified}" if name == "Security" else qualified

    def dependency_list(self, call: ast.Call) -> tuple[str, ...]:
        value = next((k.value for k in call.keywords if k.arg == "dependencies"), None)
        if not isinstance(value, (ast.List, ast.Tuple)):
            return ()
        return tuple(found for item in value.elts if (found := self.marker(item)))

    def render(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and node.value is None:
            return None
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.qualify(node)
        text = ast.unparse(node)
        return text if len(text) <= 120 else text[:117] + "..."

    # --- Django URLs -------------------------------------------------------------------------

    def url_patterns(self, value: ast.AST | None) -> None:
        stack = [value] if value is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.List, ast.Tuple)):
                stack.extend(node.elts)
            elif isinstance(node, ast.BinOp):
                stack.extend((node.left, node.right))
            elif isinstance(node, ast.Call):
                name = (dotted(node.func) or "").rpartition(".")[2]
                if name in URL_FUNCTIONS and len(node.args) >= 2:
                    route = node.args[0]
                    text = route.value if isinstance(route, ast.Constant) else None
                    included = _included(node.args[1])
                    if isinstance(text, str) and included:
                        self.url_includes.append((text, included))
                        continue
                    view = _view_target(node.args[1])
                    qualified = self.qualify(view) if view is not None else None
                    if isinstance(text, str) and qualified:
                        self.urls.append((text, qualified))
                        self.url_lines.append(node.lineno)
                elif name not in URL_FUNCTIONS:
                    stack.extend(node.args)


def _prefix(call: ast.Call, keyword: str = "prefix") -> str:
    value = next((k.value for k in call.keywords if k.arg == keyword), None)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else ""


def _route_path(decorator: ast.Call) -> str | None:
    first = decorator.args[0] if decorator.args else None
    first = next((k.value for k in decorator.keywords if k.arg in ("path", "rule")), first)
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _included(view: ast.AST) -> str | None:
    """`include("shop.urls")` / `include(("shop.urls", "shop"))` -> "shop.urls"."""
    if not (isinstance(view, ast.Call) and (dotted(view.func) or "").endswith("include")):
        return None
    first = view.args[0] if view.args else None
    if isinstance(first, ast.Tuple) and first.elts:
        first = first.elts[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def _view_target(view: ast.AST) -> ast.AST | None:
    for _ in range(6):
        if not isinstance(view, ast.Call):
            break
        func = view.func
        if isinstance(func, ast.Attribute) and func.attr == "as_view":
            return func.value
        if (dotted(func) or "").rpartition(".")[2] == "include" or not view.args:
            return None
        view = view.args[0]
    return view if isinstance(view, (ast.Name, ast.Attribute)) else None


def _block(body: Iterable[ast.stmt], skip_type_checking: bool = False) -> Iterator[ast.stmt]:
    """Statements of a block, into if/try/with but not into defs; `if TYPE_CHECKING:` skipped."""
    for stmt in body:
        if isinstance(stmt, ast.If) and skip_type_checking and _type_checking(stmt.test):
            yield from _block(stmt.orelse, skip_type_checking)
            continue
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)) or (
            type(stmt).__name__ == "TryStar"
        ):
            for name in ("body", "orelse", "finalbody"):
                yield from _block(getattr(stmt, name, ()), skip_type_checking)
            for handler in getattr(stmt, "handlers", ()):
                yield from _block(handler.body, skip_type_checking)


def _type_checking(test: ast.AST) -> bool:
    """`if TYPE_CHECKING:`, `if typing.TYPE_CHECKING:`, `if TYPE_CHECKING is True:`."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        other = test.comparators[0]
        if isinstance(test.ops[0], (ast.Is, ast.Eq)) and isinstance(other, ast.Constant):
            return other.value is True and _type_checking(test.left)
        return False
    return (dotted(test) or "").rpartition(".")[2] == "TYPE_CHECKING"
