"""Helpers shared by the SQLAlchemy rules (not a rule): sessions, paths, imports, edits."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import imported_as
from backend_expert.findings import Edit
from backend_expert.sqlalchemy_sessions import session_flavour

GENERATED_DIRS = frozenset({"migrations", "alembic", "versions", "revisions"})
SESSION_METHODS = frozenset({"execute", "scalars", "scalar", "get", "exec", "query"})


def skipped_path(ctx: FileContext) -> bool:
    """Migrations are frozen history: their code is not worth a finding."""
    parts = ctx.path.replace("\\", "/").split("/")[:-1]
    return any(part in GENERATED_DIRS for part in parts)


def session_kind(node: ast.AST, ctx: FileContext) -> str | None:
    """ "sync" or "async" when `node` is known to hold a SQLAlchemy/SQLModel session."""
    kind = ctx.type_of(node)
    if kind in ("sqlalchemy.orm.sessionmaker", "sqlalchemy.ext.asyncio.async_sessionmaker"):
        return None
    return session_flavour(ctx.project, kind)


def callee_name(node: ast.Call, ctx: FileContext) -> str:
    return ctx.qualname(node.func) or ""


def called_name(node: ast.Call) -> str:
    """The name a call is spelled with: `f` of `f()` and of `mod.f()` ("" for other callees)."""
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def last(name: str | None) -> str:
    return (name or "").rpartition(".")[2]


def import_edit(ctx: FileContext, module: str, names: list[str]) -> Edit | None:
    """An edit adding `from module import names` after the module's last top-level import.

    Names already imported from there (or elsewhere under the same local name) are left out;
    None when nothing is missing.
    """
    missing = [
        n for n in names if imported_as(ctx, f"{module}.{n}") != n and n not in ctx.facts.imports
    ]
    if not missing:
        return None
    tree = ctx.source.tree
    assert tree is not None
    line = 1
    while line <= 2 and ctx.source.line(line).startswith("#"):
        line += 1  # never above a shebang or an encoding comment
    for stmt in tree.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            line = (stmt.end_lineno or stmt.lineno) + 1
        elif (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
            and line == 1
        ):
            line = (stmt.end_lineno or stmt.lineno) + 1  # after the module docstring
        else:
            break
    return Edit(line, 1, line, 1, f"from {module} import {', '.join(missing)}\n")


def enclosing_loop(ctx: FileContext, stop: ast.AST | None = None) -> ast.For | ast.AsyncFor | None:
    """The innermost `for` whose body (not iterable) holds the current node, within `stop`."""
    ancestors = ctx.ancestors
    for index in range(len(ancestors) - 1, 0, -1):
        node = ancestors[index - 1]
        if node is stop or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return None
        if isinstance(node, (ast.For, ast.AsyncFor)) and ancestors[index] in node.body:
            return node
    return None
