"""Blocking I/O (HTTP, sleep, subprocesses, sync database drivers and sessions, files) in `async def`."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.nodes import own_nodes
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.web import fastapi_route


@dataclass(frozen=True)
class Kind:
    """A family of blocking calls: what it waits for, and what to use instead."""

    waits_for: str
    instead: str
    file_io: bool = False
    database: bool = False


HTTP = Kind(
    "while it waits for the HTTP response",
    "`httpx.AsyncClient` (`await client.get(...)`) or aiohttp",
)
HTTPX = Kind(
    "while it waits for the HTTP response", "`httpx.AsyncClient` and `await client.get(...)`"
)
SLEEP = Kind("for the whole sleep", "`await asyncio.sleep(...)`")
PROCESS = Kind(
    "until the child process exits",
    "`await asyncio.create_subprocess_exec(...)` and `await process.communicate()`",
)
SHELL = Kind(
    "until the shell command finishes",
    "`await asyncio.create_subprocess_shell(...)` and `await process.communicate()`",
)
SQLITE = Kind(
    "while it waits for the database",
    "aiosqlite (`async with aiosqlite.connect(...)`)",
    database=True,
)
POSTGRES = Kind(
    "while it waits for the database", "asyncpg or psycopg 3's `AsyncConnection`", database=True
)
MYSQL = Kind("while it waits for the database", "aiomysql or asyncmy", database=True)
SESSION = Kind(
    "while it waits for the database",
    "an `AsyncSession` from `async_sessionmaker` with `await session.execute(...)`",
    database=True,
)
SESSION_PASSED = Kind(
    "while its queries wait for the database",
    "an `AsyncSession` (and async helpers)",
    database=True,
)
ENGINE = Kind(
    "while it waits for the database", "an `AsyncEngine` from `create_async_engine`", database=True
)
SMTP = Kind("while it talks to the mail server", "aiosmtplib")
SOCKET = Kind("while it connects", "`await asyncio.open_connection(...)`")
DNS = Kind("during the DNS lookup", "`await asyncio.get_running_loop().getaddrinfo(...)`")
FILE = Kind(
    "while the file is read or written",
    "aiofiles or `anyio.open_file`",
    file_io=True,
)

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Qualified functions (and constructors) that block when called.
FUNCTIONS: dict[str, Kind] = {
    **{f"requests.{verb}": HTTP for verb in HTTP_VERBS},
    **{f"requests.api.{verb}": HTTP for verb in HTTP_VERBS},
    **{f"httpx.{verb}": HTTPX for verb in (*HTTP_VERBS, "stream")},
    "urllib.request.urlopen": HTTP,
    "time.sleep": SLEEP,
    "subprocess.run": PROCESS,
    "subprocess.call": PROCESS,
    "subprocess.check_call": PROCESS,
    "subprocess.check_output": PROCESS,
    "subprocess.getoutput": SHELL,
    "subprocess.getstatusoutput": SHELL,
    "os.system": SHELL,
    "os.popen": SHELL,
    "sqlite3.connect": SQLITE,
    "psycopg2.connect": POSTGRES,
    "psycopg.connect": POSTGRES,
    "psycopg.Connection.connect": POSTGRES,
    "pymysql.connect": MYSQL,
    "MySQLdb.connect": MYSQL,
    "socket.create_connection": SOCKET,
    "socket.getaddrinfo": DNS,
    "socket.gethostbyname": DNS,
    "builtins.open": FILE,
    "io.open": FILE,
}
SMTP_CLASSES = frozenset({"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"})

SESSION_METHODS = frozenset(
    {
        "execute",
        "scalars",
        "scalar",
        "get",
        "get_one",
        "commit",
        "flush",
        "query",
        "refresh",
        "exec",
        "merge",
        "rollback",
    }
)
DBAPI_METHODS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "fetchone",
        "fetchall",
        "fetchmany",
        "commit",
        "rollback",
        "callproc",
        "copy_expert",
        "copy_from",
        "copy_to",
    }
)
HTTP_METHODS = frozenset({*HTTP_VERBS, "send"})

# Receiver type -> (methods that block, kind).
METHODS: dict[str, tuple[frozenset[str], Kind]] = {
    "requests.Session": (HTTP_METHODS, HTTP),
    "httpx.Client": (frozenset({*HTTP_METHODS, "stream"}), HTTPX),
    "sqlalchemy.orm.Session": (SESSION_METHODS, SESSION),
    "sqlalchemy.orm.scoped_session": (SESSION_METHODS, SESSION),
    "sqlmodel.Session": (SESSION_METHODS, SESSION),
    "flask_sqlalchemy.session.Session": (SESSION_METHODS, SESSION),
    "sqlalchemy.engine.Engine": (frozenset({"connect", "begin"}), ENGINE),
    "sqlalchemy.engine.Connection": (
        frozenset({"execute", "scalar", "scalars", "commit", "rollback"}),
        ENGINE,
    ),
    "sqlite3.Connection": (DBAPI_METHODS, SQLITE),
    "sqlite3.Cursor": (DBAPI_METHODS, SQLITE),
    "psycopg2.connection": (DBAPI_METHODS, POSTGRES),
    "psycopg2.cursor": (DBAPI_METHODS, POSTGRES),
    "psycopg.Connection": (DBAPI_METHODS, POSTGRES),
    "psycopg.Cursor": (DBAPI_METHODS, POSTGRES),
    "pymysql.Connection": (DBAPI_METHODS, MYSQL),
    "pymysql.Cursor": (DBAPI_METHODS, MYSQL),
    "smtplib.SMTP": (
        frozenset({"connect", "login", "starttls", "sendmail", "send_message"}),
        SMTP,
    ),
    "smtplib.SMTP_SSL": (
        frozenset({"connect", "login", "sendmail", "send_message"}),
        SMTP,
    ),
    "subprocess.Popen": (frozenset({"communicate", "wait"}), PROCESS),
    "pathlib.Path": (
        frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "open"}),
        FILE,
    ),
}

# Hand a function (not a call) to a worker thread.
OFFLOADERS = frozenset(
    {
        "asyncio.to_thread",
        "anyio.to_thread.run_sync",
        "trio.to_thread.run_sync",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "asgiref.sync.sync_to_async",
        "django.utils.asyncio.sync_to_async",
        "functools.partial",
    }
)


def _offloader(call: ast.Call, ctx: FileContext) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "run_in_executor":
        return True
    return ctx.qualname(func) in OFFLOADERS


def _receiver_kind(receiver: ast.AST, method: str, ctx: FileContext) -> Kind | None:
    kind = ctx.type_of(receiver)
    if kind is None:
        return None
    entry = METHODS.get(kind)
    if entry is None and ctx.project.class_facts(kind) is not None:
        ancestors = ctx.project.ancestors(kind)
        entry = next((METHODS[b] for b in sorted(ancestors) if b in METHODS), None)
    if entry is None or method not in entry[0]:
        return None
    return entry[1]


class BlockingCall(Rule):
    code = "BEX601"
    slug = "async-blocking-call"
    pack = "async"
    severity = Severity.WARNING
    category = "performance"
    requires_text = ("async",)  # only inside `async def`
    summary = "Blocking I/O call inside an `async def` stalls the event loop"
    hint = (
        "Use the async library (httpx.AsyncClient, asyncio.sleep, asyncio subprocesses, an async "
        "driver or AsyncSession, aiofiles), or run the sync call with `await asyncio.to_thread(...)`."
    )
    explanation = Explanation(
        what=(
            "Inside an `async def` (not in a nested plain `def` or `lambda`), flags calls that "
            "wait on I/O synchronously: `requests.*` and `httpx.get/post/...`, methods of a "
            "`requests.Session` or `httpx.Client` object (local, module-level, from another "
            "module, or `self.x`), `urllib.request.urlopen`, `time.sleep`, `subprocess.run/call/"
            "check_*`, `os.system`/`os.popen`, `Popen.communicate/wait`, sync database drivers "
            "(`sqlite3`, `psycopg2`, psycopg 3's sync API, `pymysql`) and the calls on their "
            "connections and cursors, a sync SQLAlchemy/SQLModel `Session` or `Engine` (also a "
            "sync Session handed to a plain function of the project, with medium confidence), "
            "`smtplib`, `socket.create_connection`/`gethostbyname`, and file I/O (`open`, "
            "`Path.read_text` and friends, medium confidence). What a receiver holds is "
            "inferred, across modules: a method that merely shares a name on another object "
            "(`cache.get`, an awaited `AsyncSession.execute`) is never reported. Calls handed "
            "to `asyncio.to_thread`, `run_in_executor`, `anyio.to_thread.run_sync`, "
            "`run_in_threadpool` or `sync_to_async` as a function, a `partial`, a `lambda` or a "
            "nested `def` are left alone; a call written inside their arguments is reported, "
            "because it runs on the loop before the thread starts. Several blocking calls on one "
            "session, connection or client in a function are reported once, on the first. In "
            "test modules file I/O and database calls are not reported (fixtures use sync "
            "sessions on purpose) and the rest has medium confidence; file I/O in scripts, "
            "examples and docs folders is not reported, nor are cheap metadata calls such as "
            "`Path.exists()` or `time.sleep(0)`."
        ),
        why=(
            "An event loop runs every coroutine of the process on one thread. A synchronous call "
            "holds that thread until the network, database, child process or disk answers, so "
            "for that whole time no other request is served, no timeout fires and health checks "
            "go unanswered: one slow upstream call turns into latency for every client. In a "
            "FastAPI `async def` route this is worse than a plain `def` route, which FastAPI "
            "would at least have run in its thread pool."
        ),
        use_instead=(
            "`async with httpx.AsyncClient() as client: await client.get(url)`; "
            "`await asyncio.sleep(s)`; `await asyncio.create_subprocess_exec(...)`; asyncpg, "
            "psycopg 3 `AsyncConnection`, aiosqlite or aiomysql; SQLAlchemy's `AsyncSession`; "
            "aiosmtplib; `asyncio.open_connection`; aiofiles. When no async library exists, "
            "`await asyncio.to_thread(func, *args)` runs the sync call in a worker thread. In "
            "FastAPI, a route that only does sync work can simply be declared with `def`."
        ),
        fix_safety="No automatic fix: the async replacement changes the API the code calls.",
        references=(
            "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code",
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread",
            "https://fastapi.tiangolo.com/async/",
            "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html",
        ),
    )
    fire = (
        Example(
            title="HTTP, sleep and a subprocess in a FastAPI route",
            code="""\
