"""The public face of the analysis for rules: the taint of an expression and what to say of it.

Rules of other packs (the Flask pack's `flask-ssti` and `flask-send-file-path`) use these
functions, not the analysis classes:

- `taint_of(expr, ctx)` -> `Source` (`.kind`, `.origin`, `.line`, `.describe()`),
- `confidence_for(source)` -> the confidence a finding fed by it deserves (None: do not report),
- `origin_note(source)` -> "from `request.args['q']` on line 12", for messages,
- `route_framework(ctx)` -> "fastapi" / "flask" when the current function is a route.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.dataflow.analysis import flow
from backend_expert.dataflow.model import Kind, Source
from backend_expert.findings import Confidence
from backend_expert.infer import FunctionNode

if TYPE_CHECKING:
    from backend_expert.check import FileContext


def taint_of(expr: ast.AST, ctx: FileContext, function: FunctionNode | None = None) -> Source:
    """What `expr` is built from, inside `function` (default: the function around the
    current node; module-level code when there is none)."""
    return flow(ctx, function).source(expr)


def confidence_for(source: Source, *, unknown: bool = True) -> Confidence | None:
    """HIGH for request data, MEDIUM for a parameter of a helper, LOW for a value bex cannot
    trace (None when `unknown` is False), None for constants and checked values."""
    if source.kind == Kind.REQUEST:
        return Confidence.HIGH
    if source.kind == Kind.PARAMETER:
        return Confidence.MEDIUM
    if source.kind == Kind.UNKNOWN and unknown:
        return Confidence.LOW
    return None


def route_framework(ctx: FileContext, function: FunctionNode | None = None) -> str | None:
    """ "fastapi" or "flask" when `function` (default: the current one) is an HTTP route."""
    route = flow(ctx, function)._route_info()
    return route[0] if route else None


def origin_note(source: Source) -> str:
    """ "from `request.args['q']` on line 12": where the value came from, for a message."""
    where = f" on line {source.line}" if source.line else ""
    return f"from {source.origin}{where}"
