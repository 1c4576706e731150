"""SQLAlchemy (and SQLModel, Flask-SQLAlchemy) mapped classes, read from the project model.

A thin adapter for the architecture model and the project rules: which classes are
mapped to tables and which other mapped classes they point to (`relationship()` targets
and `ForeignKey("table.column")` references).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.index import ClassFacts, Project

BASE_CLASSES = frozenset({"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta"})
BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
    }
)
FLASK_SQLALCHEMY = frozenset(
    {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
)
_QUOTED = re.compile(r"""['"]([A-Za-z_][\\w.]*)['"]""")
_FOREIGN_KEY = re.compile(r"""ForeignKey\(\s*['"]([A-Za-z_][\w]*)\.""")


@dataclass
class MappedClass:
    qualname: str
    name: str
    path: str
    table: str | None
    relations: list[tuple[str, str]] = field(default_factory=list)  # (attribute, target qualname)


def _is_base_name(base: str, project: Project) -> bool:
    """A declarative base: a DeclarativeBase subclass, `Base = declarative_base()`, `db.Model`."""
    resolved = project.resolve(base)
    if resolved in BASE_CLASSES:
        return True
    if project.assigned_call(resolved) in BASE_FACTORIES:
        return True
    holder, _, attribute = resolved.rpartition(".")
    return attribute == "Model" and project.assigned_call(holder) in FLASK_SQLALCHEMY


def is_sqlalchemy_model(qualname: str, project: Project) -> bool:
    return _mapped(qualname, project.class_facts(qualname), project)


def _mapped(qualname: str, facts: ClassFacts | None, project: Project) -> bool:
    """Mapped to a table: derives from a declarative base, is not abstract nor the base."""
    if facts is None:
        return False
    abstract = facts.members.get("__abstract__")
    if abstract is not None and abstract.value == "True":
        return False
    bases = {project.resolve(b) for b in facts.bases}
    if bases & BASE_CLASSES:
        return False  # `class Base(DeclarativeBase)`: the base itself
    lineage = bases | project.ancestors(project.resolve(qualname))
    if any(name.rpartition(".")[2] == "SQLModel" for name in lineage):
        return ("table", "True") in facts.keywords
    return any(_is_base_name(name, project) for name in lineage)


def sqlalchemy_models(project: Project) -> dict[str, MappedClass]:
    """Every mapped class of the project, with its relations (computed once)."""
    cached = project.__dict__.get("_sqla_models")
    if cached is not None:
        return cached
    found: dict[str, MappedClass] = {}
    for facts in project.modules.values():
        for name, klass in facts.classes.items():
            qualname = f"{facts.module}.{name}"
            if _mapped(qualname, klass, project):
                table = klass.members.get("__tablename__")
                text = table.value if table is not None else None
                found[qualname] = MappedClass(
                    qualname, name, facts.path, text.strip("'\"") if text else None
                )
    by_name = {model.name: q for q, model in found.items()}
    by_table = {model.table: q for q, model in found.items() if model.table}
    for qualname, model in found.items():
        klass = project.class_facts(qualname)
        for attribute, member in klass.members.items() if klass else ():
            target = _relation_target(member, by_name, by_table, project)
            if target and target in found:
                model.relations.append((attribute, target))
    project.__dict__["_sqla_models"] = found
    return found


def _relation_target(member, by_name, by_table, project: Project) -> str | None:
    callee = (member.callee or "").rpartition(".")[2]
    texts = [*member.args, member.annotation or ""]
    if callee == "relationship":
        for text in texts:
            quoted = _QUOTED.search(text)
            if quoted and quoted.group(1).rpartition(".")[2] in by_name:
                return by_name[quoted.group(1).rpartition(".")[2]]
            resolved = project.resolve(text) if text.replace(".", "").isidentifier() else ""
            if resolved.rpartition(".")[2] in by_name:
                return by_name[resolved.rpartition(".")[2]]
            for word in re.findall(r"[A-Za-z_]\w*", text):
                if word in by_name:
                    return by_name[word]
    for text in texts:
        foreign = _FOREIGN_KEY.search(text)
        if foreign and foreign.group(1) in by_table:
            return by_table[foreign.group(1)]
    return None
