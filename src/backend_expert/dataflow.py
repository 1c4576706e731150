"""Where does a value come from: a small intra-procedural data-flow analysis.

Security rules ask the same two questions about an expression inside one function:

- `source_of(node, ctx)`: what is this value built from? The answer is a `Source`, a `Kind`
  (CONSTANT, SAFE_IDENTIFIER, UNKNOWN, PARAMETER, REQUEST, from harmless to dangerous) and a
  human-readable origin ("parameter `term` of `search_products`", "`request.args['q']`").
- `text_of(node, ctx)`: when the value is a string assembled in this function (f-string, `%`,
  `.format()`, `+`, `+=`, `"sep".join(...)`), its constant fragments and its interpolated holes,
  each hole with its own `Source`.

Local variables are followed through every assignment in the function (flow-insensitive: when
a name is bound several times, the worst source wins), through tuple unpacking, loop targets,
comprehensions, `list.append(...)` and closures. Module-level names bound to literals are
constants. Calls are opaque (UNKNOWN) except for a few that are known to produce harmless
values (`len`, `int`, identifier quoting, ORM-generated SQL) or to pass their input through
(string methods, `str()`). Checks in the same function that restrict a value to a known set
(`if col not in ALLOWED: raise`, `assert col in {...}`, `if col in ALLOWED:`) make it a
SAFE_IDENTIFIER from that point on.

The analysis never guesses towards danger: what it cannot see is UNKNOWN, and rules report
UNKNOWN with lower confidence than REQUEST.
"""

from __future__ import annotations

import ast
import enum
import re
import string
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend_expert.index import dotted, is_literal
from backend_expert.infer import FunctionNode, unwrap_annotation
from backend_expert.web import fastapi_route

if TYPE_CHECKING:
    from backend_expert.check import FileContext


class Kind(enum.IntEnum):
    """What a value is built from, ordered from harmless to dangerous."""

    CONSTANT = 0  # literals, module constants, numbers, placeholder lists
    SAFE_IDENTIFIER = 1  # restricted to a known set, or quoted/escaped, or ORM metadata
    UNKNOWN = 2  # a call result, an attribute, anything the analysis cannot see through
    PARAMETER = 3  # a parameter of a function that is not an HTTP entry point
    REQUEST = 4  # data sent by the client: a route parameter, `request.args[...]`...

    @property
    def tainted(self) -> bool:
        """True when the value may hold text nobody in this function controls."""
        return self >= Kind.UNKNOWN


@dataclass(frozen=True)
class Source:
    kind: Kind
    origin: str  # human-readable: "parameter `term` of `search`", "`request.args['q']`"
    node: ast.AST | None = None  # the expression the value was traced back to


CONSTANT = Source(Kind.CONSTANT, "a constant")


def worst(sources: Iterable[Source], default: Source = CONSTANT) -> Source:
    """The most dangerous of several sources (the first one on ties)."""
    best = default
    for source in sources:
        if source.kind > best.kind:
            best = source
    return best


@dataclass(frozen=True)
class Hole:
    """An expression interpolated into a string that was built in the function."""

    node: ast.AST
    source: Source


@dataclass
class Text:
    """A string assembled in the function: constant fragments and interpolated holes, in order."""

    parts: list[str | Hole] = field(default_factory=list)
    built: list[ast.AST] = field(default_factory=list)  # the f-strings/joins/`+`... that built it

    @property
    def holes(self) -> list[Hole]:
        return [part for part in self.parts if isinstance(part, Hole)]

    @property
    def constant_text(self) -> str:
        """The fragments, with `?` standing for each hole."""
        return "".join(part if isinstance(part, str) else "?" for part in self.parts)

    @property
    def dynamic(self) -> bool:
        return any(isinstance(part, Hole) for part in self.parts)

    def tainted_holes(self) -> list[Hole]:
        return [hole for hole in self.holes if hole.source.kind.tainted]

    def after(self, hole: Hole, limit: int = 80) -> str:
        """The constant text right after `hole` (other holes as `?`)."""
        text, seen = "", False
        for part in self.parts:
            if seen:
                text += part if isinstance(part, str) else "?"
                if len(text) >= limit:
                    break
            seen = seen or part is hole
        return text[:limit]

    def before(self, hole: Hole, limit: int | None = 80) -> str:
        """The constant text before `hole` in the assembled string (other holes as `?`), the
        last `limit` characters of it (all of it for None)."""
        text = ""
        for part in self.parts:
            if part is hole:
                return text if limit is None else text[-limit:]
            text += part if isinstance(part, str) else "?"
        return ""

    def extend(self, other: Text) -> None:
        self.parts.extend(other.parts)
        self.built.extend(other.built)


