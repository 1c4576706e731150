"""Flask's debug mode switched on in code: the Werkzeug debugger runs arbitrary Python."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.flask_web import is_flask_object
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call

DEV_WORDS = ("dev", "debug", "local", "test")


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _in_main_block(ctx: FileContext) -> bool:
    """Inside `if __name__ == "__main__":` (the module was run as a script)."""
    for node in ctx.ancestors:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
    return False


def _dev_named(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in DEV_WORDS)


class FlaskDebug(Rule):
    code = "BEX501"
    slug = "flask-debug"
    pack = "flask"
    severity = Severity.ERROR
    category = "security"
    frameworks = ("flask",)
    skip_tests = True
    cwe = 94
    summary = "Flask debug mode enabled in code (the Werkzeug debugger executes arbitrary code)"
    hint = "Read debug mode from the environment (`FLASK_DEBUG`, `flask run --debug`) and leave it off in production."
    explanation = Explanation(
        what=(
            "Flags `app.run(debug=True)`, `app.debug = True`, `app.config['DEBUG'] = True`, "
            "`app.config.update(DEBUG=True)` on Flask applications, and `DEBUG = True` in a "
            "Flask configuration class or module that is not named for development or testing. "
            "A call under `if __name__ == '__main__':` is reported with medium confidence, since "
            "it only runs when the file is started by hand. A value read from the environment "
            "is never reported."
        ),
        why=(
            "In debug mode Flask serves the interactive Werkzeug debugger on every error page. "
            "Anyone who can trigger an exception and get past (or guess) the PIN gets a Python "
            "console inside the server process: full remote code execution. Debug mode also "
            "leaks source code and configuration in tracebacks. A flag hard-coded to True in "
            "the code is one deployment away from production."
        ),
        use_instead=(
            "Enable debugging only from outside the code: `flask --app app run --debug` or "
            "`FLASK_DEBUG=1` on a developer machine, or `DEBUG = os.environ.get('FLASK_DEBUG') == '1'` "
            "in configuration; keep production configuration at `DEBUG = False`."
        ),
        references=(
            "https://flask.palletsprojects.com/en/stable/debugging/",
            "https://werkzeug.palletsprojects.com/en/stable/debug/",
        ),
    )
    fire = (
        Example(
            title="debug switched on at run time and on the object",
            code="""\
from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = True  # flagged
app.debug = True  # flagged


def serve() -> None:
    app.run(host="0.0.0.0", debug=True)  # flagged
""",
            fixed="""\
import os

from flask import Flask

app = Flask(__name__)
app.config["DEBUG"] = os.environ.get("FLASK_DEBUG") == "1"


def serve() -> None:
    app.run(host="0.0.0.0")
""",
        ),
        Example(
            title="a production configuration object",
            files={
                "shop/__init__.py": "from flask import Flask\n\napp = Flask(__name__)\n",
                "shop/config.py": """\
class ProductionConfig:
    DEBUG = True  # flagged
    SQLALCHEMY_DATABASE_URI = "postgresql://db/shop"
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: debug read from the environment, and a development config class",
            files={
                "shop/__init__.py": """\
import os

from flask import Flask

app = Flask(__name__)
app.debug = os.environ.get("FLASK_DEBUG") == "1"
app.run(debug=bool(os.environ.get("DEBUG")))
""",
                "shop/config.py": """\
class DevelopmentConfig:
    DEBUG = True


class TestingConfig:
    DEBUG = True
    TESTING = True
""",
            },
        ),
        Example(
            title="near miss: `run(debug=True)` on something that is not a Flask app",
            code="""\
import flask


class Job:
    def run(self, debug: bool = False) -> None:
        ...


Job().run(debug=True)
""",
        ),
    )

    @visit_call("run", "update")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        keyword = {"run": "debug", "update": "DEBUG"}.get(func.attr)
        if keyword is None or not any(
            kw.arg == keyword and _is_true(kw.value) for kw in node.keywords
        ):
            return
        if func.attr == "run" and is_flask_object(func.value, ctx):
            self._report(ctx, node, f"`{ast.unparse(func.value)}.run(debug=True)`")
        elif func.attr == "update" and self._config_of_app(func.value, ctx):
            self._report(ctx, node, "`config.update(DEBUG=True)`")

    @visit(ast.Assign)
    def check_assign(self, node: ast.Assign, ctx: FileContext) -> None:
        if not _is_true(node.value):
            return
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "debug":
                if is_flask_object(target.value, ctx):
                    self._report(ctx, node, f"`{ast.unparse(target)} = True`")
            elif isinstance(target, ast.Subscript) and self._config_of_app(target.value, ctx):
                key = target.slice
                if isinstance(key, ast.Constant) and key.value == "DEBUG":
                    self._report(ctx, node, "`config['DEBUG'] = True`")
            elif isinstance(target, ast.Name) and target.id == "DEBUG":
                self._config_constant(node, ctx)

    def _config_constant(self, node: ast.Assign, ctx: FileContext) -> None:
        """`DEBUG = True` in a configuration class or module of a Flask project (not Django's)."""
        if "django" in ctx.project.frameworks or ctx.enclosing_function() is not None:
            return
        klass = ctx.enclosing_class()
        if klass is not None:
            if "config" not in klass.name.lower() or _dev_named(klass.name):
                return
            if not klass.name.lower().startswith(
                ("prod", "live", "release")
            ) and klass.name.lower() not in ("config", "baseconfig", "defaultconfig"):
                return
        else:
            stem = ctx.path.rpartition("/")[2].removesuffix(".py").lower()
            if ("config" not in stem and "settings" not in stem) or _dev_named(ctx.path):
                return
        confidence = (
            Confidence.HIGH
            if klass and klass.name.lower().startswith("prod")
            else Confidence.MEDIUM
        )
        ctx.report(
            node,
            "`DEBUG = True` in Flask configuration turns on the Werkzeug debugger (remote code "
            "execution on error pages); default to False and enable it from the environment",
            confidence=confidence,
        )

    @staticmethod
    def _config_of_app(node: ast.AST, ctx: FileContext) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "config"
            and is_flask_object(node.value, ctx)
        )

    def _report(self, ctx: FileContext, node: ast.AST, what: str) -> None:
        confidence = Confidence.MEDIUM if _in_main_block(ctx) else Confidence.HIGH
        ctx.report(
            node,
            f"{what} turns on the Werkzeug debugger: anyone who reaches an error page can run "
            "Python on the server; take debug mode from the environment instead",
            confidence=confidence,
        )