import subprocess
import time

import requests
from fastapi import FastAPI

app = FastAPI()


@app.get("/weather")
async def weather(city: str) -> dict:
    response = requests.get(f"https://api.example.com/{city}", timeout=5)  # flagged
    time.sleep(1)  # flagged
    subprocess.run(["sync"], check=True)  # flagged
    return response.json()
""",
            fixed="""\
import asyncio

import httpx
from fastapi import FastAPI

app = FastAPI()


@app.get("/weather")
async def weather(city: str) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"https://api.example.com/{city}")
    await asyncio.sleep(1)
    process = await asyncio.create_subprocess_exec("sync")
    await process.wait()
    return response.json()
""",
        ),
        Example(
            title="a requests.Session and a sync session factory defined in other modules",
            files={
                "svc/__init__.py": "",
                "svc/http.py": "import requests\n\nclient = requests.Session()\n",
                "svc/db.py": """\
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://db/app")
SessionLocal = sessionmaker(bind=engine)
""",
                "svc/sync.py": """\
from sqlalchemy import select

from svc.db import SessionLocal
from svc.http import client


async def refresh(user_id: int) -> None:
    payload = client.get(f"https://auth.example.com/users/{user_id}").json()  # flagged
    with SessionLocal() as session:
        session.execute(select(1))  # flagged
        session.commit()