# --- what is known about names, attributes and calls -------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Calls whose result is a number (or a UUID, a range...): nothing to inject.
NUMERIC_CALLS = _words(
    """builtins.len builtins.int builtins.float builtins.bool builtins.abs builtins.round
    builtins.min builtins.max builtins.sum builtins.hash builtins.id builtins.ord builtins.range
    builtins.enumerate uuid.UUID uuid.uuid4 uuid.uuid1 decimal.Decimal time.time time.monotonic"""
)
# Calls whose result is text that cannot break out of an SQL identifier or literal.
SANITIZER_NAMES = _words(
    """quote_name quote_name_unless_alias quote_ident quote_identifier quote_literal
    escape_identifier escape_literal escape_string escape literal mogrify Identifier Literal quote"""
)
# Calls whose result is SQL generated by an ORM or query builder from its own model.
GENERATED_SQL_NAMES = _words("as_sql sql_with_params compile get_compiler")
# String methods whose result is made of the receiver (and the arguments).
STRING_METHODS = _words(
    """strip lstrip rstrip lower upper title capitalize casefold swapcase replace zfill ljust
    rjust center removeprefix removesuffix encode decode expandtabs translate split rsplit
    splitlines partition rpartition copy"""
)
# Mapping/container accessors: the result is one of the receiver's items.
ITEM_METHODS = _words("get getlist getall getone pop setdefault items keys values")
# Calls that return their argument's content, converted.
IDENTITY_CALLS = _words(
    """builtins.str builtins.list builtins.tuple builtins.set builtins.frozenset builtins.sorted
    builtins.reversed builtins.dict builtins.repr textwrap.dedent textwrap.indent
    inspect.cleandoc"""
)
# Annotations that make a parameter a number, a date or a UUID (validated by FastAPI/Pydantic).
NUMERIC_TYPES = _words(
    """int float bool complex Decimal UUID UUID1 UUID4 datetime date time timedelta PositiveInt
    NegativeInt NonNegativeInt NonPositiveInt StrictInt StrictFloat StrictBool PositiveFloat
    NonNegativeFloat IPv4Address IPv6Address"""
)
CONTAINER_TYPES = _words(
    """list List set Set frozenset FrozenSet tuple Tuple Sequence Iterable Collection
    AbstractSet MutableSequence"""
)
# Injected route parameters whose type says they are not request data.
NON_DATA_TYPES = (
    "sqlalchemy.",
    "fastapi.BackgroundTasks",
    "fastapi.Response",
    "starlette.responses.",
    "starlette.background.",
    "fastapi.security.",
    "redis.",
    "httpx.",
    "requests.",
)
ENUM_BASES = _words(
    """enum.Enum enum.IntEnum enum.StrEnum enum.Flag enum.IntFlag django.db.models.TextChoices
    django.db.models.IntegerChoices"""
)
# Attributes (and methods) of a request object that hold what the client sent:
# Flask/Werkzeug, Django/DRF, Starlette/FastAPI.
REQUEST_ATTRIBUTES = _words(
    """args form json values data files cookies headers view_args query_string get_json
    get_data stream GET POST COOKIES META FILES body query_params path_params"""
)
FLASK_REQUEST = _words("flask.request flask.globals.request")
FLASK_APPS = _words("flask.Flask flask.Blueprint flask.app.Flask flask.blueprints.Blueprint")
REQUEST_TYPES = _words(
    """starlette.requests.Request starlette.requests.HTTPConnection fastapi.WebSocket
    starlette.websockets.WebSocket django.http.HttpRequest django.http.request.HttpRequest
    rest_framework.request.Request flask.Request"""
)
# Attribute names that hold identifiers taken from model metadata.
METADATA_ATTRIBUTES = _words("_meta db_table db_column __tablename__ __table__ __name__")
EXIT_CALLS = _words("abort exit fail error _exit bad_request")
VALIDATORS = _words("isidentifier isalnum isdigit isdecimal isnumeric isalpha")

_PRINTF = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsab%])"
)
_NUMERIC_SPEC = re.compile(r"[bcdeEfFgGnoxX%]$")
_MAX_DEPTH = 40


# --- the analysis ------------------------------------------------------------------------------


_FLOWS: weakref.WeakKeyDictionary[FileContext, dict[int, DataFlow]] = weakref.WeakKeyDictionary()


def flow(ctx: FileContext, function: FunctionNode | None = None) -> DataFlow:
    """The (cached) analysis of `function` (default: the function around the current node)."""
    if function is None:
        function = ctx.enclosing_function()
    flows = _FLOWS.setdefault(ctx, {})
    key = id(function)
    if key not in flows:
        flows[key] = DataFlow(ctx, function)
    return flows[key]


def source_of(node: ast.AST, ctx: FileContext, function: FunctionNode | None = None) -> Source:
    """What the value of `node` is built from, inside its enclosing function."""
    return flow(ctx, function).source(node)


def text_of(node: ast.AST, ctx: FileContext, function: FunctionNode | None = None) -> Text | None:
    """The string `node` evaluates to, when it is assembled in its function; else None."""
    return flow(ctx, function).text(node)


@dataclass(frozen=True)
class _Guard:
    name: str
    start: int  # first line where the guard holds
    end: int  # last line where it holds
    origin: str


