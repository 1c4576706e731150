"""The stack parameters and the decision matrix, shared by `bex advise` and `bex new`.

Six parameters describe a Python backend (framework, async_support, database, orm,
api_style, testing_framework). A scenario picks recommended values with reasons;
`detect_parameters` reads what an existing project already uses, and `departures`
says where it differs from the recommendation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.architecture import Architecture
    from backend_expert.index import Project

PARAMETERS: dict[str, tuple[str, ...]] = {
    "framework": ("fastapi", "flask", "django", "none"),
    "async_support": ("true", "false"),
    "database": ("postgresql", "mysql", "mongodb", "redis", "sqlite", "none"),
    "orm": ("sqlalchemy", "django-orm", "tortoise", "mongoengine", "none"),
    "api_style": ("rest", "graphql", "grpc", "websocket"),
    "testing_framework": ("pytest", "unittest", "both"),
}
DEFAULTS = {"async_support": "true", "api_style": "rest", "testing_framework": "pytest"}


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    choice: dict[str, str]
    reason: str


SCENARIOS = (
    Scenario(
        "high-performance-api", "High-performance API",
        {"framework": "fastapi", "async_support": "true", "database": "postgresql", "orm": "sqlalchemy"},
        "I/O-bound traffic is served best by async end to end: FastAPI, SQLAlchemy 2.0's "
        "AsyncSession on asyncpg, PostgreSQL.",
    ),
    Scenario(
        "prototype", "Quick prototype",
        {"framework": "flask", "async_support": "false", "database": "sqlite", "orm": "sqlalchemy"},
        "Fewest moving parts: a Flask app factory, SQLite file, synchronous code; move to "
        "PostgreSQL before the first real user.",
    ),
    Scenario(
        "enterprise", "Enterprise application",
        {"framework": "django", "async_support": "false", "database": "postgresql", "orm": "django-orm"},
        "Auth, admin, migrations, forms and a large ecosystem come with Django; sync views "
        "on PostgreSQL are the well-trodden path.",
    ),
    Scenario(
        "microservice", "Microservice",
        {"framework": "fastapi", "async_support": "true", "database": "postgresql", "orm": "sqlalchemy"},
        "A small async service with a typed contract (OpenAPI from Pydantic models); MongoDB "
        "or Redis only when the data really is documents or cache-like.",
    ),
    Scenario(
        "data-pipeline", "Data pipeline",
        {"framework": "none", "async_support": "true", "database": "postgresql", "orm": "none"},
        "No web framework: asyncio workers and a driver (asyncpg) or SQLAlchemy Core for "
        "set-based work.",
    ),
    Scenario(
        "admin-portal", "Admin portal",
        {"framework": "django", "async_support": "false", "database": "postgresql", "orm": "django-orm"},
        "Django's admin gives list, search, filters and permissions for free.",
    ),
)  # fmt: skip
REASONS = {
    ("framework", "fastapi"): "typed request/response models, OpenAPI for free, async-first",
    ("framework", "flask"): "the smallest core; you pick every extension (use an app factory)",
    ("framework", "django"): "batteries included: ORM, migrations, admin, auth, forms",
    ("framework", "none"): "no HTTP surface: workers, pipelines, CLIs",
    ("async_support", "true"): "I/O-bound work (database, HTTP calls) overlaps on one event loop",
    ("async_support", "false"): "simpler code and tooling; scale with processes and threads",
    (
        "database",
        "postgresql",
    ): "transactions, constraints, JSONB and full-text search in one server",
    ("database", "mysql"): "fine when the organisation already runs it",
    ("database", "mongodb"): "only for document-shaped data without cross-document transactions",
    ("database", "redis"): "a cache or queue beside the primary database, rarely the primary",
    ("database", "sqlite"): "a file, zero set-up: prototypes and tests",
    ("database", "none"): "no persistence",
    (
        "orm",
        "sqlalchemy",
    ): "SQLAlchemy 2.0 (Mapped, select(), AsyncSession) with Alembic migrations",
    ("orm", "django-orm"): "what Django's admin, forms and migrations are built on",
    ("orm", "tortoise"): "an async ORM with a Django-like API, smaller ecosystem",
    ("orm", "mongoengine"): "documents mapped to classes for MongoDB",
    ("orm", "none"): "plain drivers or SQLAlchemy Core for set-based work",
    ("api_style", "rest"): "REST with OpenAPI is what clients and tools expect by default",
    ("api_style", "graphql"): "when clients need flexible reads across many types (Strawberry)",
    ("api_style", "grpc"): "service-to-service calls with a schema and streaming",
    ("api_style", "websocket"): "server push and live updates",
    ("testing_framework", "pytest"): "fixtures, parametrisation, pytest-asyncio and pytest-django",
    ("testing_framework", "unittest"): "only where the project already uses Django's TestCase",
    (
        "testing_framework",
        "both",
    ): "pytest running the existing unittest cases while new ones use pytest",
}


def scenario(key: str) -> Scenario | None:
    return next((s for s in SCENARIOS if s.key == key), None)


def recommend(
    choice: dict[str, str | None], scenario_key: str | None = None
) -> dict[str, tuple[str, str]]:
    """Parameter -> (value, reason): given values are kept, the rest come from the scenario."""
    base = scenario(scenario_key) if scenario_key else None
    if base is None and choice.get("framework"):
        base = next((s for s in SCENARIOS if s.choice["framework"] == choice["framework"]), None)
    base = base or SCENARIOS[0]
    result: dict[str, tuple[str, str]] = {}
    for name in PARAMETERS:
        given = choice.get(name)
        if given:
            value, why = given, "your choice"
        else:
            value = base.choice.get(name, DEFAULTS.get(name, "none"))
            why = base.title if name in base.choice else "the default"
        result[name] = (value, f"{REASONS.get((name, value), '')} ({why})".lstrip())
    framework, orm = result["framework"][0], result["orm"][0]
    if framework == "django" and orm not in ("django-orm", "none") and not choice.get("orm"):
        result["orm"] = ("django-orm", "Django's ORM is what its admin, forms and migrations use")
    if framework == "django" and not choice.get("async_support"):
        result["async_support"] = ("false", "Django's ORM is synchronous at heart; keep views sync")
    return result


def detect_parameters(project: Project, arch: Architecture | None = None) -> dict[str, str]:
    """What an existing project uses, in the parameters' terms ("unknown" when unsure)."""
    deps = set(project.dependencies) | _nested_dependencies(project)
    uses = project.uses
    framework = next(
        (f for f in ("django", "fastapi", "flask") if uses(f)),
        "starlette" if uses("starlette") else "none",
    )
    known = [r.is_async for r in arch.routes if r.is_async is not None] if arch else []
    if known:  # most handlers are `async def`
        async_support = "true" if sum(known) * 2 > len(known) else "false"
    else:
        async_support = (
            "true"
            if framework == "fastapi"
            else ("false" if framework in ("django", "flask") else "unknown")
        )
    database = next(
        (
            name
            for name, markers in (
                (
                    "postgresql",
                    ("psycopg", "psycopg2", "psycopg2-binary", "asyncpg", "psycopg-binary"),
                ),
                ("mysql", ("mysqlclient", "pymysql", "aiomysql", "asyncmy")),
                ("mongodb", ("pymongo", "motor", "mongoengine", "beanie")),
                ("sqlite", ("aiosqlite",)),
                ("redis", ("redis",)),
            )
            if deps & set(markers)
        ),
        "unknown",
    )
    if (arch is not None and arch.data.orm == "django") or (
        uses("django") and not uses("sqlalchemy")
    ):
        orm = "django-orm"
    elif uses("sqlalchemy", "sqlmodel", "flask_sqlalchemy"):
        orm = "sqlalchemy"
    elif deps & {"tortoise-orm"}:
        orm = "tortoise"
    else:
        orm = "none"
    api_style = (
        "graphql"
        if deps & {"strawberry-graphql", "graphene", "graphene-django", "ariadne"}
        else "rest"
    )
    testing = (
        "pytest"
        if "pytest" in deps
        or any(m.startswith("pytest") for f in project.modules.values() for m in f.imported_modules)
        else ("unittest" if any(f.is_test for f in project.modules.values()) else "none")
    )
    return {
        "framework": framework,
        "async_support": async_support,
        "database": database,
        "orm": orm,
        "api_style": api_style,
        "testing_framework": testing,
    }


def _nested_dependencies(project: Project) -> set[str]:
    """Distributions declared in packaging files below the root (`backend/pyproject.toml`)."""
    from pathlib import Path

    from backend_expert.discover import read_dependencies
    from backend_expert.project_files import find_named

    if project.files is not None:
        return set()
    found: set[str] = set()
    names = {"pyproject.toml", "requirements.txt", "setup.cfg"}
    for directory in {rel.rpartition("/")[0] for rel in find_named(project, names, depth=2)}:
        if directory:
            found |= set(read_dependencies(Path(project.root) / directory)[0])
    return found


def departures(detected: dict[str, str], recommended: dict[str, tuple[str, str]]) -> list[str]:
    """Where the project differs from the recommendation, one sentence each."""
    notes = []
    for name, (value, reason) in recommended.items():
        have = detected.get(name, "unknown")
        if have in ("unknown", value) or (name == "testing_framework" and have == "both"):
            continue
        notes.append(f"{name}: the project uses {have}, the recommendation is {value} ({reason})")
    return notes
