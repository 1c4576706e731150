"""An application with no tests at all."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.project_files import has_tests
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import (
    application_anchor,
    non_test_modules,
    project_finding,
)

MIN_MODULES = 5  # below this, a script or a sample: tests are a matter of taste
WEB = ("fastapi", "flask", "django", "starlette", "drf")


MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def root():\n    return {}\n"


def _app(extra: dict[str, str]) -> dict[str, str]:
    files = {
        "app/__init__.py": "",
        "app/main.py": MAIN.replace("FastAPI()", "FastAPI()  # flagged"),
        "app/models.py": "X = 1\n",
        "app/services.py": "Y = 2\n",
        "app/schemas.py": "Z = 3\n",
    }
    files.update(extra)
    return files


def _serves_http(project: Project) -> bool:
    """Routes bex can see, or a Django project with settings (its URLs may be dynamic)."""
    from backend_expert.routes import route_inventory

    if route_inventory(project):
        return True
    if project.uses("django"):
        from backend_expert.django_web import web_model

        return bool(web_model(project).deployments)
    return False


class NoTests(Rule):
    code = "BEX012"
    slug = "project-no-tests"
    pack = "project"
    severity = Severity.WARNING
    category = "testing"
    frameworks = WEB
    summary = "A web application with no tests at all"
    hint = "Add pytest with one test per route through the framework's test client."
    explanation = Explanation(
        what=(
            f"Reports, once, a Django, DRF, FastAPI or Flask application (routes, or Django "
            f"settings) of {MIN_MODULES} modules or more with no test anywhere: no `tests/` or `test/` folder, no "
            "`test_*.py`, `*_test.py`, Django `tests.py` or `conftest.py`, whether or not the "
            "run excluded them."
        ),
        why=(
            "Without tests every change is checked by hand or in production; upgrades of "
            "Django, FastAPI, Pydantic or SQLAlchemy (which this project will need) cannot be "
            "made with confidence, and refactoring towards a cleaner layout is too risky to "
            "start."
        ),
        use_instead=(
            "pytest, a `tests/` folder, a fixture that builds the app against a test database, "
            "and one test per route through the test client (`fastapi.testclient.TestClient`, "
            "`app.test_client()`, Django's `Client`), starting with the routes that write."
        ),
        references=(
            "https://docs.pytest.org/en/stable/getting-started.html",
            "https://fastapi.tiangolo.com/tutorial/testing/",
            "https://docs.djangoproject.com/en/stable/topics/testing/overview/",
        ),
    )
    fire = (Example(title="a FastAPI application without a test", files=_app({})),)
    clean = (
        Example(
            title="near miss: tests in a tests/ folder",
            files={
                **_app({"tests/test_main.py": "def test_ok():\n    assert True\n"}),
                "app/main.py": MAIN,
            },
        ),
        Example(
            title="near miss: a Django tests.py",
            files={
                **_app({"shop/tests.py": "from django.test import TestCase\n"}),
                "app/main.py": MAIN,
            },
        ),
        Example(
            title="near miss: a two-file sample",
            files={
                "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
                "util.py": "X = 1\n",
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses(*WEB):
            return
        if len(non_test_modules(project)) < MIN_MODULES or not _serves_http(project):
            return
        if has_tests(project):
            return
        anchor = application_anchor(project)
        if anchor is None:
            return
        yield project_finding(
            self,
            anchor[0],
            anchor[1],
            "No tests anywhere in this application: no tests/ folder, test_*.py, *_test.py, "
            "tests.py or conftest.py",
        )
