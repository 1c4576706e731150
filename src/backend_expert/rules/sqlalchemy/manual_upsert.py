"""Read a row by key, then update it or add a new one: an upsert in two round trips, with a race."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._loading import Loaded, loading
from backend_expert.rules.sqlalchemy._orm import session_kind, skipped_path

MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[str]
"""


def _tested_name(test: ast.AST) -> tuple[str, bool] | None:
    """(name, True when the body runs for a missing row) for `x is None`, `not x`, `x`..."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _tested_name(test.operand)
        return (inner[0], not inner[1]) if inner else None
    if isinstance(test, ast.Name):
        return test.id, False
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and len(test.ops) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        if isinstance(test.ops[0], (ast.Is, ast.Eq)):
            return test.left.id, True
        if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
            return test.left.id, False
    return None


def _sets_attribute(statements: list[ast.stmt], name: str) -> bool:
    for stmt in statements:
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == name
            ):
                return True
    return False


class ManualUpsert(Rule):
    code = "BEX311"
    slug = "sqlalchemy-manual-upsert"
    pack = "sqlalchemy"
    severity = Severity.INFO
    category = "reliability"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    skip_tests = True
    summary = "Row read by key, then updated or added: a hand-written upsert"
    hint = (
        "Let the database do it in one statement: `insert(Model).values(...)"
        ".on_conflict_do_update(index_elements=[...], set_={...})`."
    )
    explanation = Explanation(
        what=(
            "Flags, in one function, a row of a mapped class loaded by key (`session.get`, "
            "`session.scalar(select(...))`, `.scalars(...).first()`, `.one_or_none()`, the "
            "legacy `query(...).first()`), tested for being missing, with one branch adding a "
            "new instance through the session and the other (or the code after the test) "
            "setting attributes on the loaded row."
        ),
        why=(
            "The read and the write are two round trips, and between them another request can "
            "insert the same key: both see nothing, both add, and one fails with an "
            "IntegrityError (or, without a unique constraint, the table gets a duplicate). "
            "PostgreSQL and SQLite do the whole thing atomically with `INSERT ... ON CONFLICT "
            "DO UPDATE`, MySQL with `ON DUPLICATE KEY UPDATE`, in a single statement."
        ),
        use_instead=(
            "`from sqlalchemy.dialects.postgresql import insert` (or `.sqlite`), then "
            "`stmt = insert(Setting).values(key=k, value=v)`, "
            "`stmt = stmt.on_conflict_do_update(index_elements=[Setting.key], "
            'set_={"value": stmt.excluded.value})`, `session.execute(stmt)`. MySQL: '
            "`insert(...).on_duplicate_key_update(value=...)`."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#insert-on-conflict-upsert",
            "https://docs.sqlalchemy.org/en/20/dialects/sqlite.html#upsert",
            "https://docs.sqlalchemy.org/en/20/dialects/mysql.html#insert-on-duplicate-key-update-upsert",
        ),
    )
    fire = (
        Example(
            title="update the row when it exists, else add one",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/settings.py": """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import Setting


def save(session: Session, key: str, value: str) -> None:
    setting = session.get(Setting, key)  # flagged
    if setting is None:
        session.add(Setting(key=key, value=value))
    else:
        setting.value = value
    session.commit()


async def save_async(session: AsyncSession, key: str, value: str) -> None:
    row = await session.scalar(select(Setting).where(Setting.key == key))  # flagged
    if not row:
        row = Setting(key=key)
        session.add(row)
    row.value = value
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: get-or-create without an update, and an update only",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/settings.py": """\
from sqlalchemy.orm import Session

from app.models import Setting


def ensure(session: Session, key: str) -> Setting:
    setting = session.get(Setting, key)
    if setting is None:
        setting = Setting(key=key, value="")
        session.add(setting)
    return setting


def rename(session: Session, key: str, value: str) -> None:
    setting = session.get(Setting, key)
    if setting is None:
        raise KeyError(key)
    setting.value = value
""",
            },
        ),
    )

    @visit(ast.If)
    def check_if(self, node: ast.If, ctx: FileContext) -> None:
        tested = _tested_name(node.test)
        function = ctx.enclosing_function()
        if tested is None or function is None or isinstance(function, ast.Lambda):
            return
        name, body_when_missing = tested
        values = ctx.scope(function).values(name)
        lookups = [v for v in values if not isinstance(v, ast.Call) or not _constructs(v, ctx)]
        if len(lookups) != 1:
            return
        loaded = loading(ctx, function).value(lookups[0])
        if not isinstance(loaded, Loaded) or loaded.many:
            return
        missing = node.body if body_when_missing else node.orelse
        found = node.orelse if body_when_missing else node.body
        model = loaded.model.qualname
        if not _adds(missing, model, ctx):
            return
        after = _following(node, ctx)
        if not (_sets_attribute(found, name) or _sets_attribute(after, name)):
            return
        if skipped_path(ctx):
            return
        ctx.report(
            lookups[0],
            f"`{name}` is read by key and then updated or added: two round trips, and a "
            f"concurrent request can insert the same `{loaded.model.name}` in between; use "
            "`insert(...).on_conflict_do_update(...)` (PostgreSQL/SQLite) or "
            "`.on_duplicate_key_update(...)` (MySQL)",
        )


def _constructs(call: ast.Call, ctx: FileContext) -> bool:
    """`Model(...)`: a new instance, not a lookup (an `if` branch may rebind the name)."""
    callee = ctx.qualname(call.func)
    return callee is not None and ctx.project.sqlalchemy_model(callee) is not None


def _adds(statements: list[ast.stmt], model: str, ctx: FileContext) -> bool:
    """The statements add a new `model` instance through a session."""
    built: set[str] = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and _constructs(node.value, ctx)
                and ctx.project.resolve(ctx.qualname(node.value.func) or "") == model
            ):
                built |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    for stmt in statements:
        for node in ast.walk(stmt):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and len(node.args) == 1
                and session_kind(node.func.value, ctx) is not None
            ):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Name) and arg.id in built:
                return True
            if (
                isinstance(arg, ast.Call)
                and ctx.project.resolve(ctx.qualname(arg.func) or "") == model
            ):
                return True
    return False


def _following(node: ast.If, ctx: FileContext) -> list[ast.stmt]:
    """The statements after `node` in the block that holds it."""
    parent = ctx.parent()
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and node in block:
            return block[block.index(node) + 1 :]
    return []
