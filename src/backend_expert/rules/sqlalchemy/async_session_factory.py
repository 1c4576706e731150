"""`sessionmaker(class_=AsyncSession)` or `AsyncSession(engine)` by hand: use `async_sessionmaker`."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import edit, replace_node
from backend_expert.findings import Applicability, Edit, Fix, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.sqlalchemy._orm import called_name, import_edit, skipped_path
from backend_expert.sqlalchemy_sessions import ASYNC_SESSION_TYPES, session_flavour

SESSIONMAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"})
ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"


def _removal(call: ast.Call, keyword: ast.keyword, ctx: FileContext) -> Edit:
    """Remove `keyword` from the call with the comma that joins it to a neighbour."""
    items: list[ast.AST] = sorted(
        [*call.args, *call.keywords],
        key=lambda n: (n.lineno, n.col_offset),  # type: ignore[attr-defined]
    )
    index = items.index(keyword)
    if index > 0:
        before = items[index - 1]
        start = (before.end_lineno, before.end_col_offset)  # type: ignore[attr-defined]
        end = (keyword.end_lineno, keyword.end_col_offset)
    elif index + 1 < len(items):
        after = items[index + 1]
        start = (keyword.lineno, keyword.col_offset)
        end = (after.lineno, after.col_offset)  # type: ignore[attr-defined]
    else:
        start = (keyword.lineno, keyword.col_offset)
        end = (keyword.end_lineno, keyword.end_col_offset)
    return edit(ctx, start, end, "")  # type: ignore[arg-type]


class AsyncSessionFactory(Rule):
    code = "BEX307"
    slug = "sqlalchemy-async-session-factory"
    pack = "sqlalchemy"
    severity = Severity.INFO
    category = "modernization"
    frameworks = ("sqlalchemy", "sqlmodel")
    min_versions = {"sqlalchemy": "2.0"}
    fix_applicability = Applicability.SAFE
    summary = "Async sessions made with `sessionmaker(class_=AsyncSession)` or by hand"
    hint = "Use `async_sessionmaker(engine, expire_on_commit=False)` from `sqlalchemy.ext.asyncio`."
    explanation = Explanation(
        what=(
            "Flags `sessionmaker(..., class_=AsyncSession)` (also with a project subclass of "
            "`AsyncSession`), and dependencies that build `AsyncSession(engine)` by hand and "
            "yield it. Projects pinned below SQLAlchemy 2.0, where `async_sessionmaker` does "
            "not exist, are not reported."
        ),
        why=(
            "`sessionmaker` is typed for synchronous sessions: with `class_=AsyncSession` type "
            "checkers still believe `SessionLocal()` returns a `Session`, so a missing `await` "
            "on `execute()` or `commit()` goes unnoticed until run time. `async_sessionmaker` "
            "(SQLAlchemy 2.0) is the documented factory: it is generic in the session class, "
            "supports `async with factory.begin()`, and keeps the session's configuration in "
            "one place instead of being repeated in every hand-built `AsyncSession(...)`."
        ),
        use_instead=(
            "`SessionLocal = async_sessionmaker(engine, expire_on_commit=False)` at module level "
            "or in the lifespan, and `async with SessionLocal() as session: yield session` in "
            "the dependency."
        ),
        fix_safety=(
            "Safe: `async_sessionmaker` takes the same arguments and makes the same sessions; "
            "the fix renames the call, drops `class_=AsyncSession` (the default) and adds the "
            "import. Sessions built by hand are explained only."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#sqlalchemy.ext.asyncio.async_sessionmaker",
        ),
    )
    fire = (
        Example(
            title="a `sessionmaker` configured for async sessions",
            code="""\
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

engine = create_async_engine("postgresql+asyncpg://app@db/app")
SessionLocal = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)  # flagged
""",
            fixed="""\
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine, async_sessionmaker
from sqlalchemy.orm import sessionmaker

engine = create_async_engine("postgresql+asyncpg://app@db/app")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
""",
        ),
        Example(
            title="a dependency that builds the session by hand",
            code="""\
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")


