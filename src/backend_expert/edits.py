"""Edits over source text, for every rule's fix: replace a node, insert lines, read a node's
exact source, convert `ast` positions to `Edit` columns.

`ast` positions count UTF-8 bytes; `Edit` columns are 1-based characters, so every edit
is built here. Imports are added with `backend_expert.fix_imports.add_import`.
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


def replace_node(ctx: FileContext, node: ast.AST, content: str, end: ast.AST | None = None) -> Edit:
    """Replace the source of `node` (through `end`, when given) with `content`."""
    last = end or node
    return edit(
        ctx,
        (node.lineno, node.col_offset),  # type: ignore[attr-defined]
        (last.end_lineno, last.end_col_offset),  # type: ignore[attr-defined]
        content,
    )


def rename_attribute(ctx: FileContext, node: ast.Attribute, name: str) -> Edit:
    """Replace the attribute name of `x.name` (the last `len(node.attr)` characters)."""
    end_line, end = node.end_lineno, node.end_col_offset
    assert end_line is not None and end is not None
    return edit(ctx, (end_line, end - len(node.attr.encode())), (end_line, end), name)


def insert_line(line: int, content: str) -> Edit:
    """Insert whole lines before line `line` (1-based); `content` ends with a newline."""
    return Edit(line, 1, line, 1, content)


def node_text(ctx: FileContext, node: ast.AST) -> str:
    """The exact source of a node, read from the file's lines (else `ast.unparse`)."""
    line, end_line = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    start, end = getattr(node, "col_offset", None), getattr(node, "end_col_offset", None)
    if None in (line, end_line, start, end):
        return ast.unparse(node)
    lines = [ctx.source.line(n).encode() for n in range(line, end_line + 1)]  # type: ignore[operator]
    if len(lines) == 1:
        return lines[0][start:end].decode(errors="replace")
    text = b"\n".join([lines[0][start:], *lines[1:-1], lines[-1][:end]])
    return text.decode(errors="replace")


def indentation(ctx: FileContext, node: ast.AST) -> str:
    """The whitespace that starts the first line of `node`."""
    text = ctx.source.line(node.lineno)  # type: ignore[attr-defined]
    return text[: len(text) - len(text.lstrip())]


def imported_as(ctx: FileContext, qualified: str) -> str | None:
    """The local name under which `qualified` is already imported in this file, if any."""
    for local, target in ctx.facts.imports.items():
        if target == qualified:
            return local
    return None
