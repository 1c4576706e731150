"""A FastAPI application whose routes, schemas and models all sit in one module."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.layers import SCHEMA_BASES, _is_model
from backend_expert.routes import route_inventory
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding

MIN_ROUTES = 8


def _app_module(routes: int, extra: str = "") -> str:
    body = "".join(
        f"\n\n@app.get('/items/{i}')\nasync def item_{i}() -> Item:\n    return Item(name='x')\n"
        for i in range(routes)
    )
    return (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\n\n"
        "app = FastAPI()  # flagged\n\n\nclass Item(BaseModel):\n    name: str\n" + extra + body
    )


class SingleFileApp(Rule):
    code = "BEX120"
    slug = "fastapi-single-file-app"
    pack = "fastapi"
    severity = Severity.INFO
    category = "architecture"
    frameworks = ("fastapi",)
    summary = "A FastAPI application kept in one module: routes, schemas and models together"
    hint = "Split by domain: routers/ with APIRouter, schemas/, services/, models/."
    explanation = Explanation(
        what=(
            f"Reports a module that creates the `FastAPI()` app, registers {MIN_ROUTES} routes "
            "or more on it directly and also defines the Pydantic schemas or ORM models, in a "
            "project that uses no `APIRouter`."
        ),
        why=(
            "One module holding transport, validation and persistence grows without a seam: "
            "every change touches the same file, routes cannot be tested or mounted apart, "
            "and business rules end up inside route functions. It is fine for a prototype, "
            "not for a service that keeps growing."
        ),
        use_instead=(
            '`app/routers/items.py` with `router = APIRouter(prefix="/items", tags=["items"])`, '
            "`app/schemas/`, `app/models/`, `app/services/`; `main.py` only builds the app and "
            "calls `app.include_router(items.router)`."
        ),
        references=("https://fastapi.tiangolo.com/tutorial/bigger-applications/",),
    )
    fire = (Example(title="eight routes and the schemas in main.py", code=_app_module(8)),)
    clean = (
        Example(
            title="near miss: a small app",
            code=_app_module(3).replace("  # flagged", ""),
        ),
        Example(
            title="near miss: the routes already use a router",
            files={
                "main.py": _app_module(8).replace("  # flagged", "")
                + "\n\nfrom items import router\n\napp.include_router(router)\n",
                "items.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n",
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses("fastapi"):
            return
        for facts in project.modules.values():
            arch = getattr(facts, "arch", None)
            if arch and (arch.routers or arch.includes):
                return
        per_module: dict[str, int] = {}
        for route in route_inventory(project):
            if route.framework == "fastapi":
                per_module[route.file] = per_module.get(route.file, 0) + 1
        for path, count in sorted(per_module.items()):
            facts = project.by_path.get(path)
            arch = getattr(facts, "arch", None) if facts else None
            if count < MIN_ROUTES or not arch:
                continue
            app = next((a for a in arch.apps if not a.scope and "FastAPI" in a.callee), None)
            classes = [f"{facts.module}.{name}" for name in facts.classes]
            defines = any(
                project.is_subclass(c, SCHEMA_BASES) or _is_model(c, project) for c in classes
            )
            if app is None or not defines:
                continue
            yield project_finding(
                self,
                path,
                app.line,
                f"The app, its {count} routes and its schemas/models all live in this module: "
                "split it into routers (APIRouter), schemas, services and models",
            )
