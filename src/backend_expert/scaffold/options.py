"""The scaffold's parameters, their defaults, and the combinations bex refuses.

The parameters are the seeds' (framework, async support, database, ORM, API style, testing
framework). Defaults follow the decision matrix: FastAPI for an API, async with it, PostgreSQL
for anything that is meant to live; Flask gets SQLite because the matrix places it at the
quick-prototype end; Django keeps its own ORM and synchronous views. The matrix itself
lives in `advise.py`, shared with `bex advise`.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import asdict, dataclass

FRAMEWORKS = ("fastapi", "django", "flask")
DATABASES = ("sqlite", "postgresql", "mysql")
ORMS = ("sqlalchemy", "django-orm", "none")
API_STYLES = ("rest", "graphql")
TESTING = ("pytest",)

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Choices:
    """Everything the templates need to know, as copier answers."""

    name: str
    framework: str = "fastapi"
    use_async: bool = True
    database: str = "postgresql"
    orm: str = "sqlalchemy"
    api_style: str = "rest"
    testing: str = "pytest"

    @property
    def package(self) -> str:
        return self.name.replace("-", "_")

    def summary(self) -> str:
        mode = "async" if self.use_async else "sync"
        return f"{self.framework}, {mode}, {self.database}, orm {self.orm}, {self.api_style}, {self.testing}"

    def answers(self) -> dict[str, object]:
        data = asdict(self)
        data["package"] = self.package
        return data


def defaults_for(framework: str) -> dict[str, object]:
    """The decision matrix's row for `framework` (the one `bex advise` recommends)."""
    from backend_expert.advise import recommend

    advice = recommend({"framework": framework})
    return {
        "use_async": advice["async_support"][0] == "true",
        "database": advice["database"][0],
        "orm": advice["orm"][0],
    }


def problems(choices: Choices) -> list[str]:
    """Why these choices cannot be generated; empty when they can."""
    found = []
    if not NAME.match(choices.name) or keyword.iskeyword(choices.package):
        found.append(
            f"{choices.name!r} is not a usable project name: use lowercase letters, digits, "
            "'-' or '_', starting with a letter (it becomes the Python package "
            f"{choices.package!r}), and not a Python keyword"
        )
    for value, allowed, label in (
        (choices.framework, FRAMEWORKS, "framework"),
        (choices.database, DATABASES, "database"),
        (choices.orm, ORMS, "orm"),
        (choices.api_style, API_STYLES, "api style"),
        (choices.testing, TESTING, "testing framework"),
    ):
        if value not in allowed:
            found.append(f"unknown {label} {value!r}; choose one of: {', '.join(allowed)}")
    if found:
        return found
    framework, orm = choices.framework, choices.orm
    if framework == "django" and orm != "django-orm":
        found.append(
            f"django with orm {orm!r}: Django's models, admin, migrations and DRF serializers "
            "are built on the Django ORM; use --orm django-orm"
        )
    if framework != "django" and orm == "django-orm":
        found.append(f"{framework} with the Django ORM: use --orm sqlalchemy (or none)")
    if framework == "django" and choices.use_async:
        found.append(
            "django with --async: the scaffold's DRF views are synchronous (DRF has no async "
            "views); use --no-async, and add async views where they pay off"
        )
    if framework == "flask" and choices.use_async:
        found.append(
            "flask with --async: Flask runs async views in a thread per request, which buys "
            "nothing for a service; choose fastapi for an async service or --no-async"
        )
    if choices.api_style == "graphql":
        found.append(
            "--api-style graphql is not scaffolded yet: generate the REST service and mount a "
            "Strawberry schema on the same services (strawberry.fastapi.GraphQLRouter)"
        )
    if orm == "none":
        found.append(
            f"--orm none is not scaffolded yet: the {framework} template is built around its "
            "database layer (models, repositories, migrations); generate it and drop that layer"
        )
    return found
