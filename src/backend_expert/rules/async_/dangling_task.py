"""`asyncio.create_task(...)` whose task is dropped: it may be garbage-collected mid-flight."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

SPAWNERS = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task"})
SPAWNED_BY = frozenset({"create_task", "ensure_future"})  # the names of SPAWNERS
LOOP_GETTERS = frozenset(
    {"asyncio.get_event_loop", "asyncio.get_running_loop", "asyncio.new_event_loop"}
)


class DanglingTask(Rule):
    code = "BEX603"
    slug = "async-dangling-task"
    pack = "async"
    severity = Severity.WARNING
    category = "reliability"
    requires_text = tuple(SPAWNED_BY)  # a call to one of these
    summary = "Task created with `create_task`/`ensure_future` and not kept anywhere"
    hint = "Keep a reference (a set of background tasks with `add_done_callback(tasks.discard)`) or use a `TaskGroup`."
    explanation = Explanation(
        what=(
            "Flags a statement that only calls `asyncio.create_task(...)`, "
            "`asyncio.ensure_future(...)` or `loop.create_task(...)` (on a loop obtained from "
            "`asyncio`) and throws the returned task away. Tasks that are assigned, awaited, "
            "returned, stored in a collection, or created on a `TaskGroup` are not reported."
        ),
        why=(
            "The event loop keeps only a weak reference to a task. A task nobody references can "
            "be garbage-collected before it finishes, so the work silently stops halfway; the "
            "Python documentation warns about exactly this. A dropped task also hides its "
            "exception (it is only logged as 'never retrieved', if at all) and cannot be "
            "cancelled or awaited on shutdown."
        ),
        use_instead=(
            "`async with asyncio.TaskGroup() as tg: tg.create_task(work())` when the caller can "
            "wait; for fire-and-forget work, keep the task in a module- or app-level set: "
            "`task = asyncio.create_task(work()); background.add(task); "
            "task.add_done_callback(background.discard)`."
        ),
        references=(
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.create_task",
            "https://docs.python.org/3/library/asyncio-task.html#task-groups",
        ),
    )
    fire = (
        Example(
            title="fire-and-forget notifications",
            code="""\
import asyncio


async def place_order(order_id: int) -> None:
    await save(order_id)
    asyncio.create_task(send_receipt(order_id))  # flagged
    asyncio.ensure_future(update_stats())  # flagged
    loop = asyncio.get_running_loop()
    loop.create_task(warm_cache(order_id))  # flagged
""",
            fixed="""\
import asyncio

background: set[asyncio.Task] = set()


async def place_order(order_id: int) -> None:
    await save(order_id)
    task = asyncio.create_task(send_receipt(order_id))
    background.add(task)
    task.add_done_callback(background.discard)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: stored tasks, awaited tasks and a TaskGroup",
            code="""\
import asyncio

background: set[asyncio.Task] = set()


async def place_order(order_id: int) -> None:
    task = asyncio.create_task(send_receipt(order_id))
    background.add(task)
    task.add_done_callback(background.discard)
    background.add(asyncio.create_task(update_stats()))
    await asyncio.create_task(save(order_id))
    async with asyncio.TaskGroup() as tg:
        tg.create_task(warm_cache(order_id))
""",
        ),
    )

    @visit(ast.Expr)
    def check_statement(self, node: ast.Expr, ctx: FileContext) -> None:
        call = node.value
        if not isinstance(call, ast.Call):
            return
        func = call.func
        if ctx.spelled_name(func) not in SPAWNED_BY:
            return  # most expression statements are calls: the name first, it is cheaper
        name = ctx.qualname(func)
        if name in SPAWNERS or (
            isinstance(func, ast.Attribute)
            and func.attr == "create_task"
            and self._is_loop(func.value, ctx)
        ):
            spelled = ast.unparse(func)
        else:
            return
        ctx.report(
            call,
            f"The task from `{spelled}(...)` is not kept: the loop holds it only weakly, so it "
            "can be garbage-collected before it finishes and its exception is lost; store it "
            "or use a TaskGroup",
            confidence=Confidence.HIGH,
        )

    @staticmethod
    def _is_loop(node: ast.AST, ctx: FileContext) -> bool:
        if isinstance(node, ast.Call):
            return ctx.qualname(node.func) in LOOP_GETTERS
        if not isinstance(node, ast.Name):
            return False
        function = ctx.enclosing_function()
        values = ctx.scope(function).values(node.id) if function is not None else []
        return bool(values) and all(
            isinstance(v, ast.Call) and ctx.qualname(v.func) in LOOP_GETTERS for v in values
        )
