"""Fast traversal of `ast` trees.

`ast.iter_child_nodes` goes through every field of every node, including the
`ctx` (Load/Store) node hanging off each name; skipping the fields that never
hold child nodes makes walks several times cheaper, which matters because
walking in Python, not parsing, is what a linter spends its time on.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

# Fields that never hold child nodes worth visiting (`names` of global/nonlocal, `kwd_attrs`
# of class patterns are strings). What remains holds nodes, or lists of nodes; the one list
# that may also hold None is `Dict.keys` (for `**spread` entries).
_SKIPPED = frozenset(
    {"ctx", "id", "attr", "arg", "name", "module", "level", "kind", "type_comment"}
    | {"is_async", "conversion", "kwd_attrs", "op", "ops"}  # operators: Add, Eq, And...
)
_NO_CHILDREN = (ast.Global, ast.Nonlocal)
# Nodes with no children at all: a walk need not visit them unless someone listens for them.
LEAVES = frozenset({ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue, ast.alias})
_FIELDS: dict[type, tuple[str, ...]] = {}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that may hold child nodes (cached per type)."""
    fields = _FIELDS.get(kind)
    if fields is None:
        names = () if issubclass(kind, _NO_CHILDREN) else getattr(kind, "_fields", ())
        fields = _FIELDS[kind] = tuple(f for f in names if f not in _SKIPPED)
    return fields


def children(node: ast.AST) -> list[ast.AST]:
    """The direct child nodes, in source order."""
    found: list[ast.AST] = []
    for name in child_fields(node.__class__):
        value = getattr(node, name, None)
        if value.__class__ is list:
            found.extend(value)
        elif value is not None and isinstance(value, ast.AST):
            found.append(value)
    if node.__class__ is ast.Dict:
        found = [item for item in found if item is not None]
    return found


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node` (itself included) but the `ctx` and operator leaves, in no
    particular order: `ast.walk` for the many checks that only ask whether a node exists."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Every node inside a function, not descending into nested functions, classes or lambdas
    (their headers are yielded, their bodies are not)."""
    stack = children(function)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(children(node))


def own_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements of a block and of the blocks nested in it, not entering nested defs or classes."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if isinstance(stmt, _SCOPES):
            continue
        nested: list[ast.stmt] = list(getattr(stmt, "body", ()))  # source order: body, handlers,
        for handler in getattr(stmt, "handlers", ()):  # else, finally (and match cases)
            nested.extend(handler.body)
        for case in getattr(stmt, "cases", ()):
            nested.extend(case.body)
        nested.extend(getattr(stmt, "orelse", ()))
        nested.extend(getattr(stmt, "finalbody", ()))
        stack.extend(reversed(nested))
