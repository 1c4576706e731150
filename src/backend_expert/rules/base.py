"""The shape of a rule: metadata, explanation, examples and detection in one class.

A rule module defines one `Rule` subclass. Detection is written as methods
decorated with `@visit(ast.Call, ...)`: the checker walks each file once and
calls every registered method for nodes of those types. `@visit_call("decode", ...)`
registers a method for calls of those names only. Rules that need the
whole project implement `check_project` instead.

The examples are data: the generic test runs them and `bex explain` prints them,
so the documentation cannot drift from what the rule does. In an example that
must fire, every line that must be flagged ends with the comment `# flagged`;
no other line may be flagged.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from backend_expert.findings import Applicability, Severity

if TYPE_CHECKING:
    from backend_expert.check import FileContext
    from backend_expert.findings import Finding
    from backend_expert.index import Project

DOCS_BASE = "https://github.com/backend-expert/bex/blob/main/docs/rules.md#"
MARKER = "# flagged"

Handler = Callable[["Rule", ast.AST, "FileContext"], None]


def visit(*node_types: type[ast.AST]) -> Callable[[Handler], Handler]:
    """Register the decorated method for the given node types."""

    def decorate(method: Handler) -> Handler:
        method.__bex_node_types__ = node_types  # type: ignore[attr-defined]
        return method

    return decorate


def visit_call(*names: str | Iterable[str]) -> Callable[[Handler], Handler]:
    """Register the decorated method for calls made through one of `names` only.

    A call's name is the last part of what it calls: `decode` for `jwt.decode(t)`,
    `client.decode(t)` and `decode(t)`, also when imported under another name (`from jwt
    import decode as d`). Qualified names stand for their last part, so a rule can pass the
    set of qualified names it looks for. This only spares the handler the other calls (a
    large project has hundreds of thousands): it still checks what the call really is.
    """
    flat = {name for item in names for name in ([item] if isinstance(item, str) else item)}
    callees = frozenset(name.rpartition(".")[2] for name in flat)

    def decorate(method: Handler) -> Handler:
        method.__bex_node_types__ = (ast.Call,)  # type: ignore[attr-defined]
        method.__bex_callees__ = callees  # type: ignore[attr-defined]
        return method

    return decorate


@dataclass(frozen=True)
class Example:
    """A piece of code (one file, or several for cross-file cases) and what bex must say of it.

    `files` maps relative paths to sources; `code` is shorthand for one file `app.py`.
    `fixed` is the code after the rule's fix, when the rule has one.
    """

    code: str = ""
    files: dict[str, str] = field(default_factory=dict)
    title: str = ""
    fixed: str = ""
    dependencies: tuple[
        str, ...
    ] = ()  # requirement lines, as a requirements.txt would declare them

    def sources(self) -> dict[str, str]:
        return self.files if self.files else {"app.py": self.code}

    def expected_lines(self) -> set[tuple[str, int]]:
        """(path, line) pairs carrying the `# flagged` marker."""
        return {
            (path, number)
            for path, text in self.sources().items()
            for number, line in enumerate(text.splitlines(), start=1)
            if line.rstrip().endswith(MARKER)
        }


@dataclass(frozen=True)
class Explanation:
    """ruff's rule-doc sections: what / why / use instead / fix safety / references."""

    what: str
    why: str
    use_instead: str = ""
    fix_safety: str = ""
    references: tuple[str, ...] = ()


class Rule:
    """Base class of every rule. Subclasses set the metadata and register handlers."""

    code: ClassVar[str]
    slug: ClassVar[str]
    pack: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[str]
    summary: ClassVar[str]
    hint: ClassVar[str] = ""  # one line telling what to do instead, shown under each finding
    explanation: ClassVar[Explanation]
    fire: ClassVar[tuple[Example, ...]] = ()  # code that must be flagged
    clean: ClassVar[tuple[Example, ...]] = ()  # near-misses that must not be flagged
    fix_applicability: ClassVar[Applicability | None] = None  # None: explain only
    frameworks: ClassVar[tuple[str, ...]] = ()  # run only when the project uses one of these
    min_versions: ClassVar[dict[str, str]] = {}  # library -> lowest version the advice is for
    cwe: ClassVar[int | None] = None
    security_severity: ClassVar[float | None] = None  # GitHub code scanning score, 0.1-10
    skip_tests: ClassVar[bool] = False  # test modules are not this rule's business
    # Run only on files whose text contains one of these strings: a precondition of every
    # finding (`async` for a rule about code inside `async def`), never a guess.
    requires_text: ClassVar[tuple[str, ...]] = ()

    handlers: ClassVar[dict[type[ast.AST], tuple[Handler, ...]]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[type[ast.AST], list[Handler]] = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                for node_type in getattr(attribute, "__bex_node_types__", ()):
                    found.setdefault(node_type, []).append(attribute)
        cls.handlers = {node_type: tuple(methods) for node_type, methods in found.items()}

    @property
    def docs_url(self) -> str:
        return DOCS_BASE + self.slug

    def check_project(self, project: Project) -> Iterable[Finding]:
        """Project-level rules override this; it runs once per run."""
        return ()

    @classmethod
    def has_project_check(cls) -> bool:
        return cls.check_project is not Rule.check_project

    def __repr__(self) -> str:
        return f"<Rule {self.code} {self.slug}>"
