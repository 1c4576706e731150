"""`os.environ`/`os.getenv` read all over the code instead of once, in the settings module."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.rules.python._places import in_cli_function, is_application_code

if TYPE_CHECKING:
    from backend_expert.index import ModuleFacts, Project

CONFIG_WORDS = ("settings", "config", "conf", "configuration", "env", "environment", "constants")
SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
    }
)
# Variables of the process or platform rather than of the application's configuration.
PROCESS_VARIABLES = frozenset(
    {"PATH", "HOME", "USER", "PWD", "TERM", "TZ", "LANG", "PYTHONPATH", "HOSTNAME", "CI",
     "DJANGO_SETTINGS_MODULE", "SERVER_SOFTWARE", "VIRTUAL_ENV", "TMPDIR", "SHELL",
     "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "CUDA_VISIBLE_DEVICES"}
)  # fmt: skip
LOCATOR_SUFFIXES = (
    "_SETTINGS",
    "_CONFIG",
    "_SETTINGS_MODULE",
    "_CONFIG_FILE",
    "_CONFIG_PATH",
    "_ENV_FILE",
)
PROCESS_PREFIXES = (
    "PYTEST", "GITHUB_", "KUBERNETES_", "GUNICORN", "UVICORN", "WERKZEUG", "FLASK_",
    # Metadata the hosting platform sets (not configuration the application defines).
    "RENDER", "AWS_LAMBDA", "HEROKU", "DYNO", "FLY_", "VERCEL", "RAILWAY_", "K_SERVICE",
    "ECS_CONTAINER", "GAE_", "WEBSITE_",
)  # fmt: skip


def _config_named(module: str) -> bool:
    return any(word in part.lower() for part in module.split(".") for word in CONFIG_WORDS)


def _is_settings_module(facts: ModuleFacts, project: Project) -> bool:
    if facts.is_test:
        return False
    if _config_named(facts.module) or (facts.django_web and facts.django_web.settings):
        return True
    return any(
        project.is_subclass(f"{facts.module}.{name}", SETTINGS_BASES) for name in facts.classes
    )


def settings_modules(project: Project) -> frozenset[str]:
    """The project's configuration modules (computed once per project)."""
    found = project.__dict__.get("_settings_modules")
    if found is None:
        found = frozenset(
            facts.module
            for facts in project.modules.values()
            if _is_settings_module(facts, project)
        )
        project.__dict__["_settings_modules"] = found
    return found


