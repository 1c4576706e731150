"""Independent awaits run one after another in a `for` loop, collecting their results."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.python._places import is_script_path

COLLECTORS = frozenset({"append", "add", "extend", "update"})
# Receivers whose calls must not overlap (one connection, one stream) or that pace the loop.
SERIAL_WORDS = (
    "session", "conn", "cursor", "db", "tx", "transaction", "socket", "ws", "websocket",
    "stream", "queue", "lock", "channel", "writer", "reader", "redis", "pipe", "file",
    "limiter", "semaphore", "browser", "page",
)  # fmt: skip
SERIAL_METHODS = frozenset(
    {"sleep", "send", "recv", "write", "drain", "commit", "flush", "rollback", "execute",
     "put", "get_nowait", "acquire", "wait", "wait_for", "send_json", "receive", "refresh",
     "delete", "save", "insert", "update", "upsert"}
)  # fmt: skip


# Calls that write: running them concurrently would reorder or interleave side effects.
WRITERS = (
    "send", "write", "save", "create", "set", "delete", "update", "insert", "post", "put",
    "patch", "add", "seed", "sleep", "store", "publish", "emit", "notify", "remove", "upsert",
)  # fmt: skip


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


class SequentialAwaitLoop(Rule):
    code = "BEX602"
    slug = "async-sequential-await-loop"
    pack = "async"
    severity = Severity.INFO
    category = "performance"
    skip_tests = True
    summary = "Independent awaits in a `for` loop run one at a time"
    hint = "Run them concurrently: `await asyncio.gather(*(f(x) for x in xs))` or a TaskGroup, bounded by a Semaphore for large inputs."
    explanation = Explanation(
        what=(
            "Flags a plain `for` loop in an `async def` whose body awaits exactly one call that "
            "depends only on the loop variable and collects the result (`out.append(await "
            "f(x))`, `out[x] = await f(x)`, or a result bound and then appended). Loops where an "
            "iteration uses what an earlier one produced, that `break` or `return` early, that "
            "await on a session, connection, stream, queue or lock (their calls must not "
            "overlap), or that write (`save`, `create`, `commit`, `send`...) are not reported, nor are "
            "tests and scripts, where sequential setup is the point."
        ),
        why=(
            "Each `await` in the loop waits for the previous call to finish before the next "
            "one starts, so N network calls take N round trips. When the iterations do not "
            "depend on each other they can be in flight together, and the loop then takes about "
            "as long as the slowest call instead of the sum of all of them."
        ),
        use_instead=(
            "`results = await asyncio.gather(*(fetch(x) for x in xs))`, or a `TaskGroup`; for "
            "hundreds of items, bound the concurrency with an `asyncio.Semaphore` so the "
            "upstream service is not flooded."
        ),
        references=(
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.gather",
            "https://docs.python.org/3/library/asyncio-task.html#task-groups",
        ),
    )
    fire = (
        Example(
            title="fetching prices one after another",
            code="""\
async def prices(client, symbols: list[str]) -> list[float]:
    result = []
    for symbol in symbols:  # flagged
        result.append(await client.get_price(symbol))
    return result


async def profiles(api, ids: list[int]) -> dict[int, dict]:
    found = {}
    for user_id in ids:  # flagged
        profile = await api.fetch_profile(user_id)
        found[user_id] = profile
    return found
""",
            fixed="""\
import asyncio


async def prices(client, symbols: list[str]) -> list[float]:
    return list(await asyncio.gather(*(client.get_price(s) for s in symbols)))
""",
        ),
    )
    clean = (
        Example(
            title="near miss: dependent iterations, a shared session, early exit",
            code="""\
async def pages(client, first: str) -> list[dict]:
    out = []
    cursor = first
    for _ in range(10):
        page = await client.get_page(cursor)
        cursor = page["next"]
        out.append(page)
    return out


async def load(session, ids: list[int]) -> list:
    rows = []
    for row_id in ids:
        rows.append(await session.get(Row, row_id))
    return rows


async def first_ok(client, urls: list[str]):
    found = []
    for url in urls:
        response = await client.head(url)
        found.append(response)
        if response.ok:
            break
    return found
""",
        ),
    )

    @visit(ast.For)
    def check_for(self, node: ast.For, ctx: FileContext) -> None:
        if not ctx.in_async_function() or node.orelse or is_script_path(ctx.path):
            return
        awaits = [n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Await)]
        if len(awaits) != 1 or not isinstance(awaits[0].value, ast.Call):
            return
        call = awaits[0].value
        if any(
            isinstance(
                n,
                (
                    ast.Break,
                    ast.Return,
                    ast.Continue,
                    ast.Yield,
                    ast.YieldFrom,
                    ast.For,
                    ast.While,
                    ast.With,
                    ast.AsyncWith,
                    ast.Try,
                    ast.Raise,
                    ast.If,
                ),
            )
            for stmt in node.body
            for n in ast.walk(stmt)
        ):
            return
        if len(node.body) > 3 or not self._independent(node, call) or not self._parallel_safe(call):
            return
        if not self._collects(node, awaits[0]):
            return
        ctx.report(
            node,
            f"Each iteration waits for `{ast.unparse(call.func)}(...)` before the next one "
            "starts, though they do not depend on each other; run them concurrently with "
            "`asyncio.gather` or a TaskGroup",
            confidence=Confidence.MEDIUM,
            end_node=node.iter,
        )

    @staticmethod
    def _independent(loop: ast.For, call: ast.Call) -> bool:
        """The awaited call reads the loop variable and nothing the loop body binds."""
        loop_vars = _names(loop.target)
        bound: set[str] = set()
        for stmt in loop.body:
            for n in ast.walk(stmt):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    bound.add(n.id)
                elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                    bound.add(n.target.id)
        used = set()
        for part in (*call.args, *(k.value for k in call.keywords)):
            used |= _names(part)
        return bool(used & loop_vars) and not (used & bound)

    @staticmethod
    def _parallel_safe(call: ast.Call) -> bool:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return isinstance(func, ast.Name) and not func.id.lstrip("_").startswith(WRITERS)
        if func.attr in SERIAL_METHODS or func.attr.lstrip("_").startswith(WRITERS):
            return False
        receiver = ast.unparse(func.value).lower()
        return not any(word in receiver for word in SERIAL_WORDS) and receiver != "self"

    @staticmethod
    def _collects(loop: ast.For, awaited: ast.Await) -> bool:
        """The result is appended to or stored in a collection (possibly through one local)."""
        result_names: set[str] = set()
        for stmt in loop.body:
            if isinstance(stmt, ast.Assign) and stmt.value is awaited:
                result_names |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        for stmt in loop.body:
            value = None
            if (
                isinstance(stmt, ast.Expr)
                and isinstance(stmt.value, ast.Call)
                and isinstance(stmt.value.func, ast.Attribute)
                and stmt.value.func.attr in COLLECTORS
                and len(stmt.value.args) == 1
            ):
                value = stmt.value.args[0]
            elif isinstance(stmt, ast.Assign) and any(
                isinstance(t, ast.Subscript) for t in stmt.targets
            ):
                value = stmt.value
            if value is None:
                continue
            if value is awaited or (isinstance(value, ast.Name) and value.id in result_names):
                return True
        return False