""",
            },
        ),
        Example(
            title="a sync driver connection, a client held by the class, SMTP and files",
            code="""\
import smtplib
import sqlite3
from pathlib import Path

import requests

TEMPLATES = Path("templates")


class Notifier:
    def __init__(self) -> None:
        self.http = requests.Session()

    async def notify(self, address: str) -> None:
        body = (TEMPLATES / "mail.txt").read_text()  # flagged
        with smtplib.SMTP("mail.example.com") as smtp:  # flagged
            smtp.sendmail("noreply@example.com", [address], body)
        self.http.post("https://hooks.example.com", json={"to": address})  # flagged


async def audit(message: str) -> None:
    connection = sqlite3.connect("audit.db")  # flagged
    connection.execute("INSERT INTO log VALUES (?)", (message,))
    connection.commit()
    with open("audit.log", "a") as handle:  # flagged
        handle.write(message)
""",
        ),
        Example(
            title="an async route handing its sync Session to sync helpers (medium confidence)",
            files={
                "api/__init__.py": "",
                "api/crud.py": """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Item


def get_item(db: Session, item_id: int) -> Item | None:
    return db.get(Item, item_id)


async def count_items(db: Session) -> int:
    return 0
""",
                "api/routes.py": """\
from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.crud import count_items, get_item
from api.deps import get_db

