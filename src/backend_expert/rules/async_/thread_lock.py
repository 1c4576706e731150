"""A `threading` lock held with `with` inside `async def`: it blocks the whole event loop."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.nodes import own_statements
from backend_expert.rules.base import Example, Explanation, Rule, visit

THREAD_LOCKS = frozenset(
    {
        "threading.Lock",
        "threading.RLock",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Condition",
        "_thread.allocate_lock",
        "_thread.LockType",
    }
)


def _awaits(body: list[ast.stmt]) -> bool:
    for stmt in own_statements(body):
        if isinstance(stmt, (ast.AsyncWith, ast.AsyncFor)):
            return True
        for field in ("value", "test", "iter", "targets", "target"):
            value = getattr(stmt, field, None)
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, ast.AST) and any(
                    isinstance(n, ast.Await) for n in ast.walk(item)
                ):
                    return True
    return False


class ThreadLock(Rule):
    code = "BEX605"
    slug = "async-thread-lock"
    pack = "async"
    severity = Severity.WARNING
    category = "reliability"
    requires_text = ("async",)  # only inside `async def`
    summary = "`threading` lock held with `with` inside an `async def`"
    hint = "Use `asyncio.Lock()` and `async with lock:` to guard state shared between coroutines."
    explanation = Explanation(
        what=(
            "Flags `with lock:` in an `async def` when `lock` holds a `threading.Lock`, `RLock`, "
            "`Semaphore` or `Condition` (module-level, an attribute set in `__init__`, or a "
            "local). With an `await` inside the block the confidence is high (that is the "
            "deadlock); without one it is low, since a short critical section shared with real "
            "threads can be deliberate."
        ),
        why=(
            "A thread lock blocks the thread that waits for it, and every coroutine of the loop "
            "runs on that one thread. If a coroutine awaits while holding the lock, another "
            "coroutine that reaches the same `with` blocks the loop thread waiting for a lock "
            "that can only be released by the first coroutine, which can now never run again: "
            "the whole service hangs. Even without an await, waiting for a lock held by a worker "
            "thread stalls every request on the loop."
        ),
        use_instead=(
            "`lock = asyncio.Lock()` and `async with lock:`; for state shared with real threads, "
            "hand the work to a thread (`await asyncio.to_thread(...)`) that takes the thread lock."
        ),
        references=("https://docs.python.org/3/library/asyncio-sync.html#asyncio.Lock",),
    )
    fire = (
        Example(
            title="a thread lock held across an await",
            code="""\
import threading

_lock = threading.Lock()
_tokens: dict[str, str] = {}


async def token_for(client, user: str) -> str:
    with _lock:  # flagged
        if user not in _tokens:
            _tokens[user] = await client.fetch_token(user)
        return _tokens[user]
""",
            fixed="""\
import asyncio

_lock = asyncio.Lock()
_tokens: dict[str, str] = {}


async def token_for(client, user: str) -> str:
    async with _lock:
        if user not in _tokens:
            _tokens[user] = await client.fetch_token(user)
        return _tokens[user]
""",
        ),
    )
    clean = (
        Example(
            title="near miss: an asyncio lock, and a thread lock in synchronous code",
            code="""\
import asyncio
import threading

_alock = asyncio.Lock()
_tlock = threading.Lock()


async def refresh(client) -> None:
    async with _alock:
        await client.refresh()


def refresh_sync(client) -> None:
    with _tlock:
        client.refresh()
""",
        ),
    )

    @visit(ast.With)
    def check_with(self, node: ast.With, ctx: FileContext) -> None:
        if not ctx.in_async_function():
            return
        for item in node.items:
            expr = item.context_expr
            kind = ctx.type_of(expr)
            if kind is None and isinstance(expr, ast.Call):
                kind = ctx.qualname(expr.func)
            if kind not in THREAD_LOCKS:
                continue
            awaited = _awaits(node.body)
            ctx.report(
                item.context_expr,
                f"`with {ast.unparse(expr)}` takes a `{kind}` on the event loop thread"
                + (
                    ": with an `await` inside, a second coroutine waiting for it deadlocks the "
                    "loop; use `asyncio.Lock` and `async with`"
                    if awaited
                    else ": waiting for it stalls every coroutine; use `asyncio.Lock` if only "
                    "coroutines share it"
                ),
                confidence=Confidence.HIGH if awaited else Confidence.LOW,
            )
            return
