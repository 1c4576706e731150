"""Flask facts: applications, blueprints and routes, gathered while indexing.

Project rules (route inventory, app factory, blueprints, unauthenticated routes) need to
know every route of a Flask project without re-reading files: which object it is
registered on, its URL rule, its methods, and which decorators guard it. Per-file facts
are collected in `collect_flask_facts` (called from `index.collect_facts`) and merged by
`flask_routes(project)`, `flask_apps(project)` and `flask_blueprints(project)`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from backend_expert.flask_facts import (
    APP_CLASSES,
    BLUEPRINT_CLASSES,
    HTTP_METHODS,
    VIEW_BASES,
    FlaskApp,
    FlaskBlueprint,
    FlaskFacts,
    Route,
    _RawRoute,
    _route_decorator,
    _View,
    collect_flask_facts,
    looks_like_auth,
)

if TYPE_CHECKING:
    from backend_expert.check import FileContext
    from backend_expert.index import Project

__all__ = [
    "FlaskApp",
    "FlaskBlueprint",
    "Route",
    "collect_flask_facts",
    "flask_apps",
    "flask_blueprints",
    "flask_routes",
    "is_flask_handler",
    "is_flask_object",
    "is_flask_route",
    "looks_like_auth",
]

# --- the project view --------------------------------------------------------------------------


def _all(project: Project) -> Iterator[FlaskFacts]:
    for module in project.modules.values():
        facts = getattr(module, "flask", None)
        if facts:
            yield facts


def flask_apps(project: Project) -> list[FlaskApp]:
    """Every `Flask(...)` object of the project, at module level or built in a factory."""
    return [app for facts in _all(project) for app in facts.apps]


def flask_blueprints(project: Project) -> list[FlaskBlueprint]:
    """Every `Blueprint(...)`, with the `before_request` hooks registered on it that look like auth."""
    guards: dict[str, list[str]] = {}
    for facts in _all(project):
        for owner, function in facts.guards:
            if looks_like_auth(function):
                guards.setdefault(project.resolve(owner), []).append(function)
    return [
        FlaskBlueprint(bp.name, bp.file, bp.line, bp.url_prefix, tuple(guards.get(bp.name, ())))
        for facts in _all(project)
        for bp in facts.blueprints
    ]


def flask_routes(project: Project) -> list[Route]:
    """Every Flask route of the project, with its methods, URL rule, owner and auth decorators.

    `@x.route`, `add_url_rule` and Flask-RESTful `add_resource` are kept even when `x` cannot be
    traced to a Flask object (owner_kind "unknown"); `@x.get/post/...` only when `x` is a known
    Flask app or blueprint (FastAPI routers share those names).
    """
    cache = project.__dict__.get("_flask_routes")
    if cache is not None:
        return cache
    kinds: dict[str, str] = {}
    views: dict[str, _View] = {}
    for facts in _all(project):
        kinds.update({app.name: "app" for app in facts.apps})
        kinds.update({bp.name: "blueprint" for bp in facts.blueprints})
        kinds.update({api: "api" for api in facts.apis})
        views.update({view.name: view for view in facts.views})
    routes = []
    for facts in _all(project):
        for raw in facts.routes:
            owner = project.resolve(raw.owner) if raw.owner else None
            kind = kinds.get(owner or "", "unknown")
            if kind == "unknown" and raw.via == "verb":
                continue
            routes.extend(_expand(raw, owner, kind, views, project))
    routes.sort(key=lambda r: (r.file, r.line, r.rule or ""))
    project.__dict__["_flask_routes"] = routes
    return routes


def _view(name: str | None, views: dict[str, _View], project: Project) -> list[_View]:
    """The view class and its project ancestors (nearest first), as far as they are known."""
    if not name:
        return []
    resolved = project.resolve(name)
    chain = [resolved, *sorted(project.ancestors(resolved))]
    return [views[c] for c in chain if c in views]


def _expand(
    raw: _RawRoute, owner: str | None, kind: str, views: dict[str, _View], project: Project
) -> Iterator[Route]:
    decorators = raw.decorators
    methods = raw.methods
    chain = _view(raw.view, views, project)
    if chain:
        class_decorators = tuple(d for view in chain for d in view.decorators)
        found = next((view.methods for view in chain if view.methods), ())
        if not methods:
            methods = tuple(sorted(m for m, _ in found if m != "DISPATCH_REQUEST")) or (
                ("GET",) if raw.via == "add_url_rule" else ()
            )
        method_decorators = tuple(d for _, names in found for d in names)
        decorators = (*decorators, *class_decorators, *method_decorators)
    elif raw.via == "add_url_rule" and not methods:
        methods = ("GET",)
    auth = tuple(dict.fromkeys(d for d in decorators if looks_like_auth(d)))
    yield Route(
        raw.file, raw.line, raw.handler, methods, raw.rule, owner, kind,
        decorators, auth, raw.view is not None,
    )  # fmt: skip


# --- for rules: what the checked file holds -----------------------------------------------------

FLASK_OBJECTS = APP_CLASSES | BLUEPRINT_CLASSES


def is_flask_object(node: ast.AST, ctx: FileContext) -> bool:
    """True when `node` holds a Flask app or blueprint (or an instance of a subclass)."""
    kind = ctx.type_of(node)
    return kind is not None and (
        kind in FLASK_OBJECTS or ctx.project.is_subclass(kind, FLASK_OBJECTS)
    )


def is_flask_handler(function: ast.AST, ctx: FileContext) -> bool:
    """A route function, or an HTTP method (`get`, `post`...) of a class-based view
    (`MethodView`, Flask-RESTful/RESTX `Resource`, or a project subclass of them)."""
    if is_flask_route(function, ctx):
        return True
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    klass = ctx.enclosing_class()
    if klass is None or function.name not in HTTP_METHODS or ctx.enclosing_function() is not None:
        return False
    return ctx.project.is_subclass(f"{ctx.module}.{klass.name}", VIEW_BASES)


def is_flask_route(function: ast.AST, ctx: FileContext) -> bool:
    """True when `function` is decorated with `@app.route(...)`/`@bp.post(...)` on a Flask
    object, or with `.route(...)` on any object in a Flask project (a blueprint from a helper)."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for decorator in function.decorator_list:
        found = _route_decorator(decorator)
        if found is None:
            continue
        receiver = decorator.func.value  # type: ignore[attr-defined]
        if is_flask_object(receiver, ctx) or (
            found[0] == "route" and "flask" in ctx.project.frameworks
        ):
            return True
    return False