router = APIRouter()


@router.get("/items/{item_id}")
async def read_item(item_id: int, db: Session = Depends(get_db)):
    item = get_item(db, item_id)  # flagged
    total = await count_items(db)
    db.add(item)
    return {"item": item, "total": total}
""",
            },
        ),
        Example(
            title="calls evaluated on the loop before being handed to a thread",
            code="""\
import asyncio

import requests


async def fetch(url: str) -> bytes:
    response = await asyncio.to_thread(requests.get(url).json)  # flagged
    return response
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the async libraries, awaited",
            code="""\
import asyncio

import aiofiles
import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

engine = create_async_engine("postgresql+asyncpg://db/app")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def handler(url: str, session: AsyncSession) -> str:
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    await asyncio.sleep(0.5)
    await session.execute(select(1))
    async with SessionLocal() as other:
        await other.commit()
    async with aiofiles.open("out.txt", "w") as handle:
        await handle.write(response.text)
    return response.text
""",
        ),
        Example(
            title="near miss: blocking work handed to a thread (function, partial, lambda, nested def)",
            code="""\
import asyncio
import functools
import time

import requests
from anyio import to_thread
from starlette.concurrency import run_in_threadpool


async def offload(url: str) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(requests.get, url, timeout=5)
    await loop.run_in_executor(None, functools.partial(requests.post, url, timeout=5))
    await to_thread.run_sync(lambda: time.sleep(1))
    await run_in_threadpool(lambda: open("big.csv").read())

    def work() -> None:
        requests.get(url, timeout=5)
        time.sleep(1)

    await asyncio.to_thread(work)
""",
        ),
        Example(
            title="near miss: a user's own `get`/`execute` on other objects, and sync code in a plain def",
            code="""\
import time

import requests


class Cache:
    def get(self, key):
        return None

    def execute(self, sql):
        return []


cache = Cache()


async def lookup(key, session):
    cache.get(key)
    cache.execute("SELECT 1")
    session.execute("SELECT 1")
    return key


def sync_view(url):
    time.sleep(1)
    return requests.get(url, timeout=5)
""",
        ),
        Example(
            title="near miss: file I/O and a sync session fixture in async tests, file I/O in a script",
            files={
                "tests/test_export.py": """\
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session


@pytest.mark.anyio
async def test_export(tmp_path: Path, sync_session: Session) -> None:
    target = tmp_path / "out.json"
    target.write_text("{}")
    with open(target) as handle:
        assert handle.read() == "{}"
    assert sync_session.execute(select(1)).scalar() == 1
""",
                "scripts/dump.py": """\
import asyncio
import json


async def main() -> None:
    with open("dump.json", "w") as handle:
        json.dump({}, handle)


asyncio.run(main())
""",
            },
        ),
        Example(
            title="near miss: a sync Session handed to a thread, or to a third-party function",
            code="""\
import asyncio

from fastapi import Depends
from fastapi.encoders import jsonable_encoder
from sqlalchemy.orm import Session

from .crud import get_item
from .deps import get_db


async def read_item(item_id: int, db: Session = Depends(get_db)):
    item = await asyncio.to_thread(get_item, db, item_id)
    db.add(item)
    db.expunge(item)
    return to_dict(item, db) | jsonable_encoder(db)


def to_dict(item, db) -> dict:
    return {"id": item.id, "session": db.hash_key}
""",
        ),
        Example(
            title="near miss: cheap path metadata calls and `time.sleep(0)` in a coroutine",
            code="""\
import time
from pathlib import Path

from fastapi.responses import FileResponse


async def download(name: str) -> FileResponse:
    path = (Path("files") / name).resolve()
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
    time.sleep(0)
    return FileResponse(path)
""",
        ),
        Example(
            title="near miss: a local `requests` that is not the library, and an awaited `get`",
            code="""\
import aiohttp


class Requests:
    async def get(self, url):
        return url


async def main(url):
    requests = Requests()
    await requests.get(url)
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            return await response.text()
""",
        ),
    )

    @visit(ast.Call)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        function = ctx.enclosing_function()
        if not isinstance(function, ast.AsyncFunctionDef) or not self._in_body(function, ctx):
            return
        if isinstance(ctx.parent(), ast.Await):
            return
        found = self._blocking(node, ctx)
        if found is None:
            return
        what, kind, receiver = found
        if ctx.is_test and (kind.file_io or kind.database):
            return  # fixtures and assertions in tests often use sync files and sessions on purpose
        if kind.file_io and _is_script(ctx):
            return
        offloaded = self._inside_offloader(function, ctx)
        if offloaded and kind.file_io:
            return
        extra = ""
        if receiver is not None:
            if self._made_by_blocking_call(node, function, ctx):
                return  # `conn = sqlite3.connect(...)` is reported; its uses would only repeat it
            uses = self._uses(function, receiver, node, ctx)
            if uses[0] is not node:
                return
            if len(uses) > 1:
                extra = f" (and {len(uses) - 1} more blocking call{'s' if len(uses) > 2 else ''} on `{receiver}` here)"
        if offloaded:
            message = (
                f"`{what}` runs on the event loop before `{offloaded}` starts its thread: the "
                "argument is evaluated first. Pass the function and its arguments instead, e.g. "
                "`await asyncio.to_thread(func, *args)`"
            )
        elif kind is SESSION_PASSED:
            message = (
                f"`{what}` is a sync function given the sync Session `{receiver}`: its queries "
                f"block the event loop in `async def {function.name}`{extra}. Use "
                f"{kind.instead}, or `await asyncio.to_thread(...)`"
            )
        else:
            message = (
                f"`{what}` blocks the event loop in `async def {function.name}` "
                f"{kind.waits_for}{extra}: nothing else runs meanwhile. Use "
                f"{kind.instead}, or `await asyncio.to_thread(...)`"
            )
        if not offloaded and kind.database and fastapi_route(function, ctx) is not None:
            message += (
                "; or declare the route with plain `def` so FastAPI runs it in its thread pool"
            )
        medium = kind.file_io or kind is SESSION_PASSED or ctx.is_test
        confidence = Confidence.MEDIUM if medium else Confidence.HIGH
        ctx.report(node, message, confidence=confidence)

    @staticmethod
    def _in_body(function: ast.AsyncFunctionDef, ctx: FileContext) -> bool:
        """Not in a default value, decorator or annotation (those run when `def` runs)."""
        ancestors = ctx.ancestors
        for index in range(len(ancestors) - 1, -1, -1):
            if ancestors[index] is function:
                child = ancestors[index + 1] if index + 1 < len(ancestors) else None
                return child is not None and any(child is stmt for stmt in function.body)
        return False

    def _blocking(self, node: ast.Call, ctx: FileContext) -> tuple[str, Kind, str | None] | None:
        """(what is called, its kind, the receiver's text for method calls) or None."""
        func = node.func
        name = ctx.qualname(func)
        if name is not None:
            kind = FUNCTIONS.get(name)
            if kind is not None:
                if name == "time.sleep" and _is_zero(node):
                    return None
                return f"{_shown(func, name)}(...)", kind, None
            if name in SMTP_CLASSES:
                has_host = bool(node.args) or any(kw.arg == "host" for kw in node.keywords)
                return (f"{_shown(func, name)}(...)", SMTP, None) if has_host else None
        if name is not None and (session := self._session_argument(node, name, ctx)):
            return f"{_shown(func, name)}(...)", SESSION_PASSED, session
        if isinstance(func, ast.Attribute):
            kind = _receiver_kind(func.value, func.attr, ctx)
            if kind is not None:
                receiver = ast.unparse(func.value)
                short = receiver if len(receiver) <= 40 else "..."
                if not isinstance(func.value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
                    short = f"({short})"
                return f"{short}.{func.attr}(...)", kind, receiver
        return None

    def _made_by_blocking_call(
        self, node: ast.Call, function: ast.AsyncFunctionDef, ctx: FileContext
    ) -> bool:
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if not isinstance(receiver, ast.Name):
            return False
        values = ctx.scope(function).values(receiver.id)
        return any(
            isinstance(value, ast.Call)
            and (name := ctx.qualname(value.func)) is not None
            and (name in FUNCTIONS or name in SMTP_CLASSES)
            for value in values
        )

    @staticmethod
    def _session_argument(node: ast.Call, name: str, ctx: FileContext) -> str | None:
        """A sync Session handed to a plain (sync, undecorated) project function: it will query."""
        facts = ctx.project.function_facts(name)
        if facts is None or facts.is_async or facts.decorators:
            return None
        local = _local_function(name, ctx)
        for index, value in enumerate(node.args):
            if isinstance(value, (ast.Name, ast.Attribute)) and (
                _receiver_kind(value, "execute", ctx) is SESSION
                and (local is None or _uses_parameter(local, index, None))
            ):
                return ast.unparse(value)
        for keyword in node.keywords:
            value = keyword.value
            if isinstance(value, (ast.Name, ast.Attribute)) and (
                _receiver_kind(value, "execute", ctx) is SESSION
                and (local is None or _uses_parameter(local, None, keyword.arg))
            ):
                return ast.unparse(value)
        return None

    @staticmethod
    def _inside_offloader(function: ast.AsyncFunctionDef, ctx: FileContext) -> str | None:
        """The offloading call whose arguments contain the current node, if any."""
        ancestors = ctx.ancestors
        for index in range(len(ancestors) - 1, -1, -1):
            node = ancestors[index]
            if node is function:
                return None
            if isinstance(node, ast.Call) and _offloader(node, ctx):
                child = ancestors[index + 1] if index + 1 < len(ancestors) else None
                if child is not node.func:
                    return ast.unparse(node.func)
        return None

    def _uses(
        self, function: ast.AsyncFunctionDef, receiver: str, node: ast.Call, ctx: FileContext
    ) -> list[ast.Call]:
        """Blocking calls involving `receiver` in `function`'s own body, in source order."""
        cache: dict[tuple[int, str], list[ast.Call]] | None = getattr(ctx, "_bex601_uses", None)
        if cache is None:
            cache = {}
            ctx._bex601_uses = cache  # type: ignore[attr-defined]  # lives as long as the file's context
        key = (id(function), receiver)
        if key not in cache:
            awaited = set()
            calls = []
            for inner in own_nodes(function):
                if isinstance(inner, ast.Await):
                    awaited.add(id(inner.value))
                elif isinstance(inner, ast.Call):
                    calls.append(inner)
            uses = []
            for call in calls:
                if id(call) in awaited or receiver not in ast.unparse(call):
                    continue
                found = self._blocking(call, ctx)
                if found is not None and found[2] == receiver:
                    uses.append(call)
            uses.sort(key=lambda c: (c.lineno, c.col_offset))
            cache[key] = uses
        return cache[key] or [node]


def _local_function(name: str, ctx: FileContext) -> ast.FunctionDef | None:
    """The module-level `def` of this file that `name` designates, when it is defined here."""
    module, _, short = name.rpartition(".")
    if module != ctx.module or ctx.source.tree is None:
        return None
    for stmt in ctx.source.tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == short:
            return stmt
    return None


def _uses_parameter(function: ast.FunctionDef, index: int | None, keyword: str | None) -> bool:
    """Whether the parameter receiving the session is used in a call (as receiver or argument).

    Unknown parameter shapes (`*args`, `**kwargs`) count as used.
    """
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    if keyword is not None:
        names = {a.arg for a in (*positional, *args.kwonlyargs)}
        if keyword not in names:
            return True
        param = keyword
    elif index is not None and index < len(positional):
        param = positional[index].arg
    else:
        return True
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            for part in (node.func, *node.args, *(k.value for k in node.keywords)):
                for inner in ast.walk(part):
                    if isinstance(inner, ast.Name) and inner.id == param:
                        return True
    return False


SCRIPT_DIRS = frozenset({"scripts", "script", "bin", "examples", "docs"})


def _is_script(ctx: FileContext) -> bool:
    """A one-off script or example: nothing else shares its event loop with a file read."""
    parts = ctx.path.replace("\\", "/").split("/")[:-1]
    return any(part in SCRIPT_DIRS for part in parts)


def _shown(func: ast.AST, qualified: str) -> str:
    """The callee as written, with its qualified name when an alias hides it."""
    written = ast.unparse(func)
    if qualified.startswith("builtins.") or qualified.endswith(written):
        return written
    return f"{written}` (`{qualified}`)"


def _is_zero(call: ast.Call) -> bool:
    arg = call.args[0] if call.args else None
    return isinstance(arg, ast.Constant) and arg.value == 0
