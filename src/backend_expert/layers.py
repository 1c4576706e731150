"""Which layer a module belongs to: routes, services, repositories, models, schemas, settings,
tasks, tests or other.

The seeds ask for a layered backend (routers -> services -> repositories -> models, with
schemas at the edge). A module's layer is read, in order, from the `[tool.bex.layers]`
globs, its file name, its folders (nearest first), and finally its content (routes it
registers, the classes it defines). Names win over content: a `views.py` that also
declares a form is still a view module.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.index import ModuleFacts, Project

LAYERS = (
    "routes",
    "services",
    "repositories",
    "models",
    "schemas",
    "settings",
    "tasks",
    "tests",
    "other",
)
# File stems and folder names -> layer. `api` alone is too loose (netbox keeps serializers
# and helpers under `api/`), so it only counts together with route content.
NAMES = {
    "routes": {"views", "view", "routes", "route", "routers", "router", "endpoints", "endpoint"}
    | {"urls", "blueprints", "controllers", "viewsets"},
    "services": {"services", "service", "use_cases", "usecases", "interactors", "logic"},
    "repositories": {"repositories", "repository", "repos", "repo", "crud", "dao"},
    "models": {"models", "entities", "tables", "orm"},
    "schemas": {"schemas", "schema", "serializers", "serializer", "dto", "dtos", "forms"},
    "settings": {"settings", "config", "conf", "configuration", "core_settings"},
    "other": {"admin", "apps", "manage", "wsgi", "asgi", "__main__", "conftest_helpers"},
    "tasks": {"tasks", "task", "jobs", "workers", "worker", "celery", "consumers"},
}
SUFFIXES = {
    "_views": "routes",
    "_routes": "routes",
    "_router": "routes",
    "_service": "services",
    "_services": "services",
    "_repository": "repositories",
    "_repo": "repositories",
    "_crud": "repositories",
    "_models": "models",
    "_schemas": "schemas",
    "_serializers": "schemas",
    "_tasks": "tasks",
    "_settings": "settings",
}
MODEL_BASES = frozenset(
    {
        "django.db.models.Model",
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlmodel.SQLModel",
    }
)
SCHEMA_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "rest_framework.serializers.Serializer",
        "rest_framework.serializers.ModelSerializer",
        "marshmallow.Schema",
    }
)


def _by_name(word: str) -> str | None:
    for layer, names in NAMES.items():
        if word in names:
            return layer
    for suffix, layer in SUFFIXES.items():
        if word.endswith(suffix):
            return layer
    return None


def _parts(path: str) -> list[str]:
    """The parts of a relative POSIX path (what `PurePosixPath.parts` gives, without its cost:
    every module's layer is asked for)."""
    return [part for part in path.split("/") if part and part != "."]


def _stem(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def layer_by_name(path: str) -> str | None:
    """The layer a path's file name or folders name, or None."""
    parts = _parts(path)
    if not parts:
        return None
    stem = _stem(parts[-1])
    if stem == "__init__" and len(parts) > 1:
        stem = parts[-2]
        parts = parts[:-1]
    found = _by_name(stem)
    if found:
        return found
    for folder in reversed(parts[:-1]):
        if folder in ("migrations", "alembic", "versions"):
            return "other"
        found = _by_name(folder)
        if found:
            return found
    return None


def route_modules(project: Project) -> frozenset[str]:
    """Modules that define routes bex can confirm: route handlers (FastAPI, Flask, Django and
    DRF views wired in URLconfs, Flask view classes registered as routes) and Django URLconfs
    (computed once)."""
    cached = project.__dict__.get("_route_modules")
    if cached is not None:
        return cached
    from backend_expert.routes import route_inventory

    found = {route.handler.rpartition(".")[0] for route in route_inventory(project)}
    found |= {
        project.by_path[r.file].module
        for r in route_inventory(project)
        if r.file in project.by_path
    }
    for name, facts in project.modules.items():
        arch = getattr(facts, "arch", None)
        if arch and arch.urls:
            found.add(name)
    project.__dict__["_route_modules"] = frozenset(found)
    return project.__dict__["_route_modules"]


def layer_by_content(facts: ModuleFacts, project: Project) -> str | None:
    if facts.module in route_modules(project):
        return "routes"
    classes = [f"{facts.module}.{name}" for name in facts.classes]
    if project.uses("django", "drf"):
        from backend_expert.django_web import view_class_kind

        if any(view_class_kind(name, project) for name in classes):
            return "routes"
    models = sum(1 for name in classes if _is_model(name, project))
    schemas = sum(1 for name in classes if _is_schema(name, project))
    if models and models >= schemas:
        return "models"
    if schemas:
        return "schemas"
    return None


FORM_BASES = frozenset(
    {"django.forms.Form", "django.forms.ModelForm", "flask_wtf.FlaskForm", "wtforms.Form"}
)


def _is_schema(qualname: str, project: Project) -> bool:
    return project.is_subclass(qualname, SCHEMA_BASES | FORM_BASES)


def defines_its_layer(facts: ModuleFacts, layer: str, project: Project) -> bool:
    """A models/schemas module that really defines models/schemas (a `schema.py` that builds
    the OpenAPI document, or an ML `models/` package, does not)."""
    classes = [f"{facts.module}.{name}" for name in facts.classes]
    if layer == "models":
        return any(_is_model(name, project) for name in classes)
    if layer == "schemas":
        return any(_is_schema(name, project) for name in classes)
    return True


def _is_model(qualname: str, project: Project) -> bool:
    if project.is_subclass(qualname, MODEL_BASES):
        return True
    from backend_expert.sqla_model import is_sqlalchemy_model

    return is_sqlalchemy_model(qualname, project)


def glob_layer(path: str, overrides: dict[str, str]) -> str | None:
    for pattern, layer in overrides.items():
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*"):
            return layer
    return None


def layer_of(facts: ModuleFacts, project: Project, overrides: dict[str, str] | None = None) -> str:
    """The layer of one module (see the module docstring for the order of evidence)."""
    if overrides:
        found = glob_layer(facts.path, overrides)
        if found:
            return found
    if facts.is_test:
        return "tests"
    if facts.module in route_modules(project):
        return "routes"  # a module that defines routes is a routes module, whatever its name
    found = layer_by_name(facts.path)
    parts = _parts(facts.path)
    folders = set(parts[:-1])
    if folders & NAMES["routes"] and found not in ("models", "schemas", "settings"):
        found = "routes"  # `routes/users/crud.py` is a route module in a routes package
    if found == "routes" and parts and _stem(parts[-1]) == "urls":
        found = None  # `lib/urls.py` building links is no URLconf (that one has urlpatterns)
    if found:
        return found
    return layer_by_content(facts, project) or "other"


def module_layers(project: Project, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Module name -> layer, for every module of the project (computed once per project)."""
    key = tuple(sorted((overrides or {}).items()))
    cache = project.__dict__.setdefault("_layers", {})
    if key not in cache:
        cache[key] = {
            name: layer_of(facts, project, overrides) for name, facts in project.modules.items()
        }
    return cache[key]


def configured_layers(project: Project) -> dict[str, str]:
    """`[tool.bex.layers]` (glob -> layer) from the project's pyproject.toml or bex.toml."""
    from backend_expert.project_files import read_file, read_toml

    for name in ("bex.toml", ".bex.toml", "pyproject.toml"):
        data = read_toml(read_file(project, name))
        table = data.get("tool", {}).get("bex", {}) if "tool" in data else data
        layers = table.get("layers") if isinstance(table, dict) else None
        if isinstance(layers, dict):
            return {
                str(glob): str(layer)
                for glob, layer in layers.items()
                if isinstance(layer, str) and layer in LAYERS
            }
    return {}
