"""Imports against the layering: lower layers importing routes, services importing request
objects, and import cycles between app packages."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.architecture import (
    app_package_depth,
    import_graph,
    package_of,
    strongly_connected,
)
from backend_expert.findings import Confidence, Finding, Severity
from backend_expert.index import ModuleFacts, Project
from backend_expert.layers import (
    configured_layers,
    defines_its_layer,
    glob_layer,
    layer_by_name,
    module_layers,
    route_modules,
)
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding

# Layer -> layers it must not import.
FORBIDDEN = {
    "models": {"routes"},
    "schemas": {"routes"},
    "repositories": {"routes"},
    "services": {"routes"},
}
# Web request/response objects a service, repository or model should never see.
WEB_OBJECTS = frozenset(
    {
        "fastapi.Request", "fastapi.Response", "fastapi.requests.Request",
        "fastapi.responses.Response", "fastapi.responses.JSONResponse",
        "starlette.requests.Request", "starlette.responses.Response",
        "starlette.responses.JSONResponse", "flask.request", "flask.Response",
        "flask.make_response", "flask.jsonify", "django.http.HttpRequest",
        "django.http.HttpResponse", "django.http.JsonResponse", "django.http.request.HttpRequest",
        "rest_framework.request.Request", "rest_framework.response.Response",
    }
)  # fmt: skip
SERVICE_LAYERS = ("services", "repositories")
# Auth and middleware code deals with requests by nature.
WEB_PLACES = ("auth", "security", "middleware", "permissions", "deps", "dependencies")
ROUTER = "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/items')\nasync def items():\n    return []\n"


def _listed(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _line(facts: ModuleFacts, name: str) -> int:
    arch = getattr(facts, "arch", None)
    return arch.line_of_import(name) if arch else 1


class LayerViolation(Rule):
    code = "BEX013"
    slug = "layer-violation"
    pack = "project"
    severity = Severity.WARNING
    category = "architecture"
    summary = "An import against the layering: models, schemas or services reaching up into routes"
    hint = "Make the dependency point downwards: routes -> services -> repositories -> models."
    explanation = Explanation(
        what=(
            "Reports imports that go against the layering routes -> services -> repositories "
            "-> models (schemas beside them): a model, schema, repository or service module "
            "importing a module that defines routes or views; a service or repository module "
            "(auth and middleware code aside) importing the web framework's request or "
            "response objects (`Request`, `HttpRequest`, `flask.request`, DRF `Response`); "
            "and module-level import cycles that span two "
            "app packages. Layers come from module and folder names and from content "
            "(`[tool.bex.layers]` maps globs to layers where the names mislead)."
        ),
        why=(
            "When the lower layers know about HTTP, business rules cannot be reused from a "
            "CLI, a task queue or a test without faking a request, and every change to a route "
            "ripples downwards. Cycles between packages make import order matter: one new "
            "import and the app fails at start-up with a half-initialised module."
        ),
        use_instead=(
            "Pass plain values (ids, validated schemas, the current user) from the route into "
            "the service, return domain objects or raise domain exceptions, and let the route "
            "turn them into responses. Move what two packages share into a third one both import."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/bigger-applications/",
            "https://docs.djangoproject.com/en/stable/misc/design-philosophies/#loose-coupling",
        ),
    )
    fire = (
        Example(
            title="a model importing a router, a service taking the request",
            files={
                "app/__init__.py": "",
                "app/routers/__init__.py": "",
                "app/routers/items.py": ROUTER,
                "app/models.py": "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\nfrom app.routers.items import router  # flagged\n\n\nclass Base(DeclarativeBase):\n    pass\n\n\nclass Item(Base):\n    __tablename__ = 'items'\n    id: Mapped[int] = mapped_column(primary_key=True)\n",
                "app/services/__init__.py": "",
                "app/services/items.py": "from fastapi import Request  # flagged\n\n\ndef create(request: Request):\n    return request.url\n",
            },
        ),
        Example(
            title="an import cycle between two packages",
            files={
                "orders/__init__.py": "",
                "orders/logic.py": "from billing.logic import charge\n\n\ndef order():\n    return charge\n",
                "billing/__init__.py": "",
                "billing/logic.py": "from orders.logic import order  # flagged\n\n\ndef charge():\n    return order\n",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: routes import services and models",
            files={
                "app/__init__.py": "",
                "app/models.py": "X = 1\n",
                "app/services/__init__.py": "",
                "app/services/items.py": "from app.models import X\n\n\ndef create():\n    return X\n",
                "app/routers/__init__.py": "",
                "app/routers/items.py": "from fastapi import APIRouter, Request\n\nfrom app.services.items import create\n\nrouter = APIRouter()\n\n\n@router.post('/items')\nasync def add(request: Request):\n    return create()\n",
            },
        ),
        Example(
            title="near miss: a schema.py that builds the OpenAPI document from the routers",
            files={
                "app/__init__.py": "",
                "app/routers/__init__.py": "",
                "app/routers/items.py": ROUTER,
                "app/schema.py": "from fastapi import FastAPI\n\nfrom app.routers.items import router\n\n\ndef openapi():\n    app = FastAPI()\n    app.include_router(router)\n    return app.openapi()\n",
            },
        ),
        Example(
            title="near miss: one side of the cycle imports only for type checking",
            files={
                "orders/__init__.py": "",
                "orders/logic.py": "from billing.logic import charge\n\n\ndef order():\n    return charge\n",
                "billing/__init__.py": "",
                "billing/logic.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING is True:\n    from orders.logic import order\n\n\ndef charge():\n    return 1\n",
            },
        ),
        Example(
            title="near miss: a cycle broken by a function-level import",
            files={
                "orders/__init__.py": "",
                "orders/logic.py": "from billing.logic import charge\n\n\ndef order():\n    return charge\n",
                "billing/__init__.py": "",
                "billing/logic.py": "def charge():\n    from orders.logic import order\n\n    return order\n",
            },
        ),
        Example(
            title="near miss: [tool.bex.layers] says the module is a route helper",
            files={
                "pyproject.toml": '[tool.bex.layers]\n"app/services/web.py" = "routes"\n',
                "app/__init__.py": "",
                "app/services/__init__.py": "",
                "app/services/web.py": "from fastapi import Request\n\n\ndef client_ip(request: Request):\n    return request.client\n",
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        overrides = configured_layers(project)
        layers = module_layers(project, overrides)
        graph = import_graph(project)
        # Imported modules count as routes when they define routes, or when configured so.
        routes = route_modules(project) | {
            name
            for name, facts in project.modules.items()
            if glob_layer(facts.path, overrides) == "routes"
        }
        for name, facts in sorted(project.modules.items()):
            layer = layers.get(name, "other")
            if facts.is_test or layer not in FORBIDDEN:
                continue
            if defines_its_layer(facts, layer, project):
                yield from self._upward(facts, layer, graph.get(name, ()), layers, routes)
            if (
                layer in SERVICE_LAYERS
                and layer_by_name(facts.path) == layer
                and not any(place in facts.path for place in WEB_PLACES)
            ):
                yield from self._web_objects(facts, layer)
        yield from self._cycles(project)

    def _upward(self, facts: ModuleFacts, layer: str, targets, layers, routes) -> Iterator[Finding]:
        for target in sorted(targets):
            if layers.get(target) in FORBIDDEN[layer] and target in routes:
                yield project_finding(
                    self,
                    facts.path,
                    _line(facts, target),
                    f"This {layer} module imports `{target}`, a {layers[target]} module: the "
                    "dependency points up the layers",
                )
                return  # once per module

    def _web_objects(self, facts: ModuleFacts, layer: str) -> Iterator[Finding]:
        for qualified in sorted(facts.imports.values()):
            if qualified in WEB_OBJECTS:
                yield project_finding(
                    self,
                    facts.path,
                    _line(facts, qualified),
                    f"This {layer} module imports `{qualified}`: keep HTTP objects in the routes "
                    "and pass plain values down",
                )
                return

    def _cycles(self, project: Project) -> Iterator[Finding]:
        depth = app_package_depth(project)
        graph = {
            name: targets
            for name, targets in import_graph(project, module_level=True).items()
            if not project.modules[name].is_test
            and not project.modules[name].path.endswith("__init__.py")
        }
        graph = {name: {t for t in targets if t in graph} for name, targets in graph.items()}
        for component in strongly_connected(graph):
            packages = {package_of(m, depth) for m in component}
            if len(packages) < 2:
                continue
            first = component[0]
            members = set(component)
            following = sorted(t for t in graph.get(first, ()) if t in members)
            facts = project.modules[first]
            shown = ", ".join(f"`{m}`" for m in component[:5])
            more = f" and {len(component) - 5} more" if len(component) > 5 else ""
            yield project_finding(
                self,
                facts.path,
                _line(facts, following[0]) if following else 1,
                f"Import cycle between the packages {_listed(sorted(packages))}: "
                f"{shown}{more} import each other at module level",
                confidence=Confidence.MEDIUM,
            )