class DataFlow:
    """The analysis of one function (or of module-level code when `function` is None)."""

    def __init__(self, ctx: FileContext, function: FunctionNode | None) -> None:
        self.ctx = ctx
        self.function = function
        self.scope = ctx.scope(function) if function is not None else None
        self._active: set[int] = set()
        self._sources: dict[int, Source] = {}
        self._texts: dict[int, Text | None] = {}
        self._unpacked: dict[int, ast.AST] | None = None
        self._appended: dict[str, list[ast.AST]] | None = None
        self._inner: dict[str, list[ast.AST]] | None = None  # comprehension variables, `:=`
        self._guards: list[_Guard] | None = None
        self._route: tuple[str, set[str]] | bool | None = False  # False: not computed yet
        self._module_values: dict[str, list[ast.AST]] | None = None
        self._class_constants: dict[str, ast.AST] | None = None

    # --- public -----------------------------------------------------------------------------

    def source(self, node: ast.AST) -> Source:
        key = id(node)
        cached = self._sources.get(key)
        if cached is not None:
            return cached
        if key in self._active or len(self._active) > _MAX_DEPTH:
            return CONSTANT  # a cycle (`sql = sql + ...`): the other bindings decide
        self._active.add(key)
        try:
            result = self._source(node)
        finally:
            self._active.discard(key)
        self._sources[key] = result
        return result

    def text(self, node: ast.AST) -> Text | None:
        key = id(node)
        if key in self._texts:
            return self._texts[key]
        if -key in self._active or len(self._active) > _MAX_DEPTH:
            return None  # a cycle: the other bindings decide
        self._active.add(-key)
        try:
            result = self._text(node)
        finally:
            self._active.discard(-key)
        self._texts[key] = result
        return result

    # --- sources ----------------------------------------------------------------------------

    def _source(self, node: ast.AST) -> Source:
        if isinstance(node, ast.Constant):
            return CONSTANT
        if isinstance(node, ast.Name):
            return self._name_source(node)
        if isinstance(node, ast.Attribute):
            return self._attribute_source(node)
        if isinstance(node, ast.Subscript):
            return self._subscript_source(node)
        if isinstance(node, ast.Call):
            return self._call_source(node)
        if isinstance(node, ast.JoinedStr | ast.BinOp) and (text := self.text(node)) is not None:
            return worst(hole.source for hole in text.holes)
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, ast.Add | ast.Mod | ast.Mult | ast.BitOr):
                return CONSTANT  # arithmetic: a number whatever the operands
            if isinstance(node.op, ast.Mult) and (
                _is_literal_sequence(node.left) or _is_literal_sequence(node.right)
            ):
                return CONSTANT  # `"?" * len(ids)`, `["%s"] * n`
            return worst((self.source(node.left), self.source(node.right)))
        if isinstance(node, ast.UnaryOp | ast.Compare):
            return CONSTANT  # a number or a bool
        if isinstance(node, ast.BoolOp):
            return worst(self.source(value) for value in node.values)
        if isinstance(node, ast.IfExp):
            return self._ifexp_source(node)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return worst(self.source(element) for element in node.elts)
        if isinstance(node, ast.Dict):
            return worst(self.source(value) for value in node.values)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            return self.source(node.elt)
        if isinstance(node, ast.DictComp):
            return worst((self.source(node.key), self.source(node.value)))
        if isinstance(node, ast.Await | ast.Starred | ast.NamedExpr):
            return self.source(node.value)
        if isinstance(node, ast.FormattedValue):
            if _numeric_spec(node.format_spec):
                return CONSTANT
            return self.source(node.value)
        return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)

    def _name_source(self, node: ast.Name) -> Source:
        name = node.id
        guard = self._guard_for(name, node)
        if guard is not None:
            return Source(Kind.SAFE_IDENTIFIER, guard.origin, node)
        function, scope = self.function, self.scope
        if function is None or scope is None:
            return self._module_name_source(node)
        values = self._values(name)
        if values:
            return worst(self._binding_source(value, name) for value in values)
        if name in scope.params:
            return self._param_source(name)
        self._index()
        inner = self._inner.get(name) if self._inner else None
        if inner:
            return worst(self._binding_source(value, name) for value in inner)
        outer = self.ctx.enclosing_function(above=function)
        if outer is not None:  # a closure: the name is bound in an enclosing function
            return flow(self.ctx, outer)._name_source(node)
        return flow(self.ctx, None)._module_name_source(node)

    def _binding_source(self, value: ast.AST, name: str) -> Source:
        if isinstance(value, ast.AugAssign):
            return self.source(value.value)
        if isinstance(value, ast.For | ast.AsyncFor | ast.comprehension):
            return self.source(value.iter)
        if isinstance(value, ast.Tuple | ast.List) and isinstance(value.ctx, ast.Store):
            return self._unpacked_source(value, name)
        return self.source(value)

    def _unpacked_source(self, target: ast.Tuple | ast.List, name: str) -> Source:
        value = self._unpacking().get(id(target))
        if value is None:
            return Source(Kind.UNKNOWN, f"`{name}` (unpacked)", target)
        if isinstance(value, ast.For | ast.AsyncFor | ast.comprehension):
            return self.source(value.iter)
        if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
            for element, item in zip(target.elts, value.elts, strict=True):
                if isinstance(element, ast.Name) and element.id == name:
                    return self.source(item)
        return self.source(value)

    def _unpacking(self) -> dict[int, ast.AST]:
        """Target tuple (by id) -> the value or loop it unpacks."""
        self._index()
        return self._unpacked  # type: ignore[return-value]

    def _index(self) -> None:
        """One walk of the function body: unpacked targets, `list.append(...)` and friends,
        and the names bound inside expressions (comprehension variables, `:=`)."""
        if self._unpacked is not None:
            return
        self._unpacked, self._appended, self._inner = {}, {}, {}
        if self.function is None:
            return
        for node in self.ctx.own_nodes(self.function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    self._nested_targets(target, node.value)
            elif isinstance(node, ast.For | ast.AsyncFor):
                self._nested_targets(node.target, node)
            elif isinstance(node, ast.comprehension):
                self._nested_targets(node.target, node)
                for name in _target_names(node.target):
                    self._inner.setdefault(name, []).append(node)
            elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self._inner.setdefault(node.target.id, []).append(node.value)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.args
            ):
                self._added(node)

    def _added(self, node: ast.Call) -> None:
        assert isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
        assert self._appended is not None
        target, method = node.func.value.id, node.func.attr
        if method == "append":
            self._appended.setdefault(target, []).append(node.args[0])
        elif method == "insert" and len(node.args) == 2:
            self._appended.setdefault(target, []).append(node.args[1])
        elif method == "extend":
            added = node.args[0]
            if isinstance(added, ast.List | ast.Tuple):
                elements = list(added.elts)
            elif isinstance(added, ast.ListComp | ast.GeneratorExp):
                elements = [added.elt]
            else:
                elements = [added]
            self._appended.setdefault(target, []).extend(elements)

    def _nested_targets(self, target: ast.AST, value: ast.AST) -> None:
        if not isinstance(target, ast.Tuple | ast.List):
            return
        self._unpacked[id(target)] = value  # type: ignore[index]
        for index, element in enumerate(target.elts):
            if (
                isinstance(value, ast.Tuple | ast.List)
                and len(value.elts) == len(target.elts)
                and isinstance(element, ast.Tuple | ast.List)
            ):
                self._nested_targets(element, value.elts[index])
            elif isinstance(element, ast.Tuple | ast.List):
                self._nested_targets(element, value)

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

    def _module_name_source(self, node: ast.Name) -> Source:
        name = node.id
        facts = self.ctx.facts
        if name in facts.constants:
            return Source(Kind.CONSTANT, f"the constant `{name}`", node)
        if name in facts.imports:
            return self._imported_source(node, facts.imports[name])
        values = self._module_bindings().get(name)
        if values:
            module_flow = flow(self.ctx, None)
            return worst(module_flow._binding_source(v, name) for v in values)
        if name in facts.classes and self.ctx.project.is_subclass(
            f"{self.ctx.module}.{name}", ENUM_BASES
        ):
            return Source(Kind.SAFE_IDENTIFIER, f"the enum `{name}`", node)
        return Source(Kind.UNKNOWN, f"`{name}`", node)

    def _imported_source(self, node: ast.AST, qualified: str) -> Source:
        project = self.ctx.project
        resolved = project.resolve(qualified)
        module, _, attr = resolved.rpartition(".")
        facts = project.modules.get(module)
        text = _short(node)
        if facts is not None and attr in facts.constants:
            return Source(Kind.CONSTANT, f"the constant `{text}`", node)
        prefix = resolved
        while "." in prefix:  # `Kind.A.value` where `Kind` is an enum class of the project
            if project.class_facts(prefix) is not None:
                if project.is_subclass(prefix, ENUM_BASES):
                    return Source(Kind.SAFE_IDENTIFIER, f"the enum member `{text}`", node)
                break
            prefix = prefix.rpartition(".")[0]
        if resolved in FLASK_REQUEST:
            return Source(Kind.UNKNOWN, "`request`", node)
        return Source(Kind.UNKNOWN, f"`{text}`", node)

    def _module_bindings(self) -> dict[str, list[ast.AST]]:
        owner = flow(self.ctx, None)
        if owner._module_values is None:
            owner._module_values = {}
            tree = self.ctx.source.tree
            for stmt in _module_statements(tree.body if tree else ()):
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            owner._module_values.setdefault(target.id, []).append(stmt.value)
                elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
                    if isinstance(stmt.target, ast.Name):
                        value = stmt if isinstance(stmt, ast.AugAssign) else stmt.value
                        owner._module_values.setdefault(stmt.target.id, []).append(value)
                elif isinstance(stmt, ast.For) and isinstance(stmt.target, ast.Name):
                    owner._module_values.setdefault(stmt.target.id, []).append(stmt)
        return owner._module_values

    def _attribute_source(self, node: ast.Attribute) -> Source:
        if node.attr in METADATA_ATTRIBUTES or _has_metadata(node.value):
            return Source(Kind.SAFE_IDENTIFIER, f"the model metadata `{_short(node)}`", node)
        if self._is_request_object(node.value):
            if node.attr in REQUEST_ATTRIBUTES:
                return Source(Kind.REQUEST, f"`{_short(node)}`", node)
            return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)  # request.user, .state...
        root = node.value
        if isinstance(root, ast.Name) and root.id in ("self", "cls"):
            if self._class_constant(node.attr) is not None:
                return Source(Kind.CONSTANT, f"the class constant `{_short(node)}`", node)
            if node.attr in ("value", "name") and self._in_enum():
                return Source(Kind.SAFE_IDENTIFIER, f"the enum member `{_short(node)}`", node)
            return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)
        head = (dotted(node) or "").partition(".")[0]
        if head and head in self.ctx.facts.imports and not self._is_local(head):
            qualified = self.ctx.qualname(node)
            if qualified is not None:
                return self._imported_source(node, qualified)
        owner = self.source(root)
        if owner.kind in (Kind.CONSTANT, Kind.SAFE_IDENTIFIER):
            return owner  # `Sort.NAME.value`, an attribute of a checked value
        if owner.kind in (Kind.REQUEST, Kind.PARAMETER):
            return Source(owner.kind, _derived(node, owner), owner.node)
        return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)

    def _values(self, name: str) -> list[ast.AST]:
        """The bindings of a local name, in source order."""
        if self.scope is None:
            return []
        return sorted(
            self.scope.values(name),
            key=lambda v: (getattr(v, "lineno", 0), getattr(v, "col_offset", 0)),
        )

    def _is_local(self, name: str) -> bool:
        scope = self.scope
        return scope is not None and (name in scope.params or bool(scope.values(name)))

    def _subscript_source(self, node: ast.Subscript) -> Source:
        container = self.source(node.value)
        if container.kind == Kind.CONSTANT and not isinstance(node.slice, ast.Slice):
            if self.source(node.slice).kind == Kind.CONSTANT:
                return CONSTANT
            return Source(
                Kind.SAFE_IDENTIFIER, f"a lookup in the constant `{_short(node.value)}`", node
            )
        if container.kind in (Kind.REQUEST, Kind.PARAMETER):
            return Source(container.kind, _derived(node, container), container.node)
        return container if container.kind != Kind.UNKNOWN else _unknown(node)

    def _call_source(self, node: ast.Call) -> Source:
        func = node.func
        qualified = self.ctx.qualname(func)
        last = (
            func.attr
            if isinstance(func, ast.Attribute)
            else (dotted(func) or "").rpartition(".")[2]
        )
        if qualified in NUMERIC_CALLS:
            return Source(Kind.CONSTANT, f"`{_short(node)}`", node)
        if isinstance(func, ast.Name) and self._is_local(func.id):
            aliased = [v for v in self._values(func.id) if isinstance(v, ast.Attribute | ast.Name)]
            if aliased:  # `qn = connection.ops.quote_name`
                alias = aliased[-1]
                last = alias.attr if isinstance(alias, ast.Attribute) else alias.id
        if last in SANITIZER_NAMES:
            return Source(Kind.SAFE_IDENTIFIER, f"`{_short(node)}` (quoted)", node)
        if last in GENERATED_SQL_NAMES:
            return Source(Kind.SAFE_IDENTIFIER, f"SQL generated by `{_short(node)}`", node)
        if qualified in IDENTITY_CALLS:
            return worst(self.source(arg) for arg in node.args)
        if isinstance(func, ast.Attribute):
            if func.attr == "join" and node.args:
                return worst((self.source(func.value), self.source(node.args[0])))
            if func.attr == "format" and (text := self.text(node)) is not None:
                return worst(hole.source for hole in text.holes)
            if func.attr in REQUEST_ATTRIBUTES and self._is_request_object(func.value):
                return Source(Kind.REQUEST, f"`{_short(node)}`", node)
            if func.attr in STRING_METHODS:
                receiver = self.source(func.value)
                return worst([receiver, *(self.source(arg) for arg in node.args)], receiver)
            if func.attr in ITEM_METHODS:
                receiver = self.source(func.value)
                if receiver.kind == Kind.CONSTANT:
                    default = node.args[1:2] if func.attr in ("get", "pop") else []
                    safe = Source(
                        Kind.SAFE_IDENTIFIER,
                        f"a lookup in the constant `{_short(func.value)}`",
                        node,
                    )
                    keys_constant = all(self.source(a).kind == Kind.CONSTANT for a in node.args)
                    base = CONSTANT if keys_constant else safe
                    return worst((self.source(d) for d in default), base)
                if receiver.kind in (Kind.REQUEST, Kind.PARAMETER):
                    return Source(receiver.kind, _derived(node, receiver), receiver.node)
                if receiver.kind == Kind.SAFE_IDENTIFIER:
                    return receiver
        return _unknown(node)

    def _ifexp_source(self, node: ast.IfExp) -> Source:
        checked = _checked_names(node.test, positive=True)
        body = self.source(node.body)
        if isinstance(node.body, ast.Name) and node.body.id in checked:
            body = Source(Kind.SAFE_IDENTIFIER, checked[node.body.id], node.body)
        orelse = self.source(node.orelse)
        if isinstance(node.orelse, ast.Name) and node.orelse.id in _checked_names(
            node.test, positive=False
        ):
            orelse = Source(Kind.SAFE_IDENTIFIER, "a checked value", node.orelse)
        return worst((body, orelse))

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

    def _in_enum(self) -> bool:
        klass = self.ctx.enclosing_class()
        if klass is None:
            return False
        qualified = f"{self.ctx.module}.{klass.name}"
        return self.ctx.project.is_subclass(qualified, ENUM_BASES)

    def _class_constant(self, attr: str) -> ast.AST | None:
        if self._class_constants is None:
            self._class_constants = {}
            klass = self.ctx.enclosing_class()
            for stmt in klass.body if klass else ():
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                    if isinstance(stmt, ast.AnnAssign) and stmt.value is not None
                    else []
                )
                value = getattr(stmt, "value", None)
                for target in targets:
                    if isinstance(target, ast.Name) and value is not None and is_literal(value):
                        self._class_constants[target.id] = value
        return self._class_constants.get(attr)

    # --- guards -------------------------------------------------------------------------------

    def _guard_for(self, name: str, use: ast.AST) -> _Guard | None:
        line = getattr(use, "lineno", 0)
        for guard in self._all_guards():
            if guard.name == name and guard.start <= line <= guard.end:
                return guard
        return None

    def _all_guards(self) -> list[_Guard]:
        if self._guards is not None:
            return self._guards
        guards: list[_Guard] = []
        function = self.function
        if function is not None and not isinstance(function, ast.Lambda):
            end = getattr(function, "end_lineno", None) or 10**9
            for node in self.ctx.own_nodes(function):
                if isinstance(node, ast.If):
                    self._if_guards(node, end, guards)
                elif isinstance(node, ast.Assert):
                    for name, origin in _checked_names(node.test, positive=True).items():
                        guards.append(_Guard(name, node.lineno, end, origin))
        self._guards = guards
        return guards

    def _if_guards(self, node: ast.If, end: int, guards: list[_Guard]) -> None:
        # `if col in ALLOWED: <use>`: holds in the body.
        if node.body:
            last = getattr(node.body[-1], "end_lineno", node.lineno)
            for name, origin in _checked_names(node.test, positive=True).items():
                guards.append(_Guard(name, node.body[0].lineno, last, origin))
        # `if col not in ALLOWED: raise`: holds after the `if`.
        failed = _checked_names(node.test, positive=False)
        if failed and node.body:
            after = (getattr(node, "end_lineno", None) or node.lineno) + 1
            exits = _exits(node.body)
            for name, origin in failed.items():
                resets = _reassigns_to_constant(node.body, name)
                if exits or resets:
                    guards.append(_Guard(name, after, end, origin))
            if node.orelse:  # `if col not in ALLOWED: raise ... else: <use>`
                first = node.orelse[0].lineno
                last = getattr(node.orelse[-1], "end_lineno", first)
                for name, origin in failed.items():
                    guards.append(_Guard(name, first, last, origin))

    # --- texts ----------------------------------------------------------------------------------

    def _text(self, node: ast.AST) -> Text | None:
        if isinstance(node, ast.Constant):
            return Text([node.value]) if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            return self._fstring_text(node)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                return self._concat_text(node)
            if isinstance(node.op, ast.Mod):
                return self._printf_text(node)
            return None
        if isinstance(node, ast.Name):
            return self._name_text(node)
        if isinstance(node, ast.Call):
            return self._call_text(node)
        if isinstance(node, ast.IfExp):
            body, orelse = self.text(node.body), self.text(node.orelse)
            if body is None and orelse is None:
                return None
            merged = Text()
            for branch, expr in ((body, node.body), (orelse, node.orelse)):
                merged.extend(branch if branch is not None else self._hole_text(expr))
            return merged
        return None

    def _fstring_text(self, node: ast.JoinedStr) -> Text:
        result = Text(built=[node])
        for value in node.values:
            if isinstance(value, ast.Constant):
                result.parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                self._interpolate(result, value.value, _numeric_spec(value.format_spec))
        return result

    def _concat_text(self, node: ast.BinOp) -> Text | None:
        left, right = self.text(node.left), self.text(node.right)
        if left is None and right is None:
            return None
        result = Text(built=[node])
        for side, expr in ((left, node.left), (right, node.right)):
            if side is not None:
                result.extend(side)
            else:
                result.parts.append(Hole(expr, self.source(expr)))
        return result

    def _printf_text(self, node: ast.BinOp) -> Text | None:
        template = self.text(node.left)
        if template is None:
            return None
        right = node.right
        result = Text(built=[node])
        values: list[ast.AST]
        named: dict[str, ast.AST] = {}
        if isinstance(right, ast.Tuple):
            values = list(right.elts)
        elif isinstance(right, ast.Dict):
            values = []
            for key, value in zip(right.keys, right.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    named[key.value] = value
                else:
                    values.append(value)
        else:
            values = [right]
        position = 0
        used: set[int] = set()
        for part in template.parts:
            if isinstance(part, Hole):
                result.parts.append(part)
                continue
            cursor = 0
            for match in _PRINTF.finditer(part):
                if match.group("conv") == "%":
                    continue
                result.parts.append(part[cursor : match.start()])
                cursor = match.end()
                key = match.group("key")
                if key is not None and key in named:
                    value: ast.AST | None = named[key]
                elif key is None and position < len(values):
                    value = values[position]
                    position += 1
                else:
                    value = None
                if value is None:
                    continue
                used.add(id(value))
                self._interpolate(result, value, match.group("conv") not in "rsa")
            result.parts.append(part[cursor:])
        result.built = [*template.built, node]
        leftovers = [v for v in (*values, *named.values()) if id(v) not in used]
        if isinstance(right, ast.Dict):
            leftovers = []  # unused keys of a mapping are not interpolated
        for value in leftovers:  # a single value that is a tuple/mapping at run time
            result.parts.append(Hole(value, self.source(value)))
        return result

    def _name_text(self, node: ast.Name) -> Text | None:
        """The text of a local variable: the texts of its bindings (`=` and `+=`), in order.

        Bindings that are not assembled here (a parameter, a call result) add nothing: the
        variable then holds SQL written elsewhere, which is that code's business.
        """
        scope = self.scope
        if scope is None or not self._is_local(node.id):
            constant = self._constant_string(node)
            return Text([constant]) if constant is not None else None
        texts: list[Text] = []
        for value in self._values(node.id):
            if isinstance(value, ast.AugAssign):
                text = self.text(value.value) if isinstance(value.op, ast.Add) else None
            elif isinstance(
                value, ast.For | ast.AsyncFor | ast.comprehension | ast.Tuple | ast.List
            ):
                text = None  # a loop variable or an unpacked value: not assembled here
            else:
                text = self.text(value)
            if text is not None:
                texts.append(text)
        if not texts:
            return None
        result = Text()
        for text in texts:
            result.extend(text)
        return result

    def _constant_string(self, node: ast.Name) -> str | None:
        """The value of a module-level string constant of this module."""
        values = self._module_bindings().get(node.id) or []
        if len(values) == 1 and isinstance(values[0], ast.Constant):
            value = values[0].value
            return value if isinstance(value, str) else None
        return None

    def _call_text(self, node: ast.Call) -> Text | None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            qualified = self.ctx.qualname(func)
            if qualified in ("textwrap.dedent", "builtins.str", "inspect.cleandoc") and node.args:
                return self.text(node.args[0])
            return None
        if func.attr == "format":
            return self._format_text(node)
        if func.attr == "join" and len(node.args) == 1:
            separator = self.text(func.value)
            if separator is None:
                return None
            return self._join_text(separator, node.args[0], node)
        if func.attr in STRING_METHODS and func.attr not in ("split", "rsplit", "splitlines"):
            base = self.text(func.value)
            if base is None:
                return None
            result = Text(list(base.parts), [*base.built])
            for arg in node.args[1:] if func.attr == "replace" else ():
                sub = self.text(arg)
                if sub is not None and sub.dynamic:
                    result.extend(sub)
                elif sub is None:
                    result.parts.append(Hole(arg, self.source(arg)))
            return result
        return None

    def _format_text(self, node: ast.Call) -> Text | None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        template = self.text(func.value)
        if template is None:
            return None
        positional = list(node.args)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
        spread = [kw.value for kw in node.keywords if kw.arg is None]
        spread += [a.value for a in positional if isinstance(a, ast.Starred)]
        result = Text(built=[*template.built, node])
        automatic = 0
        for part in template.parts:
            if isinstance(part, Hole):
                result.parts.append(part)
                continue
            try:
                fields = list(string.Formatter().parse(part))
            except ValueError:
                result.parts.append(part)
                continue
            for literal, field_name, spec, _conversion in fields:
                result.parts.append(literal)
                if field_name is None:
                    continue
                root = re.split(r"[.\[]", field_name, maxsplit=1)[0]
                value: ast.AST | None
                if root == "":
                    value = positional[automatic] if automatic < len(positional) else None
                    automatic += 1
                elif root.isdigit():
                    index = int(root)
                    value = positional[index] if index < len(positional) else None
                else:
                    value = keywords.get(root)
                unmatched = value is None or isinstance(value, ast.Starred)
                candidates = spread if unmatched else [value]
                if unmatched and root and not root.isdigit() and _spreads_locals(spread):
                    local = ast.Name(id=root, ctx=ast.Load())
                    candidates = [ast.copy_location(local, node)]
                numeric = bool(spec) and _NUMERIC_SPEC.search(spec) is not None
                for candidate in candidates:
                    self._interpolate(result, candidate, numeric)
        return result

    def _join_text(self, separator: Text, iterable: ast.AST, node: ast.Call) -> Text:
        result = Text(built=[*separator.built, node])
        for index, item in enumerate(self.elements(iterable)):
            if index:
                result.parts.extend(separator.parts)
            self._interpolate(result, item)
        return result

    def _appended_values(self, name: str) -> list[ast.AST]:
        """What `name.append(x)`, `name.extend([...])`, `name.insert(i, x)` add to a local list."""
        self._index()
        return self._appended.get(name, [])  # type: ignore[union-attr]

    def _hole_text(self, expr: ast.AST) -> Text:
        return Text([Hole(expr, self.source(expr))])

    def _interpolate(self, result: Text, expr: ast.AST, numeric: bool = False) -> None:
        """Append what `expr` adds to the string: its own text when it was assembled in this
        function (so the holes are the values it was built from), else one hole."""
        if numeric:
            result.parts.append(Hole(expr, Source(Kind.CONSTANT, "a number", expr)))
            return
        sub = self.text(expr)
        if sub is not None:
            result.extend(sub)
        else:
            result.parts.append(Hole(expr, self.source(expr)))

    def elements(self, node: ast.AST) -> list[ast.AST]:
        """The items of a list/tuple literal or comprehension, or of a local list built from
        literals, comprehensions, `+=` and `append`/`extend`/`insert`; else `[node]`."""
        if isinstance(node, ast.List | ast.Tuple | ast.Set) and isinstance(node.ctx, ast.Load):
            return list(node.elts)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp):
            return [node.elt]
        if isinstance(node, ast.Name) and self.scope is not None and self._is_local(node.id):
            values = self._values(node.id)
            if not values:
                return [node]
            items: list[ast.AST] = []
            for value in values:
                if isinstance(value, ast.AugAssign):
                    items.extend(self.elements(value.value))
                elif isinstance(value, ast.List | ast.Tuple | ast.Set) and isinstance(
                    value.ctx, ast.Load
                ):
                    items.extend(value.elts)
                elif isinstance(value, ast.ListComp | ast.GeneratorExp | ast.SetComp):
                    items.append(value.elt)
                else:
                    items.append(node)  # bound to something opaque: the list as a whole
            return items + self._appended_values(node.id)
        return [node]


