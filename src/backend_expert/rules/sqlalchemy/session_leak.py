"""`session = SessionLocal()` that is never closed, used as a context manager, returned or yielded."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._orm import skipped_path
from backend_expert.sqlalchemy_sessions import factory_product, session_flavour

CLOSERS = frozenset({"close", "aclose", "__exit__", "__aexit__", "remove", "invalidate"})


def _builds_session(call: ast.Call, ctx: FileContext) -> str | None:
    """The session class when `call` opens a new session: a factory or a session class."""
    callee = ctx.qualname(call.func)
    if callee is None:
        return None
    project = ctx.project
    resolved = project.resolve(callee)
    if session_flavour(project, resolved) is not None:
        if any(_on_connection(a, ctx) for a in (*call.args, *(k.value for k in call.keywords))):
            return None  # bound to a connection someone else opened (an event hook)
        return resolved
    if (project.assigned_call(resolved) or "").rpartition(".")[2] == "scoped_session":
        return None  # a registry: `Session.remove()` at teardown closes its sessions
    return factory_product(project, resolved)


def _on_connection(node: ast.AST, ctx: FileContext) -> bool:
    if not isinstance(node, ast.Name):
        return False
    kind = ctx.type_of(node) or ""
    return "conn" in node.id.lower() or kind.endswith(("Connection", "AsyncConnection"))


def _handled(name: str, function: ast.AST, assignment: ast.AST, ctx: FileContext) -> bool:
    """The session is closed, managed, or leaves the function (someone else's to close)."""
    for node in ctx.own_nodes(function):
        if isinstance(node, ast.withitem) and _is_name(node.context_expr, name):
            return True
        if isinstance(node, ast.Attribute) and _is_name(node.value, name):
            if node.attr in CLOSERS:
                return True
            continue
        if (
            isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom))
            and node.value is not None
            and any(_is_name(n, name) for n in ast.walk(node.value))
        ):
            return True
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return True
        if (
            isinstance(node, ast.Call)
            and any(_is_name(a, name) for a in (*node.args, *(k.value for k in node.keywords)))
            and _takes_ownership(node.func)
        ):
            return True  # handed to an owner: a repository object, `closing()`, a container
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node is not assignment:
            value = node.value
            if value is not None and any(_is_name(n, name) for n in ast.walk(value)):
                return True  # stored elsewhere (an attribute, a dict, another name)
        if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)) and any(
            _is_name(n, name) for n in ast.iter_child_nodes(node)
        ):
            return True
    return False


# Calls that take the session over; a plain function call (`service.get(db_session=s)`) only
# borrows it.
OWNERS = frozenset({"closing", "aclosing", "enter_context", "enter_async_context", "push",
                    "callback", "push_async_callback", "append", "add", "extend", "insert",
                    "setattr", "setdefault", "update", "put", "partial"})  # fmt: skip


def _takes_ownership(func: ast.AST) -> bool:
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    return name[:1].isupper() or name in OWNERS


def _is_name(node: ast.AST | None, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


class SessionLeak(Rule):
    code = "BEX310"
    slug = "sqlalchemy-session-leak"
    pack = "sqlalchemy"
    severity = Severity.WARNING
    category = "reliability"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    skip_tests = True
    summary = "Session opened with `SessionLocal()` and never closed"
    hint = "Open it with `with SessionLocal() as session:` (`async with` for async sessions)."
    explanation = Explanation(
        what=(
            "Flags `name = SessionLocal()` (a `sessionmaker`/`async_sessionmaker` product, or "
            "`Session(engine)`/`AsyncSession(engine)`) assigned to a local name in a function "
            "that never closes it, never uses it as a context manager, and does not let it go "
            "(return, yield, store it, hand it to an object or `closing()`; passing it to a "
            "function only lends it). Sessions from a `scoped_session` registry, CLI commands "
            "(`@click.command`, `@app.command`), sessions bound to a connection the caller "
            "owns (`Session(bind=connection)` in an event hook), tests and migrations are not "
            "reported."
        ),
        why=(
            "A session holds a pooled connection from its first query until it is closed. "
            "One that is dropped without `close()` keeps the connection (and any open "
            "transaction, with its locks) until the garbage collector happens to finalise it; "
            "under load the pool runs dry and requests wait for `QueuePool limit ... "
            "overflow` timeouts. With async sessions the connection is never returned cleanly "
            "at all, and asyncpg warns about connections garbage-collected while open."
        ),
        use_instead=(
            "`with SessionLocal() as session:` (or `async with`), `with SessionLocal.begin() as "
            "session:` to commit on success, or `try: ... finally: session.close()`; in FastAPI, "
            "a dependency that yields the session inside `with`."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session",
        ),
    )
    fire = (
        Example(
            title="a session from a factory in another module, and an async one",
            files={
                "app/__init__.py": "",
                "app/db.py": """\
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))
AsyncLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)
""",
                "app/jobs.py": """\
from sqlalchemy import text

from app.db import AsyncLocal, SessionLocal


def purge(service) -> None:
    session = SessionLocal()  # flagged
    session.execute(text("delete from logs"))
    service.audit(db_session=session)
    session.commit()


async def touch() -> None:
    session = AsyncLocal()  # flagged
    await session.execute(text("update jobs set seen = 1"))
    await session.commit()
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: closed, managed, yielded, returned, handed on, or a scoped registry",
            files={
                "app/__init__.py": "",
                "app/db.py": """\
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))
Scoped = scoped_session(SessionLocal)
""",
                "app/jobs.py": """\
from contextlib import closing

from app.db import Scoped, SessionLocal


def closed() -> None:
    session = SessionLocal()
    try:
        session.commit()
    finally:
        session.close()


def managed() -> None:
    session = SessionLocal()
    with session:
        session.commit()


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def opened():
    session = SessionLocal()
    return session


def handed() -> None:
    session = SessionLocal()
    with closing(session):
        session.commit()


def owned(repositories: list) -> None:
    session = SessionLocal()
    repositories.append(Repository(session))


def registry() -> None:
    session = Scoped()
    session.commit()
""",
            },
        ),
    )

    @visit(ast.Assign)
    def check_assign(self, node: ast.Assign, ctx: FileContext) -> None:
        value = node.value
        if not isinstance(value, ast.Call) or len(node.targets) != 1:
            return
        target = node.targets[0]
        if not isinstance(target, ast.Name) or not isinstance(
            value.func, (ast.Name, ast.Attribute)
        ):
            return
        function = ctx.enclosing_function()
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return
        if function.name in ("__enter__", "__aenter__", "setUp", "setup", "asyncSetUp"):
            return
        if _is_cli_command(function):
            return  # a one-shot command: the process ends with it
        made = _builds_session(value, ctx)
        if made is None or skipped_path(ctx) or _handled(target.id, function, node, ctx):
            return
        ctx.report(
            node,
            f"`{target.id} = {ast.unparse(value.func)}()` opens a session that this function "
            "never closes: its connection stays checked out until garbage collection; use "
            f"`{'async ' if session_flavour(ctx.project, made) == 'async' else ''}with "
            f"{ast.unparse(value.func)}() as {target.id}:`",
        )


CLI_DECORATORS = frozenset({"command", "group", "callback", "main"})


def _is_cli_command(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and target.attr in CLI_DECORATORS:
            return True
        if isinstance(target, ast.Name) and target.id in CLI_DECORATORS:
            return True
    return False
