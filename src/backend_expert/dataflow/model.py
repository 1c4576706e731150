"""The vocabulary of the analysis: kinds of sources, sources, and assembled strings."""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Kind(enum.IntEnum):
    """What a value is built from, ordered from harmless to dangerous."""

    CONSTANT = 0  # literals, module constants, numbers, placeholder lists
    SAFE_IDENTIFIER = 1  # restricted to a known set, or quoted/escaped, or ORM metadata
    UNKNOWN = 2  # a call result, an attribute, anything the analysis cannot see through
    PARAMETER = 3  # a parameter of a function that is not an HTTP entry point
    REQUEST = 4  # data sent by the client: a route parameter, `request.args[...]`...

    @property
    def tainted(self) -> bool:
        """True when the value may hold text nobody in this function controls."""
        return self >= Kind.UNKNOWN


@dataclass(frozen=True)
class Source:
    kind: Kind
    origin: str  # human-readable: "parameter `term` of `search`", "`request.args['q']`"
    node: ast.AST | None = None  # the expression the value was traced back to

    @property
    def line(self) -> int | None:
        """The line where the value enters the function (None when not known)."""
        return getattr(self.node, "lineno", None)

    def describe(self) -> str:
        """ "`request.args['q']` (line 12)": the origin and, when known, its line."""
        return f"{self.origin} (line {self.line})" if self.line else self.origin


CONSTANT = Source(Kind.CONSTANT, "a constant")


def worst(sources: Iterable[Source], default: Source = CONSTANT) -> Source:
    """The most dangerous of several sources (the first one on ties)."""
    best = default
    for source in sources:
        if source.kind > best.kind:
            best = source
    return best


@dataclass(frozen=True)
class Hole:
    """An expression interpolated into a string that was built in the function."""

    node: ast.AST
    source: Source


@dataclass
class Text:
    """A string assembled in the function: constant fragments and interpolated holes, in order."""

    parts: list[str | Hole] = field(default_factory=list)
    built: list[ast.AST] = field(default_factory=list)  # the f-strings/joins/`+`... that built it

    @property
    def holes(self) -> list[Hole]:
        return [part for part in self.parts if isinstance(part, Hole)]

    @property
    def constant_text(self) -> str:
        """The fragments, with `?` standing for each hole."""
        return "".join(part if isinstance(part, str) else "?" for part in self.parts)

    @property
    def dynamic(self) -> bool:
        return any(isinstance(part, Hole) for part in self.parts)

    def tainted_holes(self) -> list[Hole]:
        return [hole for hole in self.holes if hole.source.kind.tainted]

    def after(self, hole: Hole, limit: int = 80) -> str:
        """The constant text right after `hole` (other holes as `?`)."""
        text, seen = "", False
        for part in self.parts:
            if seen:
                text += part if isinstance(part, str) else "?"
                if len(text) >= limit:
                    break
            seen = seen or part is hole
        return text[:limit]

    def before(self, hole: Hole, limit: int | None = 80) -> str:
        """The constant text before `hole` in the assembled string (other holes as `?`), the
        last `limit` characters of it (all of it for None)."""
        text = ""
        for part in self.parts:
            if part is hole:
                return text if limit is None else text[-limit:]
            text += part if isinstance(part, str) else "?"
        return ""

    def extend(self, other: Text) -> None:
        self.parts.extend(other.parts)
        self.built.extend(other.built)
