"""The analysis of one function: the mixins put together, and its per-file cache."""

from __future__ import annotations

import ast
import weakref
from typing import TYPE_CHECKING

from backend_expert.dataflow.bindings import BindingsMixin
from backend_expert.dataflow.guards import GuardsMixin, _Guard
from backend_expert.dataflow.known import (
    _MAX_DEPTH,
)
from backend_expert.dataflow.model import CONSTANT, Source, Text
from backend_expert.dataflow.requests import RequestMixin
from backend_expert.dataflow.sources import SourcesMixin
from backend_expert.dataflow.texts import TextsMixin
from backend_expert.infer import FunctionNode

if TYPE_CHECKING:
    from backend_expert.check import FileContext

# --- the analysis ------------------------------------------------------------------------------


_FLOWS: weakref.WeakKeyDictionary[FileContext, dict[int, DataFlow]] = weakref.WeakKeyDictionary()


def flow(ctx: FileContext, function: FunctionNode | None = None) -> DataFlow:
    """The (cached) analysis of `function` (default: the function around the current node)."""
    if function is None:
        function = ctx.enclosing_function()
    flows = _FLOWS.setdefault(ctx, {})
    key = id(function)
    if key not in flows:
        flows[key] = DataFlow(ctx, function)
    return flows[key]


def source_of(node: ast.AST, ctx: FileContext, function: FunctionNode | None = None) -> Source:
    """What the value of `node` is built from, inside its enclosing function."""
    return flow(ctx, function).source(node)


def text_of(node: ast.AST, ctx: FileContext, function: FunctionNode | None = None) -> Text | None:
    """The string `node` evaluates to, when it is assembled in its function; else None."""
    return flow(ctx, function).text(node)


class DataFlow(SourcesMixin, RequestMixin, BindingsMixin, GuardsMixin, TextsMixin):
    """The analysis of one function (or of module-level code when `function` is None)."""

    def __init__(self, ctx: FileContext, function: FunctionNode | None) -> None:
        self.ctx = ctx
        self.function = function
        self.scope = ctx.scope(function) if function is not None else None
        self._active: set[int] = set()
        self._sources: dict[int, Source] = {}
        self._texts: dict[int, Text | None] = {}
        self._unpacked: dict[int, ast.AST] | None = None
        self._appended: dict[str, list[ast.AST]] | None = None
        self._inner: dict[str, list[ast.AST]] | None = None  # comprehension variables, `:=`
        self._guards: list[_Guard] | None = None
        self._route: tuple[str, set[str]] | bool | None = False  # False: not computed yet
        self._module_values: dict[str, list[ast.AST]] | None = None
        self._class_constants: dict[str, ast.AST] | None = None

    # --- public -----------------------------------------------------------------------------

    def source(self, node: ast.AST) -> Source:
        key = id(node)
        cached = self._sources.get(key)
        if cached is not None:
            return cached
        if key in self._active or len(self._active) > _MAX_DEPTH:
            return CONSTANT  # a cycle (`sql = sql + ...`): the other bindings decide
        self._active.add(key)
        try:
            result = self._source(node)
        finally:
            self._active.discard(key)
        self._sources[key] = result
        return result

    def text(self, node: ast.AST) -> Text | None:
        key = id(node)
        if key in self._texts:
            return self._texts[key]
        if -key in self._active or len(self._active) > _MAX_DEPTH:
            return None  # a cycle: the other bindings decide
        self._active.add(-key)
        try:
            result = self._text(node)
        finally:
            self._active.discard(-key)
        self._texts[key] = result
        return result

    def _flow_of(self, function):
        return flow(self.ctx, function)
