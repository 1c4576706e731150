"""FastAPI facts of one module, collected in the index stage: router objects, routes,
`include_router` calls and the dependencies of functions.

Only modules that import FastAPI (or decorate functions with `@x.get(...)`-style calls)
pay for this. Names are qualified with the module's imports; lines are kept for reports
but left out of `key()`, so editing a function body does not change the project model.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backend_expert.index import dotted
from backend_expert.infer import BUILTIN_NAMES

ROUTE_METHODS = {
    "get": ("GET",),
    "post": ("POST",),
    "put": ("PUT",),
    "patch": ("PATCH",),
    "delete": ("DELETE",),
    "head": ("HEAD",),
    "options": ("OPTIONS",),
    "trace": ("TRACE",),
    "api_route": (),
    "websocket": ("WEBSOCKET",),
}
MARKERS = ("Depends", "Security")
PAGE_RESPONSES = frozenset({"HTMLResponse", "FileResponse", "RedirectResponse"})
# Module-level objects worth remembering: what FastAPI apps and routers are built with.
OBJECT_WORDS = ("FastAPI", "Router", "Starlette")


@dataclass(frozen=True)
class Dependency:
    target: str  # qualified callable (or object) the dependency is obtained from; "" if unknown
    security: bool = False  # declared with `Security(...)`
    param: str = ""  # the parameter it fills ("" for `dependencies=[...]`)
    annotation: str = ""  # qualified head of the parameter's annotation


@dataclass(frozen=True)
class RouterObject:
    name: str  # module-level name
    callee: str  # qualified constructor
    prefix: str | None
    tags: bool
    dependencies: tuple[Dependency, ...]
    line: int = 0

    def key(self) -> tuple:
        return (self.name, self.callee, self.prefix, self.tags, self.dependencies)


@dataclass(frozen=True)
class RouteFact:
    owner: str  # qualified app/router object the decorator is called on
    function: str  # function name in this module
    methods: tuple[str, ...]
    path: str | None
    response_model: str | None  # rendered `response_model=` (None when absent)
    returns: str | None  # rendered return annotation
    tags: bool
    dependencies: tuple[Dependency, ...]  # parameters and `dependencies=[...]`
    calls: tuple[str, ...]  # qualified callees of the body (one level)
    is_async: bool = False
    line: int = 0

    def key(self) -> tuple:
        return (
            self.owner,
            self.function,
            self.methods,
            self.path,
            self.response_model,
            self.returns,
            self.tags,
            self.dependencies,
            self.calls,
            self.is_async,
        )


@dataclass(frozen=True)
class Include:
    receiver: str  # qualified object, or "" when it is a local (an app built in a factory)
    router: str  # qualified router included
    prefix: str | None
    tags: bool
    dependencies: tuple[Dependency, ...]
    line: int = 0

    def key(self) -> tuple:
        return (self.receiver, self.router, self.prefix, self.tags, self.dependencies)


@dataclass(frozen=True)
class FastAPIFacts:
    objects: tuple[RouterObject, ...] = ()
    routes: tuple[RouteFact, ...] = ()
    includes: tuple[Include, ...] = ()
    # module-level function -> the dependencies of its parameters (nested `Depends`)
    functions: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    # `CurrentUser = Annotated[User, Depends(get_current_user)]`: alias -> its dependency
    aliases: tuple[tuple[str, Dependency], ...] = ()
    middleware: tuple[str, ...] = ()  # qualified classes passed to `add_middleware`

    def key(self) -> tuple:
        return (
            tuple(o.key() for o in self.objects),
            tuple(r.key() for r in self.routes),
            tuple(i.key() for i in self.includes),
            self.functions,
            self.aliases,
            self.middleware,
        )

    def __bool__(self) -> bool:
        return bool(self.objects or self.routes or self.includes or self.functions or self.aliases)


def wanted(imported: set[str], text: str | None) -> bool:
    """Cheap gate: the module imports FastAPI, or may decorate routes or include routers."""
    if any(name == "fastapi" or name.startswith("fastapi.") for name in imported):
        return True
    return text is not None and ("include_router" in text or "Depends(" in text)


class _Reader:
    def __init__(self, collector, text: str | None) -> None:
        self.collector = collector
        self.text = text

    def qualify(self, node: ast.AST) -> str:
        name = self.collector.qualify(node) or ""
        head = name.removeprefix(self.collector.module + ".")
        if head != name and head in BUILTIN_NAMES and head not in self.collector.facts_imports:
            return f"builtins.{head}"
        return name

    def marker(self, node: ast.AST | None) -> Dependency | None:
        """`Depends(f)` / `Security(f, scopes=...)` -> the dependency; else None."""
        if not isinstance(node, ast.Call):
            return None
        name = dotted(node.func) or ""
        last = name.rpartition(".")[2]
        if last not in MARKERS:
            return None
        target = node.args[0] if node.args else None
        for kw in node.keywords:
            if kw.arg == "dependency":
                target = kw.value
        if isinstance(target, ast.Call):  # Depends(Checker(...)): the instance's class
            target = target.func
        return Dependency(self.qualify(target) if target is not None else "", last == "Security")

    def annotated(self, annotation: ast.AST | None) -> tuple[str, Dependency | None]:
        """(qualified head of the type, the `Depends` of `Annotated[T, Depends(f)]`)."""
        node = annotation
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return "", None
        if isinstance(node, ast.Subscript) and (dotted(node.value) or "").endswith("Annotated"):
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for meta in elts[1:]:
                found = self.marker(meta)
                if found is not None:
                    return self._head(elts[0]), found
            return self._head(elts[0]) if elts else "", None
        return self._head(node), None

    def _head(self, node: ast.AST | None) -> str:
        while isinstance(node, ast.BinOp):  # `User | None`
            node = node.left if not _is_none(node.left) else node.right
        if isinstance(node, ast.Subscript):
            head = dotted(node.value) or ""
            if head.rpartition(".")[2] == "Optional":
                return self._head(node.slice)
            node = node.value
        return self.qualify(node) if node is not None else ""

    def parameters(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[Dependency, ...]:
        args = function.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        pairs = list(zip(positional, defaults, strict=False))
        pairs.extend(zip(args.kwonlyargs, args.kw_defaults, strict=False))
        found = []
        for arg, default in pairs:
            head, meta = self.annotated(arg.annotation)
            dep = self.marker(default) or meta
            if dep is None:  # `user: CurrentUser`: resolved through aliases later
                if head and not head.startswith("builtins."):
                    found.append(Dependency("", False, arg.arg, head))
                continue
            if dep is not None:
                target = dep.target or head  # `Depends()` uses the annotation's class
                found.append(Dependency(target, dep.security, arg.arg, head))
        return tuple(found)

    def dependency_list(self, node: ast.AST | None) -> tuple[Dependency, ...]:
        if not isinstance(node, (ast.List, ast.Tuple)):
            return ()
        return tuple(d for d in map(self.marker, node.elts) if d is not None)

    def render(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, ast.Constant) and node.value is None:
            return "None"
        name = self.qualify(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name:
            return name
        text = ast.unparse(node)
        return text if len(text) <= 200 else text[:197] + "..."


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def _hidden_or_tagged(kw: dict[str, ast.expr]) -> bool:
    """`tags=` given, or `include_in_schema=False` (nothing to group in the API docs)."""
    hidden = kw.get("include_in_schema")
    page = (dotted(kw["response_class"]) or "") if "response_class" in kw else ""
    return (
        "tags" in kw
        or (isinstance(hidden, ast.Constant) and hidden.value is False)
        or page.rpartition(".")[2] in PAGE_RESPONSES  # a web page, not an API operation
    )


def _prefix(node: ast.AST | None) -> str | None:
    """A literal prefix as written, another expression as `{expr}`, None when absent."""
    if node is None:
        return None
    literal = _string(node)
    if literal is not None:
        return literal
    text = ast.unparse(node)
    return "{" + (text if len(text) <= 80 else "...") + "}"


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def collect_fastapi_facts(tree: ast.Module, collector, text: str | None) -> FastAPIFacts | None:
    """The FastAPI facts of one module (None when it has none)."""
    if not wanted(collector.imported, text):
        return None
    reader = _Reader(collector, text)
    objects: list[RouterObject] = []
    routes: list[RouteFact] = []
    functions: list[tuple[str, tuple[Dependency, ...]]] = []
    aliases: list[tuple[str, Dependency]] = []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deps = reader.parameters(stmt)
            if deps:
                functions.append((stmt.name, deps))
            routes.extend(_routes(stmt, reader, deps))
        elif isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:  # class-based dependencies: `__call__`/`__init__` parameters
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and inner.name in (
                    "__call__",
                    "__init__",
                ):
                    deps = reader.parameters(inner)
                    if deps:
                        functions.append((stmt.name, deps))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            _assignment(names, stmt.value, reader, objects, aliases)
    includes, middleware = _includes(tree, reader, text)
    facts = FastAPIFacts(
        tuple(objects), tuple(routes), tuple(includes), tuple(functions), tuple(aliases), middleware
    )
    return facts if facts else None


def _assignment(names, value, reader: _Reader, objects: list, aliases: list) -> None:
    if isinstance(value, ast.Call):
        callee = reader.qualify(value.func)
        if any(word in callee.rpartition(".")[2] for word in OBJECT_WORDS):
            kw = _keywords(value)
            for name in names:
                objects.append(
                    RouterObject(
                        name,
                        callee,
                        _prefix(kw.get("prefix")),
                        _hidden_or_tagged(kw),
                        reader.dependency_list(kw.get("dependencies")),
                        value.lineno,
                    )
                )
    elif isinstance(value, ast.Subscript):
        _, dep = reader.annotated(value)
        if dep is not None:
            for name in names:
                aliases.append((name, dep))


def _routes(function, reader: _Reader, deps: tuple[Dependency, ...]) -> list[RouteFact]:
    found = []
    for decorator in function.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            continue
        methods = ROUTE_METHODS.get(decorator.func.attr)
        owner = dotted(decorator.func.value)
        if methods is None or owner is None:
            continue
        kw = _keywords(decorator)
        if not methods and isinstance(kw.get("methods"), (ast.List, ast.Tuple, ast.Set)):
            methods = tuple(
                s.upper()
                for s in map(_string, kw["methods"].elts)
                if s  # type: ignore[union-attr]
            )
        path = _string(decorator.args[0]) if decorator.args else _string(kw.get("path"))
        found.append(
            RouteFact(
                reader.qualify(decorator.func.value),
                function.name,
                methods or ("GET",),
                path,
                reader.render(kw["response_model"]) if "response_model" in kw else None,
                reader.render(function.returns),
                _hidden_or_tagged(kw),
                deps + reader.dependency_list(kw.get("dependencies")),
                _calls(function, reader),
                isinstance(function, ast.AsyncFunctionDef),
                function.lineno,
            )
        )
    return found


def _calls(function, reader: _Reader) -> tuple[str, ...]:
    """Qualified names of the project-level functions a route body calls directly."""
    found: list[str] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = reader.collector.qualify(node.func)
            if name and name not in found and "." in name:
                found.append(name)
    return tuple(found[:60])


def _includes(tree: ast.Module, reader: _Reader, text: str | None):
    includes: list[Include] = []
    middleware: list[str] = []
    if text is not None and "include_router" not in text and "add_middleware" not in text:
        return includes, ()
    module_names = {
        t.id
        for stmt in tree.body
        if isinstance(stmt, (ast.Assign, ast.AnnAssign))
        for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
        if isinstance(t, ast.Name)
    } | set(reader.collector.facts_imports)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        attr = node.func.attr
        if attr == "add_middleware" and node.args:
            middleware.append(reader.qualify(node.args[0]))
        if attr != "include_router" or not node.args:
            continue
        receiver = dotted(node.func.value) or ""
        head = receiver.partition(".")[0]
        kw = _keywords(node)
        includes.append(
            Include(
                reader.qualify(node.func.value) if head in module_names else "",
                reader.qualify(node.args[0]),
                _prefix(kw.get("prefix")),
                _hidden_or_tagged(kw),
                reader.dependency_list(kw.get("dependencies")),
                node.lineno,
            )
        )
    return includes, tuple(m for m in middleware if m)
