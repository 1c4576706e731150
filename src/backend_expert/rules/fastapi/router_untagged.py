"""An `APIRouter()` with neither a prefix nor tags, in an app made of several routers."""

from __future__ import annotations

import re
from collections.abc import Iterator

from backend_expert.fastapi_routes import route_table
from backend_expert.findings import Confidence, Finding, Severity
from backend_expert.index import Project
from backend_expert.rules.base import Example, Explanation, Rule

ROUTERS = """\
from fastapi import APIRouter

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/")
def list_users() -> list:
    return []
"""


# Operational endpoints (probes, version, metrics) are not an API area that needs a tag.
OPS_WORDS = re.compile(r"health|ready|live|ping|version|metrics|status|robots|favicon", re.I)


def _ops(path: str | None) -> bool:
    last = (path or "").rstrip("/").rpartition("/")[2]
    return bool(last) and bool(OPS_WORDS.search(last))


class RouterUntagged(Rule):
    code = "BEX109"
    slug = "fastapi-router-untagged"
    pack = "fastapi"
    severity = Severity.INFO
    category = "maintainability"
    frameworks = ("fastapi",)
    summary = "An `APIRouter` without `prefix` or `tags` in an app with several routers"
    hint = 'Give the router its own `prefix="/orders"` and `tags=["orders"]` (here or in `include_router`).'
    explanation = Explanation(
        what=(
            "Flags an `APIRouter()` that declares neither `prefix` nor `tags`, is not given "
            "them where it is included (`include_router(router, prefix=..., tags=...)`), and "
            "has routes without their own `tags`, when the project has two or more routers."
        ),
        why=(
            "With several routers, the prefix and the tags are what make each one a module: "
            "the prefix keeps its paths from colliding with another router's (FastAPI keeps "
            "the first route that matches, silently), and the tags group its operations in "
            "the OpenAPI document, the `/docs` page and generated clients. Untagged operations "
            "land in one 'default' bucket and paths are spelled out in full in every decorator."
        ),
        use_instead='`router = APIRouter(prefix="/orders", tags=["orders"])`.',
        references=("https://fastapi.tiangolo.com/tutorial/bigger-applications/",),
    )
    fire = (
        Example(
            title="a second router with nothing to tell its operations apart",
            files={
                "api/__init__.py": "",
                "api/users.py": ROUTERS,
                "api/orders.py": """\
from fastapi import APIRouter

router = APIRouter()  # flagged


@router.get("/orders")
def list_orders() -> list:
    return []
""",
                "api/main.py": """\
from fastapi import FastAPI

from api import orders, users

app = FastAPI()
app.include_router(users.router)
app.include_router(orders.router)
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: prefix and tags given at inclusion, and a single-router app",
            files={
                "api/__init__.py": "",
                "api/users.py": ROUTERS,
                "api/orders.py": """\
from fastapi import APIRouter

router = APIRouter()


@router.get("/")
def list_orders() -> list:
    return []
""",
                "api/main.py": """\
from fastapi import FastAPI

from api import orders, users

app = FastAPI()
app.include_router(users.router)
app.include_router(orders.router, prefix="/orders", tags=["orders"])
""",
            },
        ),
        Example(
            title="near miss: one router only",
            code="""\
from fastapi import APIRouter, FastAPI

router = APIRouter()


@router.get("/items")
def items() -> list:
    return []


app = FastAPI()
app.include_router(router)
""",
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        table = route_table(project)
        routers = {
            name: found
            for name, found in table.objects.items()
            if table.kind(name) == "router" and not project.by_path[found[0]].is_test
        }
        if len(routers) < 2:
            return
        routes: dict[str, list] = {}
        for _, _, fact in table.route_facts:
            routes.setdefault(project.resolve(fact.owner), []).append(fact)
        for name, (path, obj) in sorted(routers.items()):
            own = routes.get(name, [])
            if obj.prefix or obj.tags or not own or all(r.tags or _ops(r.path) for r in own):
                continue
            includes = table.includes_of(name)
            if not includes or any(i.prefix or i.tags for i in includes):
                continue  # mounted where bex cannot see, or given a prefix/tags there
            if any(
                i.receiver and project.resolve(i.receiver) == name
                for v in table.includes.values()
                for i in v
            ):
                continue  # an aggregating router: its children carry the prefixes
            yield Finding(
                code=self.code,
                slug=self.slug,
                pack=self.pack,
                severity=self.severity,
                category=self.category,
                path=path,
                line=obj.line,
                column=1,
                end_line=obj.line,
                end_column=1,
                message=(
                    f"`{obj.name}` has no `prefix` or `tags` (here or where it is included), "
                    f"among {len(routers)} routers: its {len(own)} operation(s) fall into the "
                    "untagged group of the API docs; give it a prefix and tags"
                ),
                confidence=Confidence.HIGH,
                docs=self.docs_url,
            )