def _variable(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class EnvConfigScattered(Rule):
    code = "BEX805"
    slug = "env-config-scattered"
    pack = "python"
    severity = Severity.INFO
    category = "maintainability"
    skip_tests = True
    frameworks = ("flask", "fastapi", "starlette", "django", "drf")
    requires_text = ("environ", "getenv")  # `os.environ`, `os.getenv`
    summary = "Environment variable read outside the settings module"
    hint = "Declare the setting once in the settings module (pydantic-settings `BaseSettings`, Django settings, a Flask config class) and import it."
    explanation = Explanation(
        what=(
            "Flags `os.environ[...]`, `os.environ.get(...)` and `os.getenv(...)` in application "
            "modules of a web project that has a settings module (a module named like "
            "settings/config, a pydantic-settings `BaseSettings` class, or Django settings): "
            "medium confidence (in a monorepo, a settings module in the same top-level folder). "
            "In a FastAPI or Starlette project without any settings module "
            "the read is reported with low confidence. One finding per module, on the first read, "
            "naming the other variables the module reads. The settings modules themselves, "
            "scripts, CLI code, `wsgi.py`/`asgi.py`, tests and process variables (`PATH`, "
            "`HOME`, `DJANGO_SETTINGS_MODULE`...) are left alone."
        ),
        why=(
            "Configuration read ad hoc across the code is impossible to review in one place: "
            "nobody can list what the service needs to start, defaults differ between call "
            "sites, types are parsed by hand (`'false'` is truthy), and a missing variable "
            "fails at the first request that happens to read it instead of at startup. Tests "
            "must patch the environment instead of passing settings."
        ),
        use_instead=(
            "A pydantic-settings class (`class Settings(BaseSettings): database_url: str`) "
            "with an `@lru_cache def get_settings()` (a FastAPI dependency), Django's settings "
            "module, or Flask's `app.config.from_prefixed_env()`/a config class; the rest of "
            "the code imports the setting."
        ),
        references=(
            "https://docs.pydantic.dev/latest/concepts/pydantic_settings/",
            "https://fastapi.tiangolo.com/advanced/settings/",
            "https://flask.palletsprojects.com/en/stable/config/",
        ),
    )
    fire = (
        Example(
            title="a service reading its configuration in place",
            files={
                "svc/__init__.py": "",
                "svc/config.py": """\
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    database_url: str
""",
                "svc/mailer.py": """\
import os

from fastapi import FastAPI

SMTP_HOST = os.environ["SMTP_HOST"]  # flagged


def sender() -> str:
    return os.getenv("MAIL_FROM", "noreply@example.com")
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: the settings module, wsgi.py and a process variable",
            files={
                "svc/__init__.py": "import flask\n",
                "svc/settings.py": "import os\n\nDATABASE_URL = os.environ['DATABASE_URL']\n",
                "svc/wsgi.py": "import os\n\nos.environ.setdefault('APP_ENV', 'prod')\nPORT = os.getenv('PORT')\n",
                "svc/paths.py": "import os\n\nHOME = os.environ.get('HOME')\n",
            },
        ),
    )

    clean = (
        *clean,
        Example(
            title="near miss: a monorepo whose training code sits beside the web app",
            files={
                "backend/app/__init__.py": "import fastapi\n",
                "backend/app/config.py": "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    db_url: str\n",
                "model/train/__init__.py": "",
                "model/train/trainer.py": "import os\n\nWORLD = int(os.getenv('WORLD_SIZE_OVERRIDE', '1'))\n",
            },
        ),
    )

    @visit_call("getenv", "get")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        name = ctx.qualname(func)
        if name == "os.getenv" or (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and ctx.qualname(func.value) == "os.environ"
        ):
            self._check(node, _variable(node.args[0]) if node.args else None, ctx)

    @visit(ast.Subscript)
    def check_subscript(self, node: ast.Subscript, ctx: FileContext) -> None:
        if isinstance(node.ctx, ast.Load) and ctx.qualname(node.value) == "os.environ":
            self._check(node, _variable(node.slice), ctx)

    def _check(self, node: ast.AST, variable: str | None, ctx: FileContext) -> None:
        if variable and (
            variable in PROCESS_VARIABLES
            or variable.startswith(PROCESS_PREFIXES)
            or variable.endswith(LOCATOR_SUFFIXES)  # where the configuration itself lives
        ):
            return
        if not self._applies(ctx) or in_cli_function(ctx):
            return
        top = ctx.path.partition("/")[0] if "/" in ctx.path else ""
        modules = [  # in a monorepo, only the settings of the same top-level folder count
            m
            for m in settings_modules(ctx.project)
            if not top
            or "/" not in (path := ctx.project.modules[m].path)
            or path.partition("/")[0] == top
        ]
        if modules:
            confidence = Confidence.MEDIUM
            where = "the settings module"
        elif settings_modules(ctx.project):
            return  # the project's settings belong to another part of the monorepo
        elif ctx.project.uses("fastapi", "starlette"):
            confidence = Confidence.LOW
            where = "a settings class (pydantic-settings)"
        else:
            return
        if getattr(ctx, "_bex805_reported", False):
            return  # one finding per module: the first read, naming the others
        ctx._bex805_reported = True  # type: ignore[attr-defined]
        names = self._all_variables(ctx)
        others = [n for n in names if n != variable]
        shown = f"`{variable}`" if variable else "An environment variable"
        more = ""
        if others:
            listed = ", ".join(f"`{n}`" for n in others[:4])
            more = f" (this module also reads {listed}{', ...' if len(others) > 4 else ''})"
        ctx.report(
            node,
            f"{shown} is read here instead of in {where}{more}: configuration scattered "
            "across modules has no single list, default or type; declare it once and import it",
            confidence=confidence,
        )

    @staticmethod
    def _all_variables(ctx: FileContext) -> list[str]:
        """The environment variables this module reads by name, in order."""
        found: list[str] = []
        tree = ctx.source.tree
        for node in ast.walk(tree) if tree is not None else ():
            key = None
            if (
                isinstance(node, ast.Call)
                and node.args
                and (
                    ast.unparse(node.func)
                    in ("os.getenv", "getenv", "os.environ.get", "environ.get")
                )
            ):
                key = _variable(node.args[0])
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in (
                "os.environ",
                "environ",
            ):
                key = _variable(node.slice)
            if key and key not in found and key not in PROCESS_VARIABLES:
                found.append(key)
        return found

    @staticmethod
    def _applies(ctx: FileContext) -> bool:
        cached = getattr(ctx, "_bex805_app", None)
        if cached is None:
            cached = (
                is_application_code(ctx)
                and not _config_named(ctx.module)
                and ctx.module not in settings_modules(ctx.project)
            )
            ctx._bex805_app = cached  # type: ignore[attr-defined]
        return cached
