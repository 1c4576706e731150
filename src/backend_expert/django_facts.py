"""Django facts gathered while indexing: what custom QuerySet/Manager methods return,
equality lookups on model managers, and save-signal receivers.

Called from `index.collect_facts`; kept apart so the generic indexer stays small.
"""

from __future__ import annotations

import ast
import bisect
from typing import TYPE_CHECKING

from backend_expert.index import dotted
from backend_expert.nodes import _FIELDS, LEAVES, child_fields, own_statements

if TYPE_CHECKING:
    from backend_expert.index import _FactCollector


# QuerySet methods that return another QuerySet of the same model.
QUERYSET_METHODS = frozenset(
    {
        "all", "filter", "exclude", "order_by", "distinct", "annotate", "alias", "reverse",
        "using", "select_for_update", "defer", "only", "none", "select_related",
        "prefetch_related", "extra", "complex_filter", "union", "intersection", "difference",
        "values", "values_list", "get_queryset", "restrict",
    }
)  # fmt: skip
LOOKUP_METHODS = frozenset({"filter", "get", "exclude"})
MANAGER_ATTRIBUTES = frozenset({"objects", "_default_manager", "_base_manager"})
LOOKUP_CAP = 3
# Nodes that hold no call: the lookup walk does not visit them.


def _queryset_like(name: str, bases: tuple[str, ...]) -> bool:
    return any(
        "QuerySet" in part or "Manager" in part
        for part in (name, *(b.rpartition(".")[2] for b in bases))
    )


def chain_summary(node: ast.AST, self_names: tuple[str, ...] = ("self",)) -> tuple[str, ...] | None:
    """What a queryset chain rooted at `self` (or `super()`) applies, as summary items.

    None when `node` is not a method call chain. Items: `select:path`, `prefetch:path`,
    `values`; `call:m` (a custom method inside the chain), `returns:m` (the outermost call
    is a custom method: the result is whatever `m` returns), `super:m` (the parent class's
    `m`), `unknown` (the chain starts somewhere else: coverage cannot be known).
    """
    items: set[str] = set()
    first = True
    while True:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            node = node.value
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            break
        name = node.func.attr
        receiver = node.func.value
        builtin = name in QUERYSET_METHODS
        if builtin:
            items |= queryset_items(name, node)
        elif name not in ("_chain", "_clone"):
            items.add(f"{'returns' if first else 'call'}:{name}")
        first = False
        if (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super"
        ):
            items.discard(f"returns:{name}")
            items.discard(f"call:{name}")
            items.add("super:get_queryset" if builtin else f"super:{name}")
            return tuple(sorted(items))
        node = receiver
    if first:
        return None
    if not (isinstance(node, ast.Name) and node.id in self_names):
        items.add("unknown")
    return tuple(sorted(items))


def queryset_items(name: str, call: ast.Call) -> set[str]:
    if name in ("values", "values_list"):
        return {"values"}
    if name not in ("select_related", "prefetch_related"):
        return set()
    kind = "select" if name == "select_related" else "prefetch"
    if not call.args and not call.keywords:
        return {f"{kind}:*"}
    found: set[str] = set()
    for arg in call.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            found.add(f"{kind}:{arg.value}")
        elif (
            kind == "prefetch"
            and isinstance(arg, ast.Call)
            and (dotted(arg.func) or "").rpartition(".")[2] == "Prefetch"
            and arg.args
            and isinstance(arg.args[0], ast.Constant)
            and isinstance(arg.args[0].value, str)
        ):
            to_attr = next((k.value for k in arg.keywords if k.arg == "to_attr"), None)
            if isinstance(to_attr, ast.Constant) and isinstance(to_attr.value, str):
                found.add(f"prefetch:{to_attr.value}")
            elif to_attr is None:
                found.add(f"prefetch:{arg.args[0].value}")
        else:
            found.add("unknown")
    return found


def _method_returns(method: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...] | None:
    """The union of what every `return` of a QuerySet/Manager method applies, or None."""
    items: set[str] = set()
    seen = False
    for stmt in own_statements(method.body):
        if isinstance(stmt, ast.Return):
            if stmt.value is None:
                return None
            summary = chain_summary(stmt.value)
            if summary is None:
                return None
            items.update(summary)
            seen = True
    return tuple(sorted(items)) if seen else None


SAVE_SIGNALS = frozenset(
    {
        "django.db.models.signals.post_save",
        "django.db.models.signals.pre_save",
        "django.db.models.post_save",
        "django.db.models.pre_save",
    }
)
RECEIVER = frozenset({"django.dispatch.receiver", "django.dispatch.dispatcher.receiver"})


