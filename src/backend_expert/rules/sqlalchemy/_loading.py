"""How the objects a function works with were loaded: which model, by which session, with
which loader options (not a rule).

Follows, inside one function, `select(User).where(...).options(selectinload(User.posts))`
through variables, `session.execute/scalars/scalar/get/exec(...)`, `result.scalars().all()`,
`.scalar_one()`, the legacy `session.query(User)...` and Flask's `User.query...` chains, and
`for user in users` / comprehensions. Anything it does not recognise gives None: the rules
built on it (async lazy loads, N+1) do not report what they cannot see.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from backend_expert.check import FileContext
from backend_expert.infer import FunctionNode
from backend_expert.rules.sqlalchemy._orm import last, session_kind
from backend_expert.sqlalchemy_models import Model, sqlalchemy_models

SELECTS = frozenset({"sqlalchemy.select", "sqlalchemy.future.select", "sqlmodel.select",
                     "sqlalchemy.sql.select", "sqlalchemy.sql.expression.select"})  # fmt: skip
STATEMENT_METHODS = frozenset(
    {
        "where", "filter", "filter_by", "order_by", "limit", "offset", "join", "outerjoin",
        "distinct", "group_by", "having", "execution_options", "params", "with_for_update",
        "select_from", "join_from", "correlate", "slice", "enable_assertions", "autoflush",
    }
)  # fmt: skip
# Loader options that leave nothing to load lazily (or raise instead of loading).
NOT_LAZY = frozenset({"selectinload", "joinedload", "subqueryload", "immediateload",
                      "contains_eager", "raiseload", "noload"})  # fmt: skip
# Options that do not change how the first relationship of their path is loaded.
NEUTRAL = frozenset({"lazyload", "defaultload", "load_only", "defer", "undefer",
                     "undefer_group", "with_expression", "selectin_polymorphic"})  # fmt: skip
ONE = frozenset({"first", "one", "one_or_none"})
SCALAR_ONE = frozenset({"scalar_one", "scalar_one_or_none", "scalar"})


@dataclass(frozen=True)
class Statement:
    model: Model
    eager: frozenset[str] = frozenset()  # relationships an option loads (or raises for)
    wildcard: bool = False
    query: bool = False  # a legacy `Query`: runnable by itself
    flavour: str | None = None  # the session of a `Query`


@dataclass(frozen=True)
class Result:
    statement: Statement
    flavour: str | None
    scalars: bool


@dataclass(frozen=True)
class Loaded:
    """Objects (`many`) or one object of `model`, loaded by a session of `flavour`."""

    model: Model
    eager: frozenset[str]
    wildcard: bool
    many: bool
    flavour: str | None

    def lazy_relationship(self, name: str):
        """The relationship `name` when reading it emits a lazy load on these objects."""
        relation = self.model.relationships.get(name)
        if relation is None or not relation.lazy_loads or self.wildcard or name in self.eager:
            return None
        return relation


Value = Statement | Result | Loaded | None


def _loaded(statement: Statement, many: bool, flavour: str | None) -> Loaded:
    return Loaded(statement.model, statement.eager, statement.wildcard, many, flavour)


class Loading:
    """Answers "how was this object loaded?" inside one function of one file."""

    def __init__(self, ctx: FileContext, function: FunctionNode) -> None:
        self.ctx = ctx
        self.function = function
        self.models = sqlalchemy_models(ctx.project)
        self._names: dict[str, Value] = {}

    # --- objects ---------------------------------------------------------------------------

    def loaded(self, node: ast.AST) -> Loaded | None:
        """`node` (a name, usually) holds objects loaded from the database, as described."""
        value = self.value(node)
        return value if isinstance(value, Loaded) else None

    def element(self, iterable: ast.AST) -> Loaded | None:
        """What iterating `iterable` gives, when it is loaded objects."""
        value = self.value(iterable)
        if isinstance(value, Loaded) and value.many:
            return replace(value, many=False)
        if isinstance(value, Result) and value.scalars:
            return _loaded(value.statement, False, value.flavour)
        if isinstance(value, Statement) and value.query:
            return _loaded(value, False, value.flavour)
        return None

    def value(self, node: ast.AST, depth: int = 0) -> Value:
        if depth > 12:
            return None
        if isinstance(node, ast.Await):
            return self.value(node.value, depth + 1)
        if isinstance(node, ast.Name):
            return self._name(node.id, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Attribute) and node.attr == "query":
            model = self._model(node.value)
            if model is not None and model.flavour == "flask":
                return Statement(model, query=True, flavour="sync")
        return None

    def _name(self, name: str, depth: int) -> Value:
        if name in self._names:
            return self._names[name]
        self._names[name] = None  # cycle guard, and the answer for self-references at first
        scope = self.ctx.scope(self.function)
        current: Value = None
        values = scope.values(name)
        for index, value in enumerate(values):
            if isinstance(value, (ast.For, ast.AsyncFor)):
                found: Value = (
                    self.element(value.iter) if isinstance(value.target, ast.Name) else None
                )
            elif isinstance(value, ast.AST) and not isinstance(value, ast.Tuple):
                found = self.value(value, depth + 1)
            else:
                found = None
            if found is None or (
                index and current is not None and _model(found) != _model(current)
            ):
                current = None
                break
            current = found
            self._names[name] = current  # `stmt = stmt.where(...)` builds on the previous one
        self._names[name] = current
        return current

    def _model(self, node: ast.AST) -> Model | None:
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        qualified = self.ctx.qualname(node)
        return self.models.model(qualified) if qualified else None

    # --- calls -----------------------------------------------------------------------------

    def _call(self, node: ast.Call, depth: int) -> Value:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "list" and len(node.args) == 1:
            inner = self.value(node.args[0], depth + 1)
            if isinstance(inner, Result) and inner.scalars:
                return _loaded(inner.statement, True, inner.flavour)
            return inner if isinstance(inner, Loaded) and inner.many else None
        if not isinstance(func, ast.Attribute):
            if (self.ctx.qualname(func) or "") in SELECTS and len(node.args) == 1:
                model = self._model(node.args[0])
                return Statement(model) if model is not None else None
            return None
        method = func.attr
        flavour = session_kind(func.value, self.ctx) if method in _SESSION_CALLS else None
        if flavour is not None:
            return self._session_call(method, node, flavour, depth)
        receiver = self.value(func.value, depth + 1)
        if isinstance(receiver, Statement):
            return self._statement_method(receiver, method, node)
        if isinstance(receiver, Result):
            if method in ("scalars", "unique"):
                scalars = receiver.scalars or method == "scalars"
                return Result(receiver.statement, receiver.flavour, scalars)
            if method in ("all", "fetchall") and receiver.scalars:
                return _loaded(receiver.statement, True, receiver.flavour)
            if (method in ONE and receiver.scalars) or method in SCALAR_ONE:
                return _loaded(receiver.statement, False, receiver.flavour)
        return None

    def _session_call(self, method: str, node: ast.Call, flavour: str, depth: int) -> Value:
        if not node.args:
            return None
        if method == "get":
            model = self._model(node.args[0])
            options = next((k.value for k in node.keywords if k.arg == "options"), None)
            if model is None:
                return None
            statement = Statement(model)
            if options is not None:
                if not isinstance(options, (ast.List, ast.Tuple)):
                    return None
                statement = self._with_options(statement, options.elts)
                if statement is None:
                    return None
            return _loaded(statement, False, flavour)
        if method == "query":
            model = self._model(node.args[0]) if len(node.args) == 1 else None
            return Statement(model, query=True, flavour=flavour) if model else None
        statement = self.value(node.args[0], depth + 1)
        if not isinstance(statement, Statement) or statement.query:
            return None
        if method == "scalar":
            return _loaded(statement, False, flavour)
        return Result(statement, flavour, scalars=method in ("scalars", "exec"))

    def _statement_method(self, statement: Statement, method: str, node: ast.Call) -> Value:
        if method in STATEMENT_METHODS:
            return statement
        if method == "options":
            return self._with_options(statement, node.args)
        if statement.query:
            if method == "all":
                return _loaded(statement, True, statement.flavour)
            if method in ONE or method == "get" or method == "first_or_404":
                return _loaded(statement, False, statement.flavour)
        return None

    def _with_options(self, statement: Statement, options: list[ast.expr]) -> Statement | None:
        eager = set(statement.eager)
        wildcard = statement.wildcard
        for option in options:
            found = self._option(option)
            if found is None:
                return None  # an option bex cannot read: it may load anything
            name, loads = found
            if name == "*":
                wildcard = wildcard or loads
            elif loads and name:
                eager.add(name)
        return replace(statement, eager=frozenset(eager), wildcard=wildcard)

    def _option(self, option: ast.AST) -> tuple[str, bool] | None:
        """(first relationship of the path, whether it is loaded eagerly), or None."""
        call = option
        while (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and isinstance(call.func.value, ast.Call)
        ):
            call = call.func.value  # `selectinload(A.b).selectinload(B.c)`: the first link
        if not isinstance(call, ast.Call):
            return None
        kind = last(self.ctx.qualname(call.func))
        if kind not in NOT_LAZY and kind not in NEUTRAL:
            return None
        first = call.args[0] if call.args else None
        if isinstance(first, ast.Attribute):
            name = first.attr
        elif isinstance(first, ast.Constant) and isinstance(first.value, str):
            name = first.value
        else:
            return ("", False) if kind in NEUTRAL else None
        return name, kind in NOT_LAZY


_SESSION_CALLS = frozenset({"execute", "scalars", "scalar", "get", "exec", "query"})


def _model(value: Value) -> str | None:
    if isinstance(value, Result):
        return value.statement.model.qualname
    return value.model.qualname if value is not None else None


def relationship_names(ctx: FileContext) -> frozenset[str]:
    """Every relationship name of every model: a cheap first test for attribute reads."""
    models = sqlalchemy_models(ctx.project)
    found = models.__dict__.get("_relationship_names")
    if found is None:
        found = frozenset(r for m in models.models.values() for r in m.relationships)
        models.__dict__["_relationship_names"] = found
    return found


def loading(ctx: FileContext, function: FunctionNode) -> Loading:
    cache = ctx.__dict__.setdefault("_sqlalchemy_loading", {})
    found = cache.get(id(function))
    if found is None:
        found = cache[id(function)] = Loading(ctx, function)
    return found


def loop_binding(ctx: FileContext, name: str) -> ast.AST | None:
    """The `for` statement or comprehension whose target is `name`, around the current node."""
    ancestors = ctx.ancestors
    for index in range(len(ancestors) - 1, -1, -1):
        node = ancestors[index]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in node.generators:
                if isinstance(generator.target, ast.Name) and generator.target.id == name:
                    return generator
        if (
            isinstance(node, (ast.For, ast.AsyncFor))
            and index + 1 < len(ancestors)
            and ancestors[index + 1] in node.body
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            return node
    return None


def refreshed_or_set(ctx: FileContext, function: FunctionNode, name: str, attr: str) -> bool:
    """`session.refresh(obj, ...)` anywhere, or `obj.attr = ...`: loading is not bex's to judge."""
    for node in ctx.own_nodes(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "refresh"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == name
        ):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == attr
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == name
        ):
            return True
    return False
