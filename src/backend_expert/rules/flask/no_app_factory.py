"""A Flask app created at import time, with no application factory."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.flask_web import flask_apps
from backend_expert.index import Project
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import non_test_modules, project_finding

MIN_MODULES = 3
GLOBAL_APP = "from flask import Flask\n\napp = Flask(__name__)  # flagged\napp.config.from_object('config')\n"
FACTORY = (
    "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n"
    "    app.config.from_object(config or 'config')\n    return app\n"
)
OTHERS = {
    "views.py": "from app import app\n",
    "models.py": "X = 1\n",
    "config.py": "DEBUG = False\n",
}


class NoAppFactory(Rule):
    code = "BEX520"
    slug = "flask-no-app-factory"
    pack = "flask"
    severity = Severity.INFO
    category = "architecture"
    frameworks = ("flask",)
    summary = "The Flask app is a module-level global with no application factory"
    hint = "Build the app in `create_app(config)` and register blueprints and extensions there."
    explanation = Explanation(
        what=(
            "Reports `app = Flask(__name__)` at module level in a project of "
            f"{MIN_MODULES} modules or more where no function builds a Flask app."
        ),
        why=(
            "A global app is configured once, at import time: tests cannot create an app with "
            "a test database or other settings, two configurations cannot live in one process, "
            "and every module that needs the app imports it, which is how Flask projects get "
            "their circular imports."
        ),
        use_instead=(
            "```python\ndef create_app(config: str | None = None) -> Flask:\n"
            '    app = Flask(__name__)\n    app.config.from_object(config or "config.Production")\n'
            "    db.init_app(app)\n    app.register_blueprint(orders_bp)\n    return app\n```\n\n"
            "Extensions are created unbound (`db = SQLAlchemy()`) and bound in the factory; code "
            "that needs the app uses `current_app`."
        ),
        references=("https://flask.palletsprojects.com/en/stable/patterns/appfactories/",),
    )
    fire = (
        Example(
            title="a global app in a multi-module project", files={"app.py": GLOBAL_APP, **OTHERS}
        ),
    )
    clean = (
        Example(title="near miss: an application factory", files={"app.py": FACTORY, **OTHERS}),
        Example(title="near miss: a one-file app", code=GLOBAL_APP.replace("  # flagged", "")),
        Example(
            title="near miss: the global app is built by a factory",
            files={
                "factory.py": FACTORY,
                "wsgi.py": "from factory import create_app\n\napp = create_app()\n",
                **{k: v for k, v in OTHERS.items() if k != "views.py"},
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses("flask") or len(non_test_modules(project)) < MIN_MODULES:
            return
        apps = [app for app in flask_apps(project) if not _in_tests(project, app.file)]
        if any(app.factory for app in apps):
            return  # a factory builds the app
        for app in sorted(apps, key=lambda a: (a.file, a.line))[:1]:
            name = app.name.rpartition(".")[2]
            yield project_finding(
                self,
                app.file,
                app.line,
                f"`{name} = Flask(...)` is created at import time and no function builds the "
                "app: tests and other configurations cannot get their own app",
            )


def _in_tests(project: Project, path: str) -> bool:
    facts = project.by_path.get(path)
    return facts is None or facts.is_test
