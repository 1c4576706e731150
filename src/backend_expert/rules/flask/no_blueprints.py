"""A Flask application with all its routes on the app object, no blueprint."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.routes import route_inventory
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
        if not project.uses("flask"):
            return
        for facts in project.modules.values():
            if any(callee.endswith("Blueprint") for callee in facts.calls.values()):
                return
            arch = getattr(facts, "arch", None)
            if arch and arch.includes:
                return
        routes = [r for r in route_inventory(project) if r.framework == "flask"]
        if len(routes) < MIN_ROUTES:
            return
        for facts in sorted(project.modules.values(), key=lambda f: f.path):
            arch = getattr(facts, "arch", None)
            app = next((a for a in arch.apps if "Flask" in a.callee), None) if arch else None
            if app is not None and not facts.is_test:
                yield project_finding(
                    self,
                    facts.path,
                    app.line,
                    f"All {len(routes)} routes are registered on the app object: group them by "
                    "feature in Blueprints",
                )
                return
