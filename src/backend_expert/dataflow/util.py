"""Small helpers shared by the parts of the analysis."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

from backend_expert.dataflow.known import (
    _NUMERIC_SPEC,
    METADATA_ATTRIBUTES,
)
from backend_expert.dataflow.model import Kind, Source
from backend_expert.index import is_literal
from backend_expert.infer import FunctionNode


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
