"""What a FastAPI route's response model reads from the object it returns (not a rule).

A route that returns ORM objects with `response_model=UserOut` makes Pydantic read every
field of `UserOut` from them (`from_attributes`): a field named like a lazy relationship is
a relationship read, done by the serialiser after the handler returned.
"""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.index import Project
from backend_expert.infer import unwrap_annotation
from backend_expert.web import Route

PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "sqlmodel.SQLModel"})
COLLECTIONS = frozenset({"list", "List", "Sequence", "set", "Set", "tuple", "Tuple", "Iterable"})


def response_schema(route: Route, ctx: FileContext) -> str | None:
    """The project Pydantic class the route serialises its result with, or None."""
    keywords = {k.arg: k.value for k in route.decorator.keywords if k.arg}
    if keywords.keys() & {"response_model_include", "response_model_exclude"}:
        return None  # the fields read are not all of the class's
    annotation = keywords.get("response_model") or route.function.returns
    node = unwrap_annotation(annotation)
    if isinstance(node, ast.Subscript):
        head = (
            node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        )
        if head not in COLLECTIONS:
            return None
        inner = node.slice
        node = unwrap_annotation(inner.elts[0] if isinstance(inner, ast.Tuple) else inner)
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    qualified = ctx.qualname(node)
    project = ctx.project
    if qualified is None or project.class_facts(qualified) is None:
        return None
    resolved = project.resolve(qualified)
    if not project.ancestors(resolved) & PYDANTIC_BASES:
        return None
    if project.sqlalchemy_model(resolved) is not None:
        return None  # a SQLModel table as response model: relationships are not serialised
    return resolved


def schema_fields(project: Project, qualname: str) -> set[str]:
    """Field names of a Pydantic class, inherited ones included (project classes only)."""
    found: set[str] = set()
    seen: set[str] = set()
    stack = [qualname]
    while stack:
        current = project.resolve(stack.pop())
        facts = project.class_facts(current)
        if facts is None or current in seen:
            continue
        seen.add(current)
        for name, member in facts.members.items():
            annotation = member.annotation or ""
            if annotation and "ClassVar" not in annotation and not name.startswith("_"):
                found.add(name)
        stack.extend(facts.bases)
    return found
