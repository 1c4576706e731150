"""A Flask application with all its routes on the app object, no blueprint."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.flask_web import flask_apps, flask_blueprints, flask_routes
from backend_expert.index import Project
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding

MIN_ROUTES = 10


def _routes(owner: str, count: int) -> str:
    return "".join(
        f"\n\n@{owner}.route('/page/{i}')\ndef page_{i}():\n    return 'ok'\n" for i in range(count)
    )


APP = "from flask import Flask\n\napp = Flask(__name__)  # flagged\n"


class NoBlueprints(Rule):
    code = "BEX521"
    slug = "flask-no-blueprints"
    pack = "flask"
    severity = Severity.INFO
    category = "architecture"
    frameworks = ("flask",)
    summary = "Every route is registered on the Flask app object; no blueprint groups them"
    hint = "Group routes by feature in Blueprints and register them in the app factory."
    explanation = Explanation(
        what=(
            f"Reports, once, a Flask project with {MIN_ROUTES} routes or more, all registered "
            "with `@app.route` on the application object, and no `Blueprint`."
        ),
        why=(
            "Without blueprints every view module imports the global app (circular imports "
            "follow), URL prefixes, error handlers and `before_request` checks such as auth "
            "cannot be applied per feature, and the app cannot be assembled differently in tests."
        ),
        use_instead=(
            '`orders = Blueprint("orders", __name__, url_prefix="/orders")` in '
            "`orders/views.py`, `@orders.route(...)` on its views, and "
            "`app.register_blueprint(orders)` in `create_app()`."
        ),
        references=("https://flask.palletsprojects.com/en/stable/blueprints/",),
    )
    fire = (Example(title="ten routes on the app", code=APP + _routes("app", 10)),)
    clean = (
        Example(
            title="near miss: routes on a blueprint",
            code="from flask import Blueprint, Flask\n\napp = Flask(__name__)\nbp = Blueprint('pages', __name__)\n"
            + _routes("bp", 10)
            + "\n\napp.register_blueprint(bp)\n",
        ),
        Example(
            title="near miss: a small app", code=APP.replace("  # flagged", "") + _routes("app", 4)
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses("flask") or flask_blueprints(project):
            return
        routes = [r for r in flask_routes(project) if not _in_tests(project, r.file)]
        if len(routes) < MIN_ROUTES or any(r.owner_kind != "app" for r in routes):
            return  # routes on an API object or an owner bex cannot trace: not judged
        apps = sorted(
            (a for a in flask_apps(project) if not _in_tests(project, a.file)),
            key=lambda a: (a.file, a.line),
        )
        for app in apps[:1]:
            yield project_finding(
                self,
                app.file,
                app.line,
                f"All {len(routes)} routes are registered on the app object: group them by "
                "feature in Blueprints",
            )


def _in_tests(project: Project, path: str) -> bool:
    facts = project.by_path.get(path)
    return facts is None or facts.is_test
