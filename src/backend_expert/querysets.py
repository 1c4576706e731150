"""Queryset flow inside one function: which names hold querysets and rows of which model.

`flow(ctx)` gives the file's `Flow`. `flow.queryset(expr, function)` answers "is this a
queryset, of which model, and which `select_related`/`prefetch_related`/`values` cover it?",
following the chain (`Order.objects.filter(...).select_related("customer")`), custom manager
and queryset methods (their bodies summarised by the index), related managers
(`order.items.all()`), functions annotated `-> QuerySet[Model]`, and local names (also when a
queryset is built in one variable and refined or iterated through another).
`flow.instance(expr, function)` answers "is this a model row, and where does it come from?".

Like `infer`, the answers are honest: None means "not known", and coverage that cannot be
read (a variable passed to `select_related`, a custom method bex cannot summarise, a
parameter) is `unknown`, which the rules take as "covered".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from backend_expert.django_facts import MANAGER_ATTRIBUTES, QUERYSET_METHODS, queryset_items
from backend_expert.django_models import DjangoModels, django_models
from backend_expert.infer import FunctionNode, unwrap_annotation
from backend_expert.nodes import children

if TYPE_CHECKING:
    from backend_expert.check import FileContext

# Methods that run the query and return one row.
ROW_METHODS = frozenset(
    {"get", "first", "last", "latest", "earliest", "create", "get_or_create", "update_or_create"}
)
# Methods that run a query (or a write) right away, and their async twins.
EVALUATING_METHODS = {
    "get": "aget",
    "first": "afirst",
    "last": "alast",
    "latest": "alatest",
    "earliest": "aearliest",
    "count": "acount",
    "exists": "aexists",
    "contains": "acontains",
    "create": "acreate",
    "get_or_create": "aget_or_create",
    "update_or_create": "aupdate_or_create",
    "bulk_create": "abulk_create",
    "bulk_update": "abulk_update",
    "update": "aupdate",
    "delete": "adelete",
    "aggregate": "aaggregate",
    "in_bulk": "ain_bulk",
    "explain": "aexplain",
    "iterator": "aiterator",
}
INSTANCE_METHODS = {
    "save": "asave",
    "delete": "adelete",
    "refresh_from_db": "arefresh_from_db",
}
QUERYSET_TYPES = frozenset(
    {
        "django.db.models.QuerySet",
        "django.db.models.query.QuerySet",
        "django.db.models.Manager",
        "django.db.models.manager.Manager",
    }
)
GET_OR_404 = frozenset({"django.shortcuts.get_object_or_404"})
GET_USER_MODEL = frozenset(
    {"django.contrib.auth.get_user_model", "django.contrib.auth.models.get_user_model"}
)


@dataclass(frozen=True)
class QuerySet:
    """A queryset of `model`, with what covers its rows."""

    model: str
    classes: tuple[str, ...] = ()  # custom manager/queryset classes whose methods it has
    select: frozenset[str] = frozenset()
    prefetch: frozenset[str] = frozenset()
    values: bool = False  # rows are dicts or tuples (`values()`, `values_list()`)
    unknown: bool = False  # coverage cannot be known: take it as covered
    locked: bool = False  # `select_for_update()`
    evaluated: bool = False  # a list of rows (`list(qs)`), no query left to run
    related: bool = False  # built from a related manager (`order.items...`)
    sliced: bool = False
    # A queryset read from a row of an outer queryset (`order.items.all()` in a loop over
    # orders): the outer queryset and the path from it ("items"), for nested lookups.
    outer: QuerySet | None = None
    path: str = ""
    manager: bool = False  # the manager itself (`Order.objects`), not a queryset yet
    external: bool = False  # came from a parameter or a call: it may have been evaluated
    cached: bool = False  # a related manager of a row from elsewhere: maybe prefetched
    only: frozenset[str] | None = None  # fields named in `.only()` (first lookup parts)
    deferred: frozenset[str] = frozenset()  # fields named in `.defer()`

    def covers(self, path: str) -> bool:
        """True when `path` ("author__profile") is loaded by select/prefetch_related."""
        if self.unknown or self.cached or "*" in self.select:
            return True
        for entry in (*self.select, *self.prefetch):
            if entry == path or entry.startswith(path + "__"):
                return True
        return False

    def apply(self, items: tuple[str, ...] | set[str]) -> QuerySet:
        select, prefetch = set(self.select), set(self.prefetch)
        values, unknown = self.values, self.unknown
        for item in items:
            kind, _, value = item.partition(":")
            if kind == "select":
                select.add(value)
            elif kind == "prefetch":
                prefetch.add(value)
            elif kind == "values":
                values = True
            else:  # unknown, or an unresolved call
                unknown = True
        return replace(
            self,
            select=frozenset(select),
            prefetch=frozenset(prefetch),
            values=values,
            unknown=unknown,
            manager=False,
        )

    def loads(self, field: str) -> bool:
        """False when `.only()`/`.defer()` leave the column out of the rows."""
        return field not in self.deferred and (self.only is None or field in self.only)

    def full_path(self, path: str) -> tuple[QuerySet, str]:
        """The outermost queryset and the path from it to `path` of this one's rows."""
        queryset, full = self, path
        while queryset.outer is not None:
            full = f"{queryset.path}__{full}"
            queryset = queryset.outer
        return queryset, full