async def get_session():
    async with AsyncSession(engine) as session:  # flagged
        yield session
""",
        ),
    )
    clean = (
        Example(
            title="near miss: `async_sessionmaker`, a sync `sessionmaker`, an `AsyncSession` in a script",
            code="""\
import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_async_engine("sqlite+aiosqlite://")
Factory = async_sessionmaker(engine, expire_on_commit=False)
SyncFactory = sessionmaker(class_=Session)


async def main() -> None:
    async with AsyncSession(engine) as session:
        await session.commit()


asyncio.run(main())
""",
        ),
    )

    @visit_call("sessionmaker", "AsyncSession")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        name = called_name(node)
        if name == "sessionmaker":
            self._sessionmaker(node, ctx)
        elif name == "AsyncSession":
            self._by_hand(node, ctx)

    def _sessionmaker(self, node: ast.Call, ctx: FileContext) -> None:
        if (ctx.qualname(node.func) or "") not in SESSIONMAKERS or skipped_path(ctx):
            return
        keyword = next((k for k in node.keywords if k.arg == "class_"), None)
        made = ctx.qualname(keyword.value) if keyword is not None else None
        if made is None or session_flavour(ctx.project, ctx.project.resolve(made)) != "async":
            return
        ctx.report(
            node,
            "`sessionmaker(class_=AsyncSession)` makes async sessions that type checkers take "
            "for sync ones; use `async_sessionmaker(...)`, the 2.0 factory for `AsyncSession`",
            fix=self._fix(node, keyword, made, ctx),  # type: ignore[arg-type]
        )

    @staticmethod
    def _fix(node: ast.Call, keyword: ast.keyword, made: str, ctx: FileContext) -> Fix | None:
        if not isinstance(node.func, (ast.Name, ast.Attribute)):
            return None
        edits = [replace_node(ctx, node.func, "async_sessionmaker")]
        if made in ASYNC_SESSION_TYPES:
            edits.append(_removal(node, keyword, ctx))
        imports = import_edit(ctx, "sqlalchemy.ext.asyncio", ["async_sessionmaker"])
        if imports is not None:
            edits.insert(0, _extend_or(imports, ctx))
        return Fix("Use `async_sessionmaker`", tuple(edits), Applicability.SAFE)

    def _by_hand(self, node: ast.Call, ctx: FileContext) -> None:
        if (ctx.qualname(node.func) or "") not in ASYNC_SESSION_TYPES or skipped_path(ctx):
            return
        function = ctx.enclosing_function()
        if not isinstance(function, ast.AsyncFunctionDef) or not node.args:
            return
        if not _yields_it(node, function, ctx):
            return
        ctx.report(
            node,
            "This dependency builds `AsyncSession(...)` by hand; make one "
            "`async_sessionmaker(engine, expire_on_commit=False)` and yield `factory()` so "
            "every session gets the same configuration",
        )


def _yields_it(node: ast.Call, function: ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    """The function is a generator dependency that yields the session built by `node`."""
    parent = ctx.parent()
    names: set[str] = set()
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        names.add(parent.optional_vars.id)
    elif isinstance(parent, ast.Assign):
        names |= {t.id for t in parent.targets if isinstance(t, ast.Name)}
    elif isinstance(parent, ast.Yield):
        return True
    return any(
        isinstance(n, ast.Yield) and isinstance(n.value, ast.Name) and n.value.id in names
        for n in ctx.own_nodes(function)
    )


def _extend_or(imports: Edit, ctx: FileContext) -> Edit:
    """Prefer extending an existing `from sqlalchemy.ext.asyncio import ...` line."""
    tree = ctx.source.tree
    for stmt in tree.body if tree is not None else ():
        if (
            isinstance(stmt, ast.ImportFrom)
            and stmt.module == "sqlalchemy.ext.asyncio"
            and not stmt.level
            and stmt.names
            and stmt.names[-1].name != "*"
        ):
            end = stmt.names[-1]
            line, col = end.end_lineno, end.end_col_offset  # type: ignore[attr-defined]
            return edit(ctx, (line, col), (line, col), ", async_sessionmaker")
    return imports
