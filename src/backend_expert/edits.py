"""Small builders of fix edits shared by the FastAPI and Pydantic rules: replace a node,
insert a line, add an import once (identical edits from several findings can be merged)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.findings import Edit

if TYPE_CHECKING:
    from backend_expert.check import FileContext


def span(ctx: FileContext, node: ast.AST, content: str, end: ast.AST | None = None) -> Edit:
    """Replace the source of `node` (through `end`, when given) with `content`."""
    last = end or node
    source = ctx.source
    return Edit(
        node.lineno,  # type: ignore[attr-defined]
        source.char_column(node.lineno, node.col_offset) + 1,  # type: ignore[attr-defined]
        last.end_lineno,  # type: ignore[attr-defined]
        source.char_column(last.end_lineno, last.end_col_offset) + 1,  # type: ignore[attr-defined]
        content,
    )


def insert_line(line: int, content: str) -> Edit:
    """Insert whole lines before line `line` (1-based); `content` ends with a newline."""
    return Edit(line, 1, line, 1, content)


def text_of(ctx: FileContext, node: ast.AST) -> str:
    """The exact source of a node."""
    line, end_line = node.lineno, node.end_lineno  # type: ignore[attr-defined]
    start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    lines = [ctx.source.line(n).encode() for n in range(line, end_line + 1)]
    if len(lines) == 1:
        return lines[0][start:end].decode(errors="replace")
    return b"\n".join([lines[0][start:], *lines[1:-1], lines[-1][:end]]).decode(errors="replace")


def imported_as(ctx: FileContext, qualified: str) -> str | None:
    """The local name under which `qualified` is already imported in this file, if any."""
    for local, target in ctx.facts.imports.items():
        if target == qualified:
            return local
    return None


def add_import(ctx: FileContext, module: str, name: str) -> Edit | None:
    """`from module import name` after the top-of-file imports; None when already imported."""
    if imported_as(ctx, f"{module}.{name}") == name:
        return None
    from backend_expert.fix_imports import ImportConflict
    from backend_expert.fix_imports import add_import as placed_import

    try:  # extends `from module import ...`, keeps groups and order (fix_imports.py)
        return placed_import(ctx.source, module, name)
    except (ImportConflict, ValueError):
        pass  # the name is taken: the line below shadows it, as before
    tree = ctx.source.tree
    body = tree.body if tree is not None else []
    line = 1
    for index, stmt in enumerate(body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) or (
            index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        ):
            line = stmt.end_lineno + 1  # type: ignore[operator]
        else:
            break
    return insert_line(line, f"from {module} import {name}\n")


def indentation(ctx: FileContext, node: ast.AST) -> str:
    text = ctx.source.line(node.lineno)  # type: ignore[attr-defined]
    return text[: len(text) - len(text.lstrip())]