@dataclass(frozen=True)
class Instance:
    """A model row, and where it comes from."""

    model: str
    source: QuerySet | None = None  # the queryset it was read from (a loop, `.get()`)
    new: bool = False  # built in this function (`Model(...)`, `.create()`)
    loop: ast.AST | None = None  # the loop whose target it is
    single: bool = False  # fetched on its own (`.get()`), not one of many rows


@dataclass
class Flow:
    ctx: FileContext
    models: DjangoModels
    _cache: dict[tuple[int, int], object] = field(default_factory=dict)
    _binding: dict[tuple[int, str], object] = field(default_factory=dict)

    # --- querysets -------------------------------------------------------------------------

    def queryset(self, node: ast.AST, function: FunctionNode | None) -> QuerySet | None:
        """The queryset `node` holds (not a bare manager), or None."""
        found = self._source(node, function, 0)
        return found if found is not None and not found.manager else None

    def source(self, node: ast.AST, function: FunctionNode | None) -> QuerySet | None:
        """A queryset or a manager (`Order.objects`, `order.items`)."""
        return self._source(node, function, 0)

    def _source(self, node: ast.AST, function: FunctionNode | None, depth: int) -> QuerySet | None:
        if depth > 12:
            return None
        key = (id(node), id(function))
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        self._cache[key] = None  # cycle guard
        result = self._compute(node, function, depth)
        self._cache[key] = result
        return result

    def _compute(self, node: ast.AST, function: FunctionNode | None, depth: int) -> QuerySet | None:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                base = self._source(func.value, function, depth + 1)
                if base is None:
                    return None
                return self._method(base, func.attr, node)
            if isinstance(func, ast.Name) and func.id in ("list", "tuple", "sorted") and node.args:
                if self.ctx.qualname(func) in (f"builtins.{func.id}",):
                    inner = self.queryset(node.args[0], function)
                    if inner is not None and len(node.args) == 1:
                        return replace(inner, evaluated=True)
                return None
            return self._returned(node)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            base = self._source(node.value, function, depth + 1)
            if base is None or base.manager:
                return None
            return replace(base, sliced=True)
        if isinstance(node, ast.Attribute):
            return self._manager(node, function, depth)
        if isinstance(node, ast.Name) and function is not None:
            return self._name(node.id, function, depth)
        return None

    def _method(self, base: QuerySet, name: str, call: ast.Call) -> QuerySet | None:
        if base.evaluated:
            return None
        if base.cached and name != "all":
            base = replace(base, cached=False)  # a new query: no prefetch cache applies
        if name in QUERYSET_METHODS:
            if name == "get_queryset" and not base.manager:
                return None
            if name in ("select_related", "prefetch_related") and base.outer is not None:
                base = replace(base, outer=None, path="")
            elif base.outer is not None and name != "all":
                base = replace(base, outer=None, path="", prefetch=frozenset(), select=frozenset())
            result = base.apply(queryset_items(name, call))
            if name == "select_for_update":
                result = replace(result, locked=True)
            elif name in ("only", "defer"):
                fields = frozenset(
                    a.value.partition("__")[0]
                    for a in call.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
                if name == "only":
                    result = replace(result, only=fields | (result.only or frozenset()))
                else:
                    result = replace(result, deferred=result.deferred | fields)
            if name in ("select_related", "prefetch_related") and any(
                arg is None or (isinstance(arg, ast.Constant) and arg.value is None)
                for arg in call.args
            ):
                result = replace(result, unknown=True)
            return result
        if name == "iterator":  # rows one chunk at a time: still this queryset's rows
            return replace(base, manager=False)
        summary = self.models.method_summary(base.classes, name)
        if summary is None:
            return None
        return replace(base, outer=None, path="").apply(summary)

    def _manager(
        self, node: ast.Attribute, function: FunctionNode | None, depth: int
    ) -> QuerySet | None:
        """`Model.objects` (a model's manager) or `row.items` (a related manager)."""
        models = self.models
        if node.attr in MANAGER_ATTRIBUTES or not node.attr.startswith("_"):
            value = node.value
            if (
                isinstance(value, ast.Call)
                and self.ctx.qualname(value.func) in GET_USER_MODEL
                and not value.args
            ):
                qualified = models.user_model
            else:
                qualified = self.ctx.qualname(value)
            model = models.model(qualified) if qualified else None
            if model is not None:
                classes = models.manager(model.qualname, node.attr)
                if classes is None:
                    return None
                root = QuerySet(model.qualname, classes, manager=True)
                return root.apply(models.base_summary(classes))
        row = self.instance(node.value, function, depth + 1)
        if row is None:
            return None
        relation = models.attribute(row.model, node.attr)
        if relation is None or not getattr(relation, "many", False) or relation.target is None:
            return None
        target = models.model(relation.target)
        if target is None:
            return None
        classes = self._default_classes(target.qualname)
        base = QuerySet(target.qualname, classes, related=True, manager=True)
        base = base.apply(models.base_summary(classes))
        if row.source is None and not row.new:
            # A row from elsewhere (`self`, a parameter): its caller may have prefetched the
            # relation, so what `.all()` reads is unknown; any other method runs a new query.
            base = replace(base, cached=True)
        elif row.source is not None and not row.new:
            outer = row.source
            prefix = node.attr
            inner_select = {
                p.removeprefix(prefix + "__") for p in outer.select if p.startswith(prefix + "__")
            }
            inner_prefetch = {
                p.removeprefix(prefix + "__") for p in outer.prefetch if p.startswith(prefix + "__")
            }
            base = replace(
                base,
                outer=None if row.single else outer,
                path="" if row.single else prefix,
                select=base.select | inner_select,
                prefetch=base.prefetch | inner_prefetch,
                unknown=base.unknown or outer.unknown,
            )
        return base

    def _default_classes(self, model: str) -> tuple[str, ...]:
        classes = self.models.manager(model, "_default_manager")
        return classes or ()

    def _returned(self, call: ast.Call) -> QuerySet | None:
        """A project function annotated `-> QuerySet[Model]`."""
        name = self.ctx.qualname(call.func)
        if name is None:
            return None
        facts = self.ctx.project.function_facts(name)
        if facts is None or not facts.returns or not facts.returns_arg:
            return None
        head = self.ctx.project.resolve(facts.returns)
        if head not in QUERYSET_TYPES and not head.endswith("QuerySet"):
            return None
        model = self.models.model(facts.returns_arg)
        if model is None:
            return None
        return QuerySet(
            model.qualname, self._default_classes(model.qualname), unknown=True, external=True
        )

    def _name(self, name: str, function: FunctionNode, depth: int) -> QuerySet | None:
        scope = self.ctx.scope(function)
        values = scope.values(name)
        if not values:
            if name in scope.params:
                return self._annotated_queryset(scope.params[name].annotation)
            return None
        key = (id(function), name)
        if key in self._binding:
            return self._binding[key]  # type: ignore[return-value]
        plain = [v for v in values if not _mentions(v, name)]
        refining = [v for v in values if _mentions(v, name)]
        self._binding[key] = None
        found = [self._value(v, function, depth) for v in plain]
        if not found or any(f is None for f in found):
            return None
        base = _merge(found)  # type: ignore[arg-type]
        if base is None:
            return None
        self._binding[key] = base
        for value in refining:
            more = self._value(value, function, depth, fresh=True)
            if more is None:
                self._binding[key] = None
                return None
            merged = _merge([base, more])
            if merged is None:
                self._binding[key] = None
                return None
            base = merged
        self._binding[key] = base
        return base

    def _value(
        self, value: ast.AST, function: FunctionNode, depth: int, fresh: bool = False
    ) -> QuerySet | None:
        if isinstance(value, (ast.For, ast.AsyncFor, ast.comprehension, ast.Tuple, ast.List)):
            return None
        if isinstance(value, ast.AugAssign):
            return None
        if fresh:
            return self._compute(value, function, depth + 1)
        return self._source(value, function, depth + 1)

    def _annotated_queryset(self, annotation: ast.AST | None) -> QuerySet | None:
        node = unwrap_annotation(annotation)
        if not isinstance(node, ast.Subscript):
            return None
        head = self.ctx.qualname(node.value)
        if head is None:
            return None
        head = self.ctx.project.resolve(head)
        if head not in QUERYSET_TYPES:
            return None
        inner = node.slice
        first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
        qualified = (
            self.ctx.qualname(first) if isinstance(first, (ast.Name, ast.Attribute)) else None
        )
        model = self.models.model(qualified) if qualified else None
        if model is None:
            return None
        return QuerySet(
            model.qualname, self._default_classes(model.qualname), unknown=True, external=True
        )

    # --- rows ------------------------------------------------------------------------------

    def instance(
        self, node: ast.AST, function: FunctionNode | None, depth: int = 0
    ) -> Instance | None:
        if depth > 12:
            return None
        if isinstance(node, ast.Name):
            if function is None:
                return None
            return self._instance_name(node.id, function, depth)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ROW_METHODS:
                base = self._source(func.value, function, depth + 1)
                if (
                    base is None
                    or base.values
                    or func.attr in ("get_or_create", "update_or_create")
                ):
                    return None
                return Instance(base.model, base, new=func.attr == "create", single=True)
            qualified = self.ctx.qualname(func)
            if qualified is None:
                return None
            if self.ctx.project.resolve(qualified) in GET_OR_404 and node.args:
                first = node.args[0]
                source = self._source(first, function, depth + 1)  # a queryset or a manager
                if source is None:
                    target = self.ctx.qualname(first)
                    model = self.models.model(target) if target else None
                    if model is None:
                        return None
                    classes = self._default_classes(model.qualname)
                    source = QuerySet(model.qualname, classes).apply(
                        self.models.base_summary(classes)
                    )
                return Instance(source.model, source, single=True)
            model = self.models.model(qualified)
            if model is not None and not model.abstract:
                return Instance(model.qualname, new=True)
        return None

    def _instance_name(self, name: str, function: FunctionNode, depth: int) -> Instance | None:
        scope = self.ctx.scope(function)
        values = scope.values(name)
        if not values:
            if name in scope.params:
                if name == "self" and not isinstance(function, ast.Lambda):
                    return self._self_row()
                return self._annotated_instance(scope.params[name].annotation)
            outer = self.ctx.enclosing_function(above=function)
            return self._instance_name(name, outer, depth + 1) if outer is not None else None
        if len(values) != 1:
            return None
        value = values[0]
        if isinstance(value, (ast.For, ast.comprehension)):
            target = value.target
            if not (isinstance(target, ast.Name) and target.id == name):
                return None
            source = self.queryset(value.iter, function)
            if source is None or source.values:
                return None
            return Instance(source.model, source, loop=value)
        if isinstance(value, (ast.AsyncFor, ast.Tuple, ast.List, ast.AugAssign)):
            return None
        return self.instance(value, function, depth + 1)

    def _self_row(self) -> Instance | None:
        klass = self.ctx.enclosing_class()
        if klass is None:
            return None
        model = self.models.model(f"{self.ctx.module}.{klass.name}")
        if model is None or model.abstract:
            return None
        return Instance(model.qualname)

    def _annotated_instance(self, annotation: ast.AST | None) -> Instance | None:
        node = unwrap_annotation(annotation)
        if not isinstance(node, (ast.Name, ast.Attribute)):
            return None
        qualified = self.ctx.qualname(node)
        model = self.models.model(qualified) if qualified else None
        return Instance(model.qualname) if model is not None and not model.abstract else None


def _mentions(node: ast.AST, name: str) -> bool:
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return False
    stack = [node]
    while stack:
        current = stack.pop()
        if current.__class__ is ast.Name:
            if current.id == name:  # type: ignore[attr-defined]
                return True
            continue
        stack.extend(children(current))
    return False


def _merge(found: list[QuerySet]) -> QuerySet | None:
    """Several bindings of one name: the same model, covered by what any of them covers."""
    first = found[0]
    if any(f.model != first.model for f in found):
        return None
    if len(found) == 1:
        return first
    return replace(
        first,
        select=frozenset().union(*(f.select for f in found)),
        prefetch=frozenset().union(*(f.prefetch for f in found)),
        values=any(f.values for f in found),
        unknown=any(f.unknown for f in found),
        locked=all(f.locked for f in found),
        evaluated=any(f.evaluated for f in found),
        related=any(f.related for f in found),
        manager=any(f.manager for f in found),
        external=any(f.external for f in found),
        cached=any(f.cached for f in found),
        outer=first.outer if all(f.outer == first.outer for f in found) else None,
    )


def flow(ctx: FileContext) -> Flow | None:
    """The queryset flow of the file being checked (None when the project has no models)."""
    cached = ctx.__dict__.get("_queryset_flow", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    models = django_models(ctx.project)
    result = Flow(ctx, models) if any(not q.startswith("django.") for q in models.models) else None
    ctx.__dict__["_queryset_flow"] = result
    return result
