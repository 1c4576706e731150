"""`asyncio.get_event_loop()` inside a coroutine, where `get_running_loop()` says what is meant."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import edit
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call


class GetEventLoop(Rule):
    code = "BEX604"
    slug = "async-get-event-loop"
    pack = "async"
    severity = Severity.WARNING
    category = "deprecation"
    fix_applicability = Applicability.SAFE
    requires_text = ("async",)  # only inside `async def`
    summary = "`asyncio.get_event_loop()` called inside a coroutine"
    hint = "Call `asyncio.get_running_loop()`: inside a coroutine a loop is always running."
    explanation = Explanation(
        what=(
            "Flags calls to `asyncio.get_event_loop()` made directly in the body of an "
            "`async def` (not in a nested plain function, which may run in another thread)."
        ),
        why=(
            "`get_event_loop()` has changed meaning across Python versions: it may create a new "
            "loop, warn, or raise depending on the version and on the thread, and its policy-"
            "based lookup is deprecated. Inside a coroutine there is exactly one right answer, "
            "the loop running this coroutine, and `get_running_loop()` returns exactly that (or "
            "raises if called wrongly), so the intent is explicit and future-proof."
        ),
        use_instead="`loop = asyncio.get_running_loop()`.",
        fix_safety=(
            "Safe: inside a running coroutine both functions return the same running loop; the "
            "fix renames the attribute and is offered only for the `asyncio.get_event_loop` spelling."
        ),
        references=(
            "https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.get_running_loop",
            "https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.get_event_loop",
        ),
    )
    fire = (
        Example(
            title="offloading blocking work from a coroutine",
            code="""\
import asyncio


async def checksum(path: str) -> str:
    loop = asyncio.get_event_loop()  # flagged
    return await loop.run_in_executor(None, compute, path)
""",
            fixed="""\
import asyncio


async def checksum(path: str) -> str:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, compute, path)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the running loop, and get_event_loop in synchronous code",
            code="""\
import asyncio


async def checksum(path: str) -> str:
    loop = asyncio.get_running_loop()

    def callback() -> None:
        asyncio.get_event_loop()

    return await loop.run_in_executor(None, callback)


def main() -> None:
    loop = asyncio.get_event_loop()
    loop.run_until_complete(checksum("x"))
""",
        ),
    )

    @visit_call("get_event_loop")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        if node.args or node.keywords or not ctx.in_async_function():
            return
        if ctx.qualname(node.func) != "asyncio.get_event_loop":
            return
        fix = None
        func = node.func
        if isinstance(func, ast.Attribute) and func.end_lineno is not None:
            end = func.end_col_offset or 0
            fix = Fix(
                "Use `get_running_loop()`",
                (
                    edit(
                        ctx,
                        (func.end_lineno, end - len("get_event_loop")),
                        (func.end_lineno, end),
                        "get_running_loop",
                    ),
                ),
                Applicability.SAFE,
            )
        ctx.report(
            node,
            "`asyncio.get_event_loop()` inside a coroutine: use `asyncio.get_running_loop()`, "
            "which returns the loop running this code and never creates another",
            confidence=Confidence.HIGH,
            fix=fix,
        )
