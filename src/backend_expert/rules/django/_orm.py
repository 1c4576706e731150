"""Helpers shared by the Django ORM rules (not a rule)."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Edit


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


def rename_attribute(ctx: FileContext, node: ast.Attribute, name: str) -> Edit:
    """Replace the attribute name of `x.name` (the last `len(node.attr)` characters)."""
    end_line, end = node.end_lineno, node.end_col_offset
    assert end_line is not None and end is not None
    return edit(ctx, (end_line, end - len(node.attr.encode())), (end_line, end), name)


def source_text(ctx: FileContext, node: ast.AST) -> str:
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


def short(text: str, limit: int = 48, stand_in: str = "<queryset>") -> str:
    """Source for a message: as written when short, else `stand_in`."""
    text = " ".join(text.split())
    return text if len(text) <= limit else stand_in


def in_migrations(ctx: FileContext) -> bool:
    return "/migrations/" in f"/{ctx.path}"