# --- helpers -----------------------------------------------------------------------------------


def _short(node: ast.AST, limit: int = 60) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every parsed node
        return "?"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unknown(node: ast.AST) -> Source:
    if isinstance(node, ast.Call):
        return Source(Kind.UNKNOWN, f"the result of `{_short(node)}`", node)
    return Source(Kind.UNKNOWN, f"`{_short(node)}`", node)


def _derived(node: ast.AST, owner: Source) -> str:
    """Origin text for `x.attr` / `x[k]` / `x.get(k)` when x is request data or a parameter."""
    if owner.kind == Kind.REQUEST and owner.origin.startswith("`"):
        return f"`{_short(node)}`"
    return f"`{_short(node)}` ({owner.origin})"


def _function_label(function: FunctionNode) -> str:
    if isinstance(function, ast.Lambda):
        return "a lambda"
    return f"`{function.name}`"


def _numeric_spec(spec: ast.AST | None) -> bool:
    if not isinstance(spec, ast.JoinedStr) or not spec.values:
        return False
    last = spec.values[-1]
    return (
        isinstance(last, ast.Constant)
        and isinstance(last.value, str)
        and _NUMERIC_SPEC.search(last.value) is not None
    )


def _is_literal_sequence(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)) or (
        isinstance(node, ast.List | ast.Tuple) and is_literal(node)
    )


