"""SQLAlchemy facts gathered while indexing one file, merged per project by `sqlalchemy_models`.

The generic indexer already keeps class-body bindings (`x: Mapped[int] = mapped_column()`,
`x = Column(...)`, `posts = relationship(...)`). What it cannot see, and this module adds:

- attributes declared by `@declared_attr` methods (`def author(cls) -> Mapped[User]:
  return relationship(...)`, common in mixins and large code bases);
- module-level session factories and what they make (`sessionmaker(class_=AsyncSession)`
  makes an `AsyncSession`, although it is a `sessionmaker`);
- functions that yield or return a session (`get_db` dependencies, `@contextmanager`
  helpers), as the qualified callee that built the session.

Called from `index.collect_facts`; gated by cheap text checks, so projects without
SQLAlchemy pay nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from backend_expert.nodes import own_statements

if TYPE_CHECKING:
    from backend_expert.index import MemberFacts, _FactCollector

ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"
SYNC_SESSION = "sqlalchemy.orm.Session"
# Factories by the last part of their qualified name, and the session they make by default.
FACTORIES = {
    "sessionmaker": SYNC_SESSION,
    "scoped_session": SYNC_SESSION,
    "async_sessionmaker": ASYNC_SESSION,
    "async_scoped_session": ASYNC_SESSION,
}
LIBRARIES = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")


@dataclass(frozen=True)
class SqlaFacts:
    """What one module says about SQLAlchemy beyond the generic facts (names, never lines)."""

    # (class, attribute, binding) for `@declared_attr` methods that return a call.
    declared: tuple[tuple[str, str, MemberFacts], ...] = ()
    # Module-level factory name -> qualified session class it makes.
    factories: tuple[tuple[str, str], ...] = ()
    # Function name -> ("yield" | "return" | "context", qualified callee that built the value).
    sessions: tuple[tuple[str, str, str], ...] = ()

    def key(self) -> tuple:
        return (self.declared, self.factories, self.sessions)

    def __bool__(self) -> bool:
        return bool(self.declared or self.factories or self.sessions)


def collect_sqlalchemy_facts(
    tree: ast.Module, collector: _FactCollector, text: str | None
) -> SqlaFacts | None:
    """The SQLAlchemy facts of one module, or None (cheap when the module has none)."""
    imports = sessions_named = False
    for alias, target in collector.facts_imports.items():
        if target.startswith(LIBRARIES):
            imports = True
            break
        sessions_named = sessions_named or "ession" in alias
    # A module that does not import SQLAlchemy may still hand out sessions it imports
    # (`from app.db import SessionLocal`). Names only: scanning every text costs more.
    if not imports and not sessions_named:
        return None
    want_declared = imports and (text is None or "declared_attr" in text)
    declared: list[tuple[str, str, MemberFacts]] = []
    factories: list[tuple[str, str]] = []
    sessions: list[tuple[str, str, str]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            if want_declared:
                declared.extend(_declared(stmt, collector))
            sessions.extend(_callable_factory(stmt, collector))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and imports:
            factories.extend(_factory(stmt, collector))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = _session_source(stmt, collector, {name for name, _ in factories})
            if found is not None:
                sessions.append((stmt.name, *found))
    facts = SqlaFacts(tuple(declared), tuple(factories), tuple(sessions))
    return facts if facts else None


def _declared(node: ast.ClassDef, collector: _FactCollector) -> list[tuple[str, str, MemberFacts]]:
    from backend_expert.index import MemberFacts, _render

    found = []
    for stmt in node.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        names = {
            (collector.qualify(d.func if isinstance(d, ast.Call) else d) or "").rpartition(".")[2]
            for d in stmt.decorator_list
        }
        names |= {d.attr for d in stmt.decorator_list if isinstance(d, ast.Attribute)}
        if not names & {"declared_attr", "directive"}:
            continue
        returned = next(
            (s.value for s in stmt.body if isinstance(s, ast.Return) and s.value is not None),
            None,
        )
        if not isinstance(returned, ast.Call):
            continue
        member = MemberFacts(
            callee=collector.qualify(returned.func),
            args=tuple(_render(a, collector) for a in returned.args),
            keywords=tuple(
                (kw.arg, _render(kw.value, collector)) for kw in returned.keywords if kw.arg
            ),
            annotation=_render(stmt.returns, collector) if stmt.returns is not None else None,
        )
        found.append((node.name, stmt.name, member))
    return found


def factory_product(call: ast.Call, collector: _FactCollector) -> str | None:
    """The session class a `sessionmaker(...)`-like call makes, or None when it is not one."""
    callee = collector.qualify(call.func) or ""
    last = callee.rpartition(".")[2]
    if last not in FACTORIES or not callee.startswith(LIBRARIES):
        return None
    if last == "scoped_session" and call.args and isinstance(call.args[0], ast.Call):
        inner = factory_product(call.args[0], collector)
        if inner is not None:
            return inner
    for keyword in call.keywords:
        if keyword.arg == "class_":
            made = collector.qualify(keyword.value)
            return made if made else None
    return FACTORIES[last]


def _factory(stmt: ast.Assign | ast.AnnAssign, collector: _FactCollector) -> list[tuple[str, str]]:
    if not isinstance(stmt.value, ast.Call):
        return []
    product = factory_product(stmt.value, collector)
    if product is None:
        return []
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    return [(t.id, product) for t in targets if isinstance(t, ast.Name)]


def _session_source(
    node: ast.FunctionDef | ast.AsyncFunctionDef, collector: _FactCollector, local: set[str]
) -> tuple[str, str] | None:
    """How a function hands out a session: the qualified callee of what it yields or returns.

    Generators keep what they yield when it is built by a call; other functions only a
    returned call whose name mentions a session or a factory (or is a factory of this
    module). The model resolves the callee to a session type later.
    """
    bound: dict[str, ast.AST] = {}
    result: tuple[str, ast.AST] | None = None
    for stmt in own_statements(node.body):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            if isinstance(stmt.targets[0], ast.Name):
                bound[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if isinstance(item.optional_vars, ast.Name):
                    bound[item.optional_vars.id] = item.context_expr
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield):
            if stmt.value.value is not None:
                result = ("yield", stmt.value.value)
                break
        elif isinstance(stmt, ast.Return) and stmt.value is not None and result is None:
            result = ("return", stmt.value)
    if result is None:
        return None
    how, value = result
    if isinstance(value, ast.Name):
        value = bound.get(value.id, value)
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return None
    func = value.func.func if isinstance(value.func, ast.Call) else value.func
    callee = collector.qualify(func)
    if callee is None:
        return None
    last = callee.rpartition(".")[2]
    if (
        how == "return"
        and last not in local
        and not any(word in last.lower() for word in ("session", "maker"))
    ):
        return None
    return how, callee


SESSION_CLASS_NAMES = frozenset({"Session", "AsyncSession"})


def _callable_factory(node: ast.ClassDef, collector: _FactCollector) -> list[tuple[str, str, str]]:
    """`def __call__(self) -> AbstractAsyncContextManager[AsyncSession]`: instances of the class
    are session factories (`async with db() as session`)."""
    for stmt in node.body:
        if (
            isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
            and stmt.name == "__call__"
            and stmt.returns is not None
        ):
            for inner in ast.walk(stmt.returns):
                if isinstance(inner, (ast.Name, ast.Attribute)):
                    name = inner.id if isinstance(inner, ast.Name) else inner.attr
                    qualified = collector.qualify(inner)
                    if name in SESSION_CLASS_NAMES and qualified:
                        return [(f"{node.name}.__call__", "context", qualified)]
    return []
