"""Which classes are Pydantic models, and which expressions hold one (a class or an instance).

The project model already knows every class and its bases across files; this module
answers the Pydantic questions on top of it. Models built on the `pydantic.v1` compatibility
layer are not v2 models: their `.dict()` is the right spelling.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.index import Project

if TYPE_CHECKING:
    from backend_expert.check import FileContext

MODEL_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.RootModel",
        "pydantic.root_model.RootModel",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.generics.GenericModel",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
SETTINGS_BASES = frozenset(
    {
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)
V1_PREFIXES = ("pydantic.v1",)
# Class-level calls that return an instance of the model.
CONSTRUCTORS = frozenset(
    {
        "model_validate",
        "model_validate_json",
        "model_validate_strings",
        "model_construct",
        "parse_obj",
        "parse_raw",
        "parse_file",
        "from_orm",
        "construct",
        "validate",
    }
)
# Instance methods that return a new instance.
COPIES = frozenset({"model_copy", "copy"})


def is_model(project: Project, qualname: str | None) -> bool:
    """True for a Pydantic v2-style model class (BaseModel, BaseSettings, RootModel subclass)."""
    if not qualname:
        return False
    cache = project.__dict__.setdefault("_bex_pydantic", {})
    if qualname not in cache:
        resolved = project.resolve(qualname)
        ancestors = project.ancestors(resolved)
        cache[qualname] = (
            project.class_facts(resolved) is not None
            and bool(ancestors & MODEL_BASES)
            and not any(a.startswith(V1_PREFIXES) for a in ancestors)
        )
    return cache[qualname]


def is_settings(project: Project, qualname: str | None) -> bool:
    return (
        bool(qualname)
        and is_model(project, qualname)
        and bool(project.ancestors(project.resolve(qualname)) & SETTINGS_BASES)
    )


def model_classes(project: Project) -> list[str]:
    """Every Pydantic model class of the project, qualified."""
    return [
        f"{module}.{name}"
        for module, facts in project.modules.items()
        for name in facts.classes
        if is_model(project, f"{module}.{name}")
    ]


def model_of(node: ast.AST, ctx: FileContext, _depth: int = 0) -> tuple[str, bool] | None:
    """(model class, is_instance) when `node` holds a Pydantic model class or instance.

    Instances come from constructors, `Model.model_validate(...)`/`parse_obj(...)`, copies,
    parameters and attributes annotated with a model, and project functions whose return
    annotation is a model. Anything else is unknown (None): `.dict()` on it is not judged.
    """
    if _depth > 5:
        return None
    project = ctx.project
    if isinstance(node, ast.Await):
        node = node.value
    if isinstance(node, (ast.Name, ast.Attribute)):
        qualified = ctx.qualname(node)
        if qualified and is_model(project, qualified) and project.class_facts(qualified):
            return project.resolve(qualified), False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = model_of(node.func.value, ctx, _depth + 1)
        if owner is not None:
            klass, instance = owner
            if (not instance and node.func.attr in CONSTRUCTORS) or (
                instance and node.func.attr in COPIES
            ):
                return klass, True
            return None
    if isinstance(node, ast.Name) and (function := ctx.enclosing_function()) is not None:
        values = ctx.scope(function).values(node.id)
        if values:
            found = {model_of(v, ctx, _depth + 1) for v in values}
            if len(found) == 1:
                return found.pop()
            return None
    kind = ctx.type_of(node)
    if kind and is_model(project, kind):
        return project.resolve(kind), True
    return None


def defines(project: Project, klass: str, method: str) -> bool:
    """True when the project class (or a project base of it) defines `method` itself."""
    for name in (klass, *project.ancestors(klass)):
        facts = project.class_facts(name)
        if facts is not None and method in facts.methods:
            return True
    return False


def class_kind(node: ast.ClassDef, ctx: FileContext) -> str | None:
    """ "settings" or "model" for a class statement whose bases make it a Pydantic model."""
    project = ctx.project
    kind = None
    for base in node.bases:
        qualified = ctx.qualname(base)
        if not qualified or qualified.startswith(V1_PREFIXES):
            continue
        resolved = project.resolve(qualified)
        if resolved in SETTINGS_BASES or is_settings(project, resolved):
            return "settings"
        if resolved in MODEL_BASES or is_model(project, resolved):
            kind = "model"
    return kind
