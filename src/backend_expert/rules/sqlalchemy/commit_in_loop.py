"""`session.commit()` inside a loop over rows: one transaction (and one flush) per row."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.sqlalchemy._loading import Loaded, Result, Statement, loading
from backend_expert.rules.sqlalchemy._orm import enclosing_loop, session_kind, skipped_path

WRITES = frozenset({"add", "add_all", "merge", "delete"})


def _same_receiver(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a) == ast.dump(b)


class CommitInLoop(Rule):
    code = "BEX309"
    slug = "sqlalchemy-commit-in-loop"
    pack = "sqlalchemy"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    skip_tests = True
    summary = "`session.commit()` inside a loop over rows (one transaction per row)"
    hint = "Commit once after the loop (or in batches), so the rows change in one transaction."
    explanation = Explanation(
        what=(
            "Flags `session.commit()` (also awaited, also Flask-SQLAlchemy's `db.session`) "
            "directly in the body of a `for` loop that iterates over rows loaded by the "
            "session, or that adds, merges or deletes objects through the same session before "
            "committing. A statement per chunk of rows is batching and is not reported, nor "
            "are commits under an `if` (every N rows) or inside `try` (deliberate per-row "
            "error isolation)."
        ),
        why=(
            "Each commit ends a transaction: the database flushes its log to disk and, with "
            "the default `expire_on_commit=True`, every loaded object is expired and reloaded "
            "by the next iteration (one more SELECT per row, on top of the commit). A loop of "
            "N rows costs N round trips and N durable writes instead of one, and a failure "
            "half-way leaves half the rows changed with no way to roll the batch back."
        ),
        use_instead=(
            "Make the changes in the loop and commit once after it (`with session.begin():` "
            "around the loop does that); for very large batches, commit every few thousand "
            "rows, or use a bulk `update()`/`insert()` statement instead of a loop."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#when-do-i-construct-a-session-when-do-i-commit-it-and-when-do-i-close-it",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html",
        ),
    )
    fire = (
        Example(
            title="a commit per loaded row, and a commit per added row",
            code="""\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from .models import Invoice


def close_all(session: Session) -> None:
    for invoice in session.scalars(select(Invoice).where(Invoice.open)):
        invoice.open = False
        session.commit()  # flagged


async def import_rows(db: AsyncSession, rows: list[dict]) -> None:
    for row in rows:
        db.add(Invoice(**row))
        await db.commit()  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="near miss: one commit after the loop, batches, per-row error isolation",
            code="""\
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Invoice


def close_all(session: Session) -> None:
    for invoice in session.scalars(select(Invoice)):
        invoice.open = False
    session.commit()


def batched(session: Session, rows: list[dict]) -> None:
    for index, row in enumerate(rows):
        session.add(Invoice(**row))
        if index % 1000 == 0:
            session.commit()


def isolated(session: Session, ids: list[int]) -> None:
    for pk in ids:
        try:
            session.get(Invoice, pk).open = False
            session.commit()
        except Exception:
            session.rollback()


def retry(session: Session) -> None:
    for attempt in range(3):
        session.commit()
""",
        ),
    )

    @visit_call("commit")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "commit") or node.args:
            return
        loop = enclosing_loop(ctx)
        function = ctx.enclosing_function()
        if loop is None or function is None or not self._direct(loop, ctx):
            return
        if session_kind(func.value, ctx) is None or skipped_path(ctx):
            return
        if not (self._over_rows(loop, function, ctx) or self._writes(loop, func.value)):
            return
        seen = ctx.__dict__.setdefault("_bex309_loops", set())
        if id(loop) in seen:
            return
        seen.add(id(loop))
        ctx.report(
            node,
            f"`{ast.unparse(func.value)}.commit()` runs once per iteration of this loop: one "
            "transaction (and one durable write) per row; commit once after the loop",
        )

    @staticmethod
    def _direct(loop: ast.AST, ctx: FileContext) -> bool:
        """No `if`, `try` or nested loop between the loop and the commit."""
        ancestors = ctx.ancestors
        start = next(i for i in range(len(ancestors) - 1, -1, -1) if ancestors[i] is loop)
        blocked = (ast.If, ast.Try, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.BoolOp)
        return not any(isinstance(n, blocked) for n in ancestors[start + 1 :]) and not any(
            type(n).__name__ == "TryStar" for n in ancestors[start + 1 :]
        )

    @staticmethod
    def _over_rows(loop: ast.For | ast.AsyncFor, function: ast.AST, ctx: FileContext) -> bool:
        found = loading(ctx, function)  # type: ignore[arg-type]
        if found.element(loop.iter) is not None:
            return True
        value = found.value(loop.iter)
        if isinstance(value, (Loaded, Result)) or (isinstance(value, Statement) and value.query):
            return True
        iterable = loop.iter
        if isinstance(iterable, ast.Name):  # `rows = session.execute(...).all()` one step back
            values = ctx.scope(function).values(iterable.id)  # type: ignore[arg-type]
            iterable = values[0] if len(values) == 1 else iterable
        return _session_chain(iterable, ctx)

    @staticmethod
    def _writes(loop: ast.For | ast.AsyncFor, session: ast.AST) -> bool:
        for stmt in loop.body:
            for node in ast.walk(stmt):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITES
                    and _same_receiver(node.func.value, session)
                ):
                    return True
        return False


def _session_chain(node: ast.AST, ctx: FileContext) -> bool:
    """`session.execute(...)...`, `session.query(...)...`: a chain on a session's query."""
    for _ in range(12):
        if isinstance(node, ast.Await):
            node = node.value
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            return False
        if node.func.attr in ("execute", "scalars", "query", "exec") and session_kind(
            node.func.value, ctx
        ):
            return True
        node = node.func.value
    return False
