"""What a name holds: a small, honest type inference over one function and the project model.

`type_of(expr)` answers with a qualified type name (`requests.Session`,
`sqlalchemy.orm.Session`, `fastapi.FastAPI`, a project class) or None when it
does not know. Rules use None as "do not flag": guessing is what we avoid.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend_expert.index import dotted
from backend_expert.nodes import own_statements

if TYPE_CHECKING:
    from backend_expert.check import FileContext

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda

# Re-exported names users import, mapped to one canonical name each.
CANONICAL = {
    "fastapi.applications.FastAPI": "fastapi.FastAPI",
    "fastapi.routing.APIRouter": "fastapi.APIRouter",
    "starlette.applications.Starlette": "starlette.Starlette",
    "starlette.routing.Router": "starlette.Router",
    "fastapi.Request": "starlette.requests.Request",
    "fastapi.requests.Request": "starlette.requests.Request",
    "starlette.requests.Request": "starlette.requests.Request",
    "sqlalchemy.orm.session.Session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.sessionmaker": "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.orm.scoping.scoped_session": "sqlalchemy.orm.scoped_session",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": "sqlalchemy.ext.asyncio.async_sessionmaker",
    "requests.sessions.Session": "requests.Session",
    "requests.session": "requests.Session",
    "flask_sqlalchemy.SQLAlchemy": "flask_sqlalchemy.SQLAlchemy",
    "pathlib.PosixPath": "pathlib.Path",
    "pathlib.WindowsPath": "pathlib.Path",
    "flask_sqlalchemy.extension.SQLAlchemy": "flask_sqlalchemy.SQLAlchemy",
    "sqlmodel.orm.session.Session": "sqlmodel.Session",
    "sqlalchemy.orm.query.Query": "sqlalchemy.orm.Query",
    "httpx._client.Client": "httpx.Client",
    "httpx._client.AsyncClient": "httpx.AsyncClient",
    "pymysql.connections.Connection": "pymysql.Connection",
    "psycopg.connection.Connection": "psycopg.Connection",
    "sqlite3.dbapi2.connect": "sqlite3.connect",
}

# Calling these returns an instance of the mapped type.
RETURNS = {
    "sqlalchemy.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.ext.asyncio.create_async_engine": "sqlalchemy.ext.asyncio.AsyncEngine",
    "sqlite3.connect": "sqlite3.Connection",
    "psycopg2.connect": "psycopg2.connection",
    "pymysql.connect": "pymysql.Connection",
    "MySQLdb.connect": "pymysql.Connection",
    "psycopg.connect": "psycopg.Connection",
    "psycopg.Connection.connect": "psycopg.Connection",
    "builtins.open": "io.TextIOWrapper",
    "socket.create_connection": "socket.socket",
    "pathlib.Path.cwd": "pathlib.Path",
    "pathlib.Path.home": "pathlib.Path",
}

# Calling an instance of the key (a factory) returns an instance of the value.
PRODUCTS = {
    "sqlalchemy.orm.sessionmaker": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.scoped_session": "sqlalchemy.orm.Session",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sqlalchemy.ext.asyncio.AsyncSession",
}

# Attributes whose type is known from the type of their owner.
ATTRIBUTES = {
    ("flask_sqlalchemy.SQLAlchemy", "session"): "sqlalchemy.orm.Session",
    ("sqlite3.Connection", "cursor"): "sqlite3.Cursor",
    ("pathlib.Path", "parent"): "pathlib.Path",
}

# Methods whose result has a known type given the receiver's type.
METHOD_RETURNS = {
    ("sqlite3.Connection", "cursor"): "sqlite3.Cursor",
    ("psycopg2.connection", "cursor"): "psycopg2.cursor",
    ("pymysql.Connection", "cursor"): "pymysql.Cursor",
    ("sqlalchemy.engine.Engine", "connect"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.engine.Engine", "begin"): "sqlalchemy.engine.Connection",
    ("pathlib.Path", "resolve"): "pathlib.Path",
    ("pathlib.Path", "joinpath"): "pathlib.Path",
    ("pathlib.Path", "with_suffix"): "pathlib.Path",
    ("pathlib.Path", "absolute"): "pathlib.Path",
    ("pathlib.Path", "with_name"): "pathlib.Path",
    ("pathlib.Path", "with_stem"): "pathlib.Path",
    ("pathlib.Path", "expanduser"): "pathlib.Path",
    ("pathlib.Path", "relative_to"): "pathlib.Path",
    ("sqlite3.Connection", "execute"): "sqlite3.Cursor",
    ("psycopg.Connection", "cursor"): "psycopg.Cursor",
    ("psycopg.Connection", "execute"): "psycopg.Cursor",
}

BUILTIN_NAMES = frozenset(dir(builtins))


def canonical(name: str | None) -> str | None:
    return CANONICAL.get(name, name) if name else name


@dataclass
class Scope:
    """One function's bindings: parameters and every assignment to a plain name."""

    node: FunctionNode
    params: dict[str, ast.arg] = field(default_factory=dict)
    assignments: dict[str, list[ast.AST]] = field(default_factory=dict)  # name -> values, in order

    @classmethod
    def of(cls, node: FunctionNode) -> Scope:
        scope = cls(node)
        args = node.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None:
                scope.params[arg.arg] = arg
        if isinstance(node, ast.Lambda):
            return scope
        # Statements only: bindings inside expressions (walrus, comprehensions) are rare enough
        # not to pay for a walk of every expression of every function.
        for stmt in own_statements(node.body):
            scope._bind(stmt)
        return scope

    def _bind(self, node: ast.AST) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._target(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            self._target(node.target, node if isinstance(node, ast.AugAssign) else node.value)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    self.assignments.setdefault(item.optional_vars.id, []).append(item.context_expr)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name in _names(node.target):
                self.assignments.setdefault(name, []).append(node)

    def _target(self, target: ast.AST, value: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.assignments.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for name in _names(target):
                self.assignments.setdefault(name, []).append(target)  # unpacked: value unknown

    def values(self, name: str) -> list[ast.AST]:
        return self.assignments.get(name, [])


def _names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _is_self_attr(target: ast.AST, attr: str) -> bool:
    return (
        isinstance(target, ast.Attribute)
        and target.attr == attr
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    )


def unwrap_annotation(node: ast.AST | None) -> ast.AST | None:
    """`Annotated[T, ...]`, `Optional[T]`, `T | None` and string annotations -> T."""
    for _ in range(5):
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            left_none = isinstance(node.left, ast.Constant) and node.left.value is None
            node = node.right if left_none else node.left
            continue
        if isinstance(node, ast.Subscript):
            head = dotted(node.value) or ""
            if head.rpartition(".")[2] in ("Annotated", "Optional"):
                inner = node.slice
                node = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                continue
        return node
    return node


class Inference:
    """Answers `type_of` for expressions of one file, with caches per function."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.scopes: dict[int, Scope] = {}

    def scope(self, function: FunctionNode) -> Scope:
        key = id(function)
        if key not in self.scopes:
            self.scopes[key] = Scope.of(function)
        return self.scopes[key]

    def annotation_type(self, annotation: ast.AST | None) -> str | None:
        node = unwrap_annotation(annotation)
        if node is None:
            return None
        name = self.ctx.qualname(node.value if isinstance(node, ast.Subscript) else node)
        if name is None:
            return None
        alias = self.ctx.project.alias_target(name)
        return canonical(self.ctx.project.resolve(alias or name))

    def type_of(self, node: ast.AST, function: FunctionNode | None, _depth: int = 0) -> str | None:
        if _depth > 6:
            return None
        if isinstance(node, ast.Await):
            node = node.value
        if isinstance(node, ast.Call):
            return self._call_type(node, function, _depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # `base / "name"`
            left = self.type_of(node.left, function, _depth + 1)
            return left if left == "pathlib.Path" else None
        if isinstance(node, ast.Name):
            return self._name_type(node.id, function, _depth)
        if isinstance(node, ast.Attribute):
            owner = self.type_of(node.value, function, _depth + 1)
            if owner is not None:
                known = self._member(ATTRIBUTES, owner, node.attr)
                if known:
                    return known
                facts = self.ctx.project.class_facts(owner)
                if facts and node.attr in facts.attr_types:
                    return self._constructed(facts.attr_types[node.attr])
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                return self._self_attribute(node.attr)
            qualified = self.ctx.qualname(node)
            return self._module_symbol(qualified) if qualified else None
        return None

    def _member(self, table: dict[tuple[str, str], str], owner: str, name: str) -> str | None:
        """`table[(owner, name)]`, also when `owner` is a project subclass of a known type."""
        known = table.get((owner, name))
        if known is None and self.ctx.project.class_facts(owner) is not None:
            for base in sorted(self.ctx.project.ancestors(owner)):
                known = table.get((canonical(base) or base, name))
                if known is not None:
                    break
        return known

    def _self_attribute(self, attr: str) -> str | None:
        klass = self.ctx.enclosing_class()
        if klass is None:
            return None
        facts = self.ctx.facts.classes.get(klass.name)
        if facts and attr in facts.attr_types:
            return self._constructed(facts.attr_types[attr])
        return self._annotated_attribute(klass, attr)

    def _annotated_attribute(self, klass: ast.ClassDef, attr: str) -> str | None:
        """`x: T` in the class body, or `self.x = param` (or `self.x: T = ...`) in `__init__`."""
        for stmt in klass.body:
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id == attr
            ):
                return self.annotation_type(stmt.annotation)
            if (
                isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                and stmt.name == "__init__"
            ):
                params = {a.arg: a for a in (*stmt.args.args, *stmt.args.kwonlyargs)}
                for inner in self.ctx.own_nodes(stmt):
                    if isinstance(inner, ast.AnnAssign) and _is_self_attr(inner.target, attr):
                        return self.annotation_type(inner.annotation)
                    if (
                        isinstance(inner, ast.Assign)
                        and len(inner.targets) == 1
                        and _is_self_attr(inner.targets[0], attr)
                        and isinstance(inner.value, ast.Name)
                        and inner.value.id in params
                    ):
                        return self.annotation_type(params[inner.value.id].annotation)
        return None

    def _name_type(self, name: str, function: FunctionNode | None, depth: int) -> str | None:
        if function is not None:
            scope = self.scope(function)
            values = scope.values(name)
            if values:
                types = {self._value_type(v, function, depth) for v in values}
                return types.pop() if len(types) == 1 else None
            if name in scope.params:
                annotation = scope.params[name].annotation
                if annotation is None:
                    return _dependency_type(self.ctx, function, name)
                return self.annotation_type(annotation)
            outer = self.ctx.enclosing_function(above=function)
            if outer is not None:
                return self._name_type(name, outer, depth + 1)
        qualified = self.ctx.qualname(ast.Name(id=name))
        return self._module_symbol(qualified) if qualified else None

    def _value_type(self, value: ast.AST, function: FunctionNode, depth: int) -> str | None:
        if isinstance(
            value, (ast.For, ast.AsyncFor, ast.comprehension, ast.Tuple, ast.List, ast.AugAssign)
        ):
            return None
        return self.type_of(value, function, depth + 1)

    def _module_symbol(self, qualified: str) -> str | None:
        """The type of a module-level name: an instance built by a call there, or None."""
        project = self.ctx.project
        callee = project.assigned_call(qualified)
        if callee is not None:
            return self._constructed(callee)
        return None

    def _constructed(self, callee: str) -> str | None:
        """The type of `callee(...)`."""
        callee = canonical(self.ctx.project.resolve(callee))
        if callee in RETURNS:
            return RETURNS[callee]
        if callee in PRODUCTS:  # a factory class with a lower-case name (sessionmaker)
            return callee
        made = _session_made(self.ctx.project, callee)
        if made is not None:
            return made
        product = self._module_symbol(callee)
        if product in PRODUCTS:
            return PRODUCTS[product]
        if self.ctx.project.class_facts(callee) is not None:
            return callee
        function = self.ctx.project.function_facts(callee)
        if function is not None:
            return canonical(function.returns) if function.returns else None
        last = callee.rpartition(".")[2]
        if last[:1].isupper() and not callee.startswith("builtins."):
            return callee  # a third-party class: calling it builds an instance
        return None

    def _call_type(self, node: ast.Call, function: FunctionNode | None, depth: int) -> str | None:
        func = node.func
        made = _instance_call(self, func, function, depth)
        if made is not None:  # `async with db() as session`, `db` a project session factory
            return made
        if isinstance(func, ast.Attribute):
            owner = self.type_of(func.value, function, depth + 1)
            if owner is not None and (known := self._member(METHOD_RETURNS, owner, func.attr)):
                return known
            if owner in PRODUCTS and func.attr == "begin":
                return PRODUCTS[owner]
        if isinstance(func, ast.Call):  # `sessionmaker(bind=engine)()`
            factory = self._call_type(func, function, depth + 1)
            return PRODUCTS.get(factory) if factory else None
        if isinstance(func, ast.Name) and function is not None:
            factory = self._name_type(func.id, function, depth + 1)
            known = self.ctx.qualname(func) if factory in PRODUCTS else None
            made = _session_made(self.ctx.project, known) if known else None
            if made is not None:  # `SessionLocal()` of a `sessionmaker(class_=AsyncSession)`
                return made
            if factory in PRODUCTS:
                return PRODUCTS[factory]
            if self.scope(function).values(func.id) or func.id in self.scope(function).params:
                return None
        qualified = self.ctx.qualname(func)
        if qualified is None:
            return None
        return self._constructed(qualified)


def _session_made(project, callee: str) -> str | None:
    """`SessionLocal()` of a `sessionmaker(class_=AsyncSession)`, `with get_session() as s`."""
    from backend_expert.sqlalchemy_sessions import factory_product, session_type

    return factory_product(project, callee) or session_type(project, callee, "call")


def _dependency_type(ctx: FileContext, function: FunctionNode, name: str) -> str | None:
    """An unannotated `db=Depends(get_db)` parameter: the session `get_db` hands out."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(
        zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
    )
    pairs += [
        (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
    ]
    for arg, default in pairs:
        if arg.arg != name:
            continue
        if not (isinstance(default, ast.Call) and default.args):
            return None
        if (ctx.qualname(default.func) or "").rpartition(".")[2] != "Depends":
            return None
        target = ctx.qualname(default.args[0])
        if target is None:
            return None
        from backend_expert.sqlalchemy_sessions import session_type

        return session_type(ctx.project, target, "depends")
    return None


def _instance_call(
    inference: Inference, func: ast.AST, function: FunctionNode | None, depth: int
) -> str | None:
    from backend_expert.sqlalchemy_sessions import _callable_classes, called_instance_session

    project = inference.ctx.project
    if not isinstance(func, (ast.Name, ast.Attribute)) or not _callable_classes(project):
        return None
    kind = inference.type_of(func, function, depth + 1)
    return called_instance_session(project, kind) if kind else None
