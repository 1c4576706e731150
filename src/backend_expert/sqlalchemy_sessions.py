"""Sessions in the SQLAlchemy project model: what factories make and dependencies hand out.

`SessionLocal = sessionmaker(...)` makes a `Session`, `sessionmaker(class_=AsyncSession)` an
`AsyncSession`; `get_db` that yields `SessionLocal()` hands out a `Session` through
`Depends(get_db)`; a `@contextmanager` that yields one gives it to `with helper() as s`.
Read from `sqlalchemy_facts.SqlaFacts`; `infer.py` asks these functions.
"""

from __future__ import annotations

from backend_expert.index import Project
from backend_expert.sqlalchemy_facts import SqlaFacts

SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
ASYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)


def _sqla_facts(project: Project, qualname: str) -> tuple[str, SqlaFacts | None]:
    resolved = project.resolve(qualname)
    module, _, name = resolved.rpartition(".")
    facts = project.modules.get(module)
    return name, facts.sqlalchemy if facts is not None else None


def factory_product(project: Project, qualname: str) -> str | None:
    """What calling the module-level factory `qualname` makes (a session class), or None."""
    name, facts = _sqla_facts(project, qualname)
    if facts is not None:
        for factory, product in facts.factories:
            if factory == name:
                return project.resolve(product)
    return None


def session_type(
    project: Project, qualname: str, via: str = "depends", _depth: int = 0
) -> str | None:
    """The session class function `qualname` hands out, or None.

    `via="depends"`: as a FastAPI dependency (what it yields or returns); `via="call"`: what
    calling it gives (what it returns, or yields when it is a context manager).
    """
    name, facts = _sqla_facts(project, qualname)
    if facts is None:
        return None
    for function, how, callee in facts.sessions:
        if function != name:
            continue
        if how == "yield" and via == "call":
            decorators = (project.function_facts(qualname) or _NoFunction).decorators
            if not any(_last(d).endswith("contextmanager") for d in decorators):
                return None
        return session_class(project, callee, _depth + 1)
    return None


class _NoFunction:
    decorators: tuple[str, ...] = ()


def session_class(project: Project, callee: str, _depth: int = 0) -> str | None:
    """The session class that `callee(...)` builds: a session class, a factory, a helper."""
    resolved = project.resolve(callee)
    if session_flavour(project, resolved) is not None:
        return resolved
    product = factory_product(project, resolved)
    if product is not None:
        return product
    if _depth < 3 and project.function_facts(resolved) is not None:
        return session_type(project, resolved, "call", _depth)
    return None


def session_flavour(project: Project, qualname: str | None) -> str | None:
    """ "async" or "sync" for a session class (library or project subclass), else None."""
    if not qualname:
        return None
    if qualname in ASYNC_SESSION_TYPES:
        return "async"
    if qualname in SESSION_TYPES:
        return "sync"
    if project.class_facts(qualname) is not None:
        ancestors = project.ancestors(qualname)
        if ancestors & ASYNC_SESSION_TYPES:
            return "async"
        if ancestors & SESSION_TYPES:
            return "sync"
    return None


def _last(name: str | None) -> str:
    return (name or "").rpartition(".")[2]


def called_instance_session(project: Project, class_qualname: str) -> str | None:
    """Calling an instance of the project class gives (a context manager of) a session."""
    if class_qualname not in _callable_classes(project):
        return None
    module, _, name = class_qualname.rpartition(".")
    facts = project.modules[module].sqlalchemy
    for function, _how, callee in facts.sessions if facts is not None else ():
        if function == f"{name}.__call__":
            return session_class(project, callee)
    return None


def _callable_classes(project: Project) -> frozenset[str]:
    found = project.__dict__.get("_sqlalchemy_callable_factories")
    if found is None:
        found = frozenset(
            f"{facts.module}.{function.rpartition('.')[0]}"
            for facts in project.modules.values()
            if facts.sqlalchemy is not None
            for function, _how, _callee in facts.sqlalchemy.sessions
            if function.endswith(".__call__")
        )
        project.__dict__["_sqlalchemy_callable_factories"] = found
    return found
