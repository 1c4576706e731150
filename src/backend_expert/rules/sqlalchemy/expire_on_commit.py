"""`async_sessionmaker(...)` without `expire_on_commit=False`."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import edit
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.sqlalchemy._orm import called_name, skipped_path

ASYNC_SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)


class ExpireOnCommit(Rule):
    code = "BEX308"
    slug = "sqlalchemy-expire-on-commit"
    pack = "sqlalchemy"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("sqlalchemy", "sqlmodel")
    fix_applicability = Applicability.SAFE
    summary = "`async_sessionmaker(...)` without `expire_on_commit=False`"
    hint = (
        "Pass `expire_on_commit=False`, and `await session.refresh(obj)` where fresh values matter."
    )
    explanation = Explanation(
        what=(
            "Flags `async_sessionmaker(...)` calls that do not pass `expire_on_commit` (a call "
            "that spreads `**options` is left alone: the option may be in there)."
        ),
        why=(
            "By default a commit expires every object of the session, so the next read of any "
            "attribute reloads it from the database. With an `AsyncSession` that reload is "
            "implicit I/O, which asyncio cannot do: reading `user.name` after "
            "`await session.commit()` raises `MissingGreenlet`. The common FastAPI pattern, "
            "commit and then return the object for serialisation, fails this way. SQLAlchemy's "
            "asyncio documentation therefore sets `expire_on_commit=False` for async sessions."
        ),
        use_instead=(
            "`async_sessionmaker(engine, expire_on_commit=False)`; where a value may have changed "
            "in the database (server defaults, triggers), `await session.refresh(obj)` after "
            "the commit."
        ),
        fix_safety=(
            "Safe in the catalogue's sense: attributes keep their committed values instead of "
            "raising on access. Code that relied on expiry to see database-side changes after "
            "a commit should refresh those objects explicitly."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession",
            "https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.params.expire_on_commit",
        ),
    )
    fire = (
        Example(
            title="the default expiry on an async session factory",
            code="""\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://app@db/app")
SessionLocal = async_sessionmaker(engine)  # flagged
Other = async_sessionmaker(  # flagged
    bind=engine,
)
""",
            fixed="""\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://app@db/app")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
Other = async_sessionmaker(
    bind=engine, expire_on_commit=False,
)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the option given (either way), or passed through `**options`",
            code="""\
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

engine = create_async_engine("sqlite+aiosqlite://")
Fast = async_sessionmaker(engine, expire_on_commit=False)
Deliberate = async_sessionmaker(engine, expire_on_commit=True)


def factory(**options):
    return async_sessionmaker(engine, **options)
""",
        ),
    )

    @visit_call("async_sessionmaker")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        name = called_name(node)
        if name != "async_sessionmaker" or (ctx.qualname(func) or "") not in ASYNC_SESSIONMAKERS:
            return
        if any(k.arg in ("expire_on_commit", None) for k in node.keywords) or skipped_path(ctx):
            return
        items = [*node.args, *node.keywords]
        if items:
            tail = max(items, key=lambda n: (n.end_lineno, n.end_col_offset))  # type: ignore[attr-defined]
            at = (tail.end_lineno, tail.end_col_offset)  # type: ignore[attr-defined]
            content = ", expire_on_commit=False"
        else:
            at = (node.end_lineno, node.end_col_offset - 1)  # type: ignore[operator]
            content = "expire_on_commit=False"
        fix = Fix(
            "Add `expire_on_commit=False`",
            (edit(ctx, at, at, content),),  # type: ignore[arg-type]
            Applicability.SAFE,
        )
        ctx.report(
            node,
            "`async_sessionmaker(...)` keeps the default `expire_on_commit=True`: reading an "
            "attribute after `await session.commit()` reloads it implicitly and raises "
            "`MissingGreenlet`; pass `expire_on_commit=False`",
            fix=fix,
        )
