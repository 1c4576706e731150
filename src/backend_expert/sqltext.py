"""SQL text helpers shared by the rules that read raw SQL (sql-injection, django-raw-sql)."""

from __future__ import annotations

import ast
import re

# `QuerySet.extra()` arguments that hold SQL, with their positions.
EXTRA_KEYWORDS = {"select": 0, "where": 1, "tables": 3, "order_by": 4}


def strip_comments(text: str) -> str:
    return re.sub(r"--[^\n]*|/\*[\s\S]*?\*/", " ", text)


def extra_fragments(call: ast.Call) -> list[ast.AST]:
    """The SQL fragments given to `QuerySet.extra()`: where/tables/order_by items, select values."""
    given: dict[str, ast.AST] = {}
    for name, index in EXTRA_KEYWORDS.items():
        if index < len(call.args):
            given[name] = call.args[index]
    for keyword in call.keywords:
        if keyword.arg in EXTRA_KEYWORDS:
            given[keyword.arg] = keyword.value
    fragments: list[ast.AST] = []
    for name, value in given.items():
        if name == "select" and isinstance(value, ast.Dict):
            fragments.extend(value.values)
        elif isinstance(value, ast.List | ast.Tuple):
            fragments.extend(value.elts)
        elif name != "select":
            fragments.append(value)
    return fragments