def _spreads_locals(spread: list[ast.AST]) -> bool:
    """`.format(**locals())` / `.format(**vars())`: fields name local variables."""
    return len(spread) == 1 and (
        isinstance(spread[0], ast.Call)
        and isinstance(spread[0].func, ast.Name)
        and spread[0].func.id in ("locals", "vars")
        and not spread[0].args
    )


def _target_names(target: ast.AST) -> list[str]:
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]


def _is_ellipsis(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is Ellipsis


def _has_metadata(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        if isinstance(node, ast.Attribute) and node.attr in METADATA_ATTRIBUTES:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _module_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.Try | ast.With | ast.For):
            for name in ("body", "orelse", "finalbody"):
                yield from _module_statements(getattr(stmt, name, ()))
            for handler in getattr(stmt, "handlers", ()):
                yield from _module_statements(handler.body)


def _checked_names(test: ast.AST, *, positive: bool) -> dict[str, str]:
    """Names that a test restricts to a known set when it is true (`positive`) or false.

    True: `x in C`, `re.fullmatch(P, x)`, `x.isidentifier()`, and `and` of those.
    False: `x not in C`, `not x in C`, `not re.match(P, x)`, and `or` of those.
    """
    found: dict[str, str] = {}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _checked_names(test.operand, positive=not positive)
    if isinstance(test, ast.BoolOp):
        combine = ast.And if positive else ast.Or
        if isinstance(test.op, combine):
            for value in test.values:
                found.update(_checked_names(value, positive=positive))
        return found
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name):
        op = test.ops[0]
        container = _short(test.comparators[0], 40)
        if (positive and isinstance(op, ast.In)) or (not positive and isinstance(op, ast.NotIn)):
            found[test.left.id] = f"`{test.left.id}`, checked against `{container}`"
        return found
    if positive and isinstance(test, ast.Call):
        func = test.func
        if isinstance(func, ast.Attribute) and func.attr in VALIDATORS:
            if isinstance(func.value, ast.Name) and not test.args:
                found[func.value.id] = f"`{func.value.id}`, checked with `{func.attr}()`"
        elif (dotted(func) or "").rpartition(".")[2] in ("match", "fullmatch") and test.args:
            subject = test.args[-1] if len(test.args) >= 2 else None
            if isinstance(func, ast.Attribute) and len(test.args) == 1:
                subject = test.args[0]  # PATTERN.match(x)
            if isinstance(subject, ast.Name):
                found[subject.id] = f"`{subject.id}`, checked with a regular expression"
    return found


def _exits(body: list[ast.stmt]) -> bool:
    last = body[-1]
    if isinstance(last, ast.Raise | ast.Return | ast.Continue | ast.Break):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        name = (dotted(last.value.func) or "").rpartition(".")[2]
        return name in EXIT_CALLS
    return False


def _reassigns_to_constant(body: list[ast.stmt], name: str) -> bool:
    for stmt in body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
            and is_literal(stmt.value)
        ):
            return True
    return False
