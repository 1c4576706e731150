"""Checks that restrict a value to a known set (`if x not in ALLOWED: raise`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backend_expert.dataflow.known import (
    EXIT_CALLS,
    VALIDATORS,
)
from backend_expert.dataflow.util import (
    _short,
)
from backend_expert.index import dotted, is_literal


@dataclass(frozen=True)
class _Guard:
    name: str
    start: int  # first line where the guard holds
    end: int  # last line where it holds
    origin: str


class GuardsMixin:
    """Guards of the function, and the one that holds at a use of a name."""

    def _guard_for(self, name: str, use: ast.AST) -> _Guard | None:
        line = getattr(use, "lineno", 0)
        for guard in self._all_guards():
            if guard.name == name and guard.start <= line <= guard.end:
                return guard
        return None

    def _all_guards(self) -> list[_Guard]:
        if self._guards is not None:
            return self._guards
        guards: list[_Guard] = []
        function = self.function
        if function is not None and not isinstance(function, ast.Lambda):
            end = getattr(function, "end_lineno", None) or 10**9
            for node in self.ctx.own_nodes(function):
                if isinstance(node, ast.If):
                    self._if_guards(node, end, guards)
                elif isinstance(node, ast.Assert):
                    for name, origin in _checked_names(node.test, positive=True).items():
                        guards.append(_Guard(name, node.lineno, end, origin))
        self._guards = guards
        return guards

    def _if_guards(self, node: ast.If, end: int, guards: list[_Guard]) -> None:
        # `if col in ALLOWED: <use>`: holds in the body.
        if node.body:
            last = getattr(node.body[-1], "end_lineno", node.lineno)
            for name, origin in _checked_names(node.test, positive=True).items():
                guards.append(_Guard(name, node.body[0].lineno, last, origin))
        # `if col not in ALLOWED: raise`: holds after the `if`.
        failed = _checked_names(node.test, positive=False)
        if failed and node.body:
            after = (getattr(node, "end_lineno", None) or node.lineno) + 1
            exits = _exits(node.body)
            for name, origin in failed.items():
                resets = _reassigns_to_constant(node.body, name)
                if exits or resets:
                    guards.append(_Guard(name, after, end, origin))
            if node.orelse:  # `if col not in ALLOWED: raise ... else: <use>`
                first = node.orelse[0].lineno
                last = getattr(node.orelse[-1], "end_lineno", first)
                for name, origin in failed.items():
                    guards.append(_Guard(name, first, last, origin))


def _checked_names(test: ast.AST, *, positive: bool) -> dict[str, str]:
    """Names that a test restricts to a known set when it is true (`positive`) or false.

    True: `x in C`, `re.fullmatch(P, x)`, `x.isidentifier()`, and `and` of those.
    False: `x not in C`, `not x in C`, `not re.match(P, x)`, and `or` of those.
    """
    found: dict[str, str] = {}
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _checked_names(test.operand, positive=not positive)
    if isinstance(test, ast.BoolOp):
        combine = ast.And if positive else ast.Or
        if isinstance(test.op, combine):
            for value in test.values:
                found.update(_checked_names(value, positive=positive))
        return found
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name):
        op = test.ops[0]
        container = _short(test.comparators[0], 40)
        if (positive and isinstance(op, ast.In)) or (not positive and isinstance(op, ast.NotIn)):
            found[test.left.id] = f"`{test.left.id}`, checked against `{container}`"
        return found
    if positive and isinstance(test, ast.Call):
        func = test.func
        if isinstance(func, ast.Attribute) and func.attr in VALIDATORS:
            if isinstance(func.value, ast.Name) and not test.args:
                found[func.value.id] = f"`{func.value.id}`, checked with `{func.attr}()`"
        elif (dotted(func) or "").rpartition(".")[2] in ("match", "fullmatch") and test.args:
            subject = test.args[-1] if len(test.args) >= 2 else None
            if isinstance(func, ast.Attribute) and len(test.args) == 1:
                subject = test.args[0]  # PATTERN.match(x)
            if isinstance(subject, ast.Name):
                found[subject.id] = f"`{subject.id}`, checked with a regular expression"
    return found


def _exits(body: list[ast.stmt]) -> bool:
    last = body[-1]
    if isinstance(last, ast.Raise | ast.Return | ast.Continue | ast.Break):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        name = (dotted(last.value.func) or "").rpartition(".")[2]
        return name in EXIT_CALLS
    return False


def _reassigns_to_constant(body: list[ast.stmt], name: str) -> bool:
    for stmt in body:
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
            and is_literal(stmt.value)
        ):
            return True
    return False