def _save_signal(node: ast.Call, collector: _FactCollector) -> str | None:
    """The sender of `post_save.connect(f, sender=X)` / `@receiver(post_save, sender=X)`."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "connect":
        if collector.qualify(func.value) not in SAVE_SIGNALS:
            return None
    elif isinstance(func, (ast.Name, ast.Attribute)) and collector.qualify(func) in RECEIVER:
        signals = node.args[0] if node.args else None
        items = signals.elts if isinstance(signals, (ast.Tuple, ast.List)) else [signals]
        if not any(
            isinstance(i, (ast.Name, ast.Attribute)) and collector.qualify(i) in SAVE_SIGNALS
            for i in items
        ):
            return None
    else:
        return None
    sender = next((k.value for k in node.keywords if k.arg == "sender"), None)
    if isinstance(sender, (ast.Name, ast.Attribute)):
        return collector.qualify(sender) or "*"
    return "*"


# A module whose text has none of these makes no lookup `_lookups` records.
ORM_WORDS = ("objects", "_manager", "_or_404", "connect", "receiver")


def _may_use_the_orm(imported: set[str]) -> bool:
    """Django imported, or something from a `models` module: worth a walk for ORM lookups."""
    return any(
        name.startswith("django") or name.endswith("models") or ".models." in name
        for name in imported
    )


_STATEMENT_LISTS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


def _lines_with(text: str | None, words: tuple[str, ...]) -> list[int] | None:
    """Sorted numbers of the lines mentioning one of `words` (None: no text, look everywhere)."""
    if text is None:
        return None
    starts: list[int] = []  # str.find per word: far cheaper than a regex alternation
    for word in words:
        start = text.find(word)
        while start >= 0:
            starts.append(start)
            start = text.find(word, start + len(word))
    starts.sort()
    lines: list[int] = []
    line, position = 1, 0
    for start in starts:
        line += text.count("\n", position, start)
        position = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _expressions_on(tree: ast.Module, lines: list[int] | None) -> list[ast.AST]:
    """The expressions of every statement (nested blocks included) that span one of `lines`:
    walking statements is cheap, walking every expression of a big module is not."""
    if lines is None:
        return [tree]
    roots: list[ast.AST] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        decorators = getattr(node, "decorator_list", None)
        first = decorators[0].lineno if decorators else getattr(node, "lineno", 0)
        if first and not _spans(lines, first, getattr(node, "end_lineno", None)):
            continue  # no candidate line in this statement, its body included
        for name in child_fields(node.__class__):
            value = getattr(node, name, None)
            items = value if value.__class__ is list else [value]
            for item in items:
                if item is None or not isinstance(item, ast.AST):
                    continue
                if name in _STATEMENT_LISTS or isinstance(item, ast.stmt):
                    stack.extend(item.body if name in ("handlers", "cases") else [item])
                elif not hasattr(item, "lineno") or _spans(lines, item.lineno, item.end_lineno):
                    roots.append(item)
    return roots


def _spans(lines: list[int], first: int, last: int | None) -> bool:
    """Whether a sorted list of line numbers has one between `first` and `last`."""
    index = bisect.bisect_left(lines, first)
    return index < len(lines) and lines[index] <= (last or first)


def _lookups(
    roots: list[ast.AST], collector: _FactCollector
) -> tuple[dict[tuple[str, str], int], set[str]]:
    """Keyword lookups on model managers (`X.objects....filter(field=...)`,
    `get_object_or_404(X, f=...)`), and the senders of save-signal receivers."""
    counts: dict[tuple[str, str], int] = {}
    signals: set[str] = set()
    stack: list[ast.AST] = list(roots)
    call, leaves, fields, base = ast.Call, LEAVES, _FIELDS, ast.AST
    while stack:  # the walk of nodes.children, inlined: this runs over every file
        node = stack.pop()
        kind = node.__class__
        names = fields.get(kind)
        if names is None:
            names = child_fields(kind)
        for name in names:
            value = getattr(node, name, None)
            if value.__class__ is list:
                stack.extend(v for v in value if isinstance(v, base) and v.__class__ not in leaves)
            elif isinstance(value, base) and value.__class__ not in leaves:
                stack.append(value)
        if kind is not call:
            continue
        func = node.func  # type: ignore[attr-defined]
        last = func.attr if func.__class__ is ast.Attribute else getattr(func, "id", None)
        if last == "connect" or last == "receiver":
            sender = _save_signal(node, collector)  # type: ignore[arg-type]
            if sender is not None:
                signals.add(sender)
        if not node.keywords:  # type: ignore[attr-defined]
            continue
        owner = None
        if isinstance(func, ast.Attribute) and func.attr in LOOKUP_METHODS:
            owner = _manager_owner(func.value, collector)
        elif isinstance(func, (ast.Name, ast.Attribute)) and node.args:  # type: ignore[attr-defined]
            name = func.id if isinstance(func, ast.Name) else func.attr
            if name in ("get_object_or_404", "get_list_or_404"):
                first = node.args[0]  # type: ignore[attr-defined]
                owner = (
                    collector.qualify(first)
                    if isinstance(first, (ast.Name, ast.Attribute))
                    else None
                )
        if owner is None:
            continue
        for keyword in node.keywords:  # type: ignore[attr-defined]
            if keyword.arg:
                key = (owner, keyword.arg)
                counts[key] = min(counts.get(key, 0) + 1, LOOKUP_CAP)
    return counts, signals


def _manager_owner(node: ast.AST, collector: _FactCollector) -> str | None:
    for _ in range(20):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            node = node.func.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute) and node.attr in MANAGER_ATTRIBUTES:
            value = node.value
            return (
                collector.qualify(value) if isinstance(value, (ast.Name, ast.Attribute)) else None
            )
        else:
            return None
    return None
