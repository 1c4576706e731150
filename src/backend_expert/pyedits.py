"""Small source edits shared by the fixes of the flask, async, python and testing rules.

Edits are expressed with `ast` positions (UTF-8 byte offsets) and converted to the
1-based character columns `Edit` uses.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.findings import Edit

if TYPE_CHECKING:
    from backend_expert.check import FileContext


def edit(ctx: FileContext, start: tuple[int, int], end: tuple[int, int], content: str) -> Edit:
    """An edit between two `ast` positions ((line, UTF-8 byte offset), end exclusive)."""
    source = ctx.source
    return Edit(
        start[0],
        source.char_column(start[0], start[1]) + 1,
        end[0],
        source.char_column(end[0], end[1]) + 1,
        content,
    )


def replace_node(ctx: FileContext, node: ast.AST, content: str) -> Edit:
    return edit(
        ctx,
        (node.lineno, node.col_offset),  # type: ignore[attr-defined]
        (node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        content,
    )


def insert_before_line(line: int, content: str) -> Edit:
    return Edit(line, 1, line, 1, content)


def has_import(ctx: FileContext, module: str, name: str | None = None) -> bool:
    """True when `import module` (name None) or `from module import name` binds that name."""
    wanted = f"{module}.{name}" if name else module
    local = name or module.partition(".")[0]
    return ctx.facts.imports.get(local) == (wanted if name else local)


def import_edit(ctx: FileContext, module: str, name: str | None = None) -> Edit | None:
    """An edit adding `from module import name` (or `import module`) after the module's
    top-level imports; None when the name is already imported."""
    if has_import(ctx, module, name):
        return None
    tree = ctx.source.tree
    statement = f"from {module} import {name}\n" if name else f"import {module}\n"
    line = 1
    body = tree.body if tree is not None else []
    for stmt in body:  # next to an import from the same module, when there is one
        if isinstance(stmt, ast.ImportFrom) and stmt.module == module and not stmt.level and name:
            return insert_before_line((stmt.end_lineno or stmt.lineno) + 1, statement)
    for index, stmt in enumerate(body):
        docstring = (
            index == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        )
        if isinstance(stmt, (ast.Import, ast.ImportFrom)) or docstring:
            line = (stmt.end_lineno or stmt.lineno) + 1
        else:
            break
    return insert_before_line(line, statement)
