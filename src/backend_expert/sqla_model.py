"""SQLAlchemy mapped classes for the architecture model and the project rules.

An adapter over `sqlalchemy_models.py` (the SQLAlchemy project model): which concrete
classes are mapped to tables, in which file, and which other mapped classes their
relationships point to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend_expert.sqlalchemy_models import sqlalchemy_models

if TYPE_CHECKING:
    from backend_expert.index import Project


@dataclass
class MappedClass:
    qualname: str
    name: str
    path: str
    table: str | None
    relations: list[tuple[str, str]] = field(default_factory=list)  # (attribute, target qualname)


SQLALCHEMY = ("sqlalchemy", "flask_sqlalchemy", "sqlmodel")


def is_sqlalchemy_model(qualname: str, project: Project) -> bool:
    if not project.uses(*SQLALCHEMY):
        return False  # no mapped class can exist: skip building the model graph
    model = sqlalchemy_models(project).model(project.resolve(qualname))
    return model is not None and not model.abstract


def mapped_classes(project: Project) -> dict[str, MappedClass]:
    """Every concrete mapped class of the project, with its relations (computed once)."""
    cached = project.__dict__.get("_mapped_classes")
    if cached is not None:
        return cached
    found: dict[str, MappedClass] = {}
    for qualname, model in sqlalchemy_models(project).models.items():
        facts = project.modules.get(model.module)
        if model.abstract or facts is None:
            continue
        klass = facts.classes.get(model.name)
        table = klass.members.get("__tablename__") if klass else None
        text = table.value.strip("'\"") if table is not None and table.value else None
        found[qualname] = MappedClass(qualname, model.name, facts.path, text)
    for qualname, mapped in found.items():
        model = sqlalchemy_models(project).models[qualname]
        for name, relation in model.relationships.items():
            if relation.target in found and relation.owner == qualname:
                mapped.relations.append((name, relation.target))
    project.__dict__["_mapped_classes"] = found
    return found
