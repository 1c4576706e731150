"""An HTTP service with no health or readiness route."""

from __future__ import annotations

import re
from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.routes import route_inventory
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import application_anchor, project_finding

MIN_ROUTES = 3
HEALTH = re.compile(
    r"health|healthz|livez|readyz|ready|readiness|liveness|alive|ping|heartbeat|status|probe|_up\b|/up\b",
    re.IGNORECASE,
)
HEALTH_PACKAGES = frozenset(
    {
        "django-health-check", "django-healthchecks", "django-watchman", "fastapi-health",
        "flask-healthz", "healthcheck", "py-healthcheck", "starlette-healthcheck",
        "django-alive", "fastapi-healthchecks",
    }
)  # fmt: skip
ROUTES = (
    "from fastapi import FastAPI\n\napp = FastAPI()  # flagged\n\n\n"
    "@app.get('/items')\nasync def items():\n    return []\n\n\n"
    "@app.post('/items')\nasync def add():\n    return {}\n\n\n"
    "@app.get('/items/{item_id}')\nasync def item(item_id: int):\n    return {}\n"
)


class NoHealthCheck(Rule):
    code = "BEX014"
    slug = "project-no-health-check"
    pack = "project"
    severity = Severity.INFO
    category = "operations"
    frameworks = ("fastapi", "flask", "django", "starlette", "drf")
    summary = "An HTTP service with no health or readiness route"
    hint = "Add a cheap GET /health (liveness) and a /ready that checks the database."
    explanation = Explanation(
        what=(
            f"Reports, once, an application with {MIN_ROUTES} routes or more of which none "
            "looks like a health, readiness or liveness probe (`/health`, `/healthz`, `/ready`, "
            "`/ping`, `/status`...), when no health-check package (django-health-check, "
            "fastapi-health...) is installed."
        ),
        why=(
            "Load balancers, Kubernetes and uptime monitors need an endpoint that answers "
            "quickly and says whether this instance can serve. Without one they probe a real "
            "page (slow, with side effects, behind auth) or nothing, so a broken instance keeps "
            "receiving traffic and deploys cannot wait for readiness."
        ),
        use_instead=(
            '`@app.get("/health")` returning `{"status": "ok"}` without touching '
            "dependencies (liveness), and `/ready` running `SELECT 1` on the database "
            "(readiness); in Django, django-health-check or a tiny view in the root URLconf."
        ),
        references=(
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
        ),
    )
    fire = (Example(title="three routes, no probe", code=ROUTES),)
    clean = (
        Example(
            title="near miss: a /healthz route",
            code=ROUTES.replace("  # flagged", "")
            + "\n\n@app.get('/healthz')\nasync def healthz():\n    return {'ok': True}\n",
        ),
        Example(
            title="near miss: a health-check package",
            code=ROUTES.replace("  # flagged", ""),
            dependencies=("fastapi-health>=0.4",),
        ),
        Example(
            title="near miss: a single route",
            code="from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def root():\n    return {}\n",
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        routes = route_inventory(project)
        if len(routes) < MIN_ROUTES or HEALTH_PACKAGES & set(project.dependencies):
            return
        for route in routes:
            if HEALTH.search(route.path) or HEALTH.search(route.handler.rpartition(".")[2]):
                return
        for facts in project.modules.values():
            if HEALTH.search(facts.module.rpartition(".")[2]) and not facts.is_test:
                return  # a health module wired in a way bex does not read (ASGI mount...)
        anchor = application_anchor(project) or (routes[0].file, routes[0].line)
        yield project_finding(
            self,
            anchor[0],
            anchor[1],
            f"None of the {len(routes)} routes is a health or readiness probe: add a cheap "
            "`/health` route for load balancers and orchestrators",
        )
