"""Shared pieces of the security rules (not a rule module): the tainted-sink rule shape,
names that read like secrets, development-only paths."""

from __future__ import annotations

import ast
import functools
import re
from typing import ClassVar

from backend_expert.check import FileContext
from backend_expert.dataflow import (
    Kind,
    Source,
    confidence_for,
    origin_note,
    sink_names,
    tainted_argument,
)
from backend_expert.dataflow.util import _short
from backend_expert.findings import Confidence
from backend_expert.rules.base import Rule, visit_call

# Path parts of modules that only ever run on a developer's machine or in CI.
DEV_PARTS = re.compile(
    r"(?:^|[/_.-])(?:dev|develop|development|local|test|tests|testing|example|examples|sample|"
    r"samples|demo|docs|fixtures|ci|e2e|debug)(?:[/_.-]|$)",
    re.IGNORECASE,
)


OPERATOR_DIRS = ("scripts", "bin", "tools")


@functools.lru_cache(maxsize=1024)  # asked by many rules, many times per file
def is_dev_path(path: str) -> bool:
    """`settings/dev.py`, `config/local_settings.py`, `examples/app.py`..."""
    return DEV_PARTS.search(path.lower()) is not None


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text`, for tables of names."""
    return frozenset(text.split())


def words(name: str) -> list[str]:
    """`apiKey` / `API_KEY` / `api-key` -> ["api", "key"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


def last_name(node: ast.AST) -> str:
    """The name an expression is known by: `x`, `obj.attr`, `d["key"]`, `f()`."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "getlist") and node.args:
            key = node.args[0]  # `headers.get("X-Signature")` is known by its key
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
        return last_name(func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
        return last_name(node.value)
    if isinstance(node, ast.Await):
        return last_name(node.value)
    return ""


def operator_command(ctx: FileContext) -> bool:
    """`handle()` of a Django management command, or a helper in `scripts/`, `bin/`, `tools/`
    or development code: its parameters come from the operator, not from users."""
    function = ctx.enclosing_function()
    path = f"/{ctx.path}"
    if getattr(function, "name", "") == "handle" and "/management/commands/" in path:
        return True
    return is_dev_path(ctx.path) or any(f"/{part}/" in path for part in OPERATOR_DIRS)


class TaintSinkRule(Rule):
    """A rule that reports a sink of its concept (see `dataflow.sinks`) fed by a value that
    is not a constant: request data with high confidence, a helper's parameter with medium,
    an untraced value with low confidence (or not at all when `report_unknown` is False)."""

    sink_does: ClassVar[str] = "is used"  # "runs as a shell command", "is evaluated as Python"
    report_parameter: ClassVar[bool] = True
    report_unknown: ClassVar[bool] = True

    @visit_call(sink_names())  # any concept's sinks: `tainted_argument` keeps the rule's own
    def check_sink(self, node: ast.Call, ctx: FileContext) -> None:
        self.on_call(node, ctx)

    def on_call(self, node: ast.Call, ctx: FileContext) -> None:
        """Override this (not `check_sink`: handlers of base classes stay registered)."""
        found = tainted_argument(node, ctx, self.slug)
        if found is None:
            return
        _sink, argument, source = found
        if not self.accepts(node, argument, source, ctx):
            return
        if source.kind == Kind.PARAMETER and (not self.report_parameter or operator_command(ctx)):
            return
        if source.kind != Kind.REQUEST and "/migrations/" in f"/{ctx.path}":
            return  # a migration runs once, on the project's own data
        confidence = confidence_for(source, unknown=self.report_unknown)
        if confidence is None:
            return
        self.report_sink(node, argument, source, confidence, ctx)

    def accepts(self, call: ast.Call, argument: ast.AST, source: Source, ctx: FileContext) -> bool:
        """Subclasses refuse some sinks here (a checked path, a non-HTML response...)."""
        return True

    def report_sink(
        self,
        call: ast.Call,
        argument: ast.AST,
        source: Source,
        confidence: Confidence,
        ctx: FileContext,
    ) -> None:
        callee = _short(call.func, 40)
        message = (
            f"`{_short(argument, 50)}` {self.sink_does} by `{callee}()`; the value comes "
            f"{origin_note(source)}. {self.hint}"
        )
        ctx.report(call, message, confidence=confidence, source=source.describe())
