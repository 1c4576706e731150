"""A `BaseSettings` object built per request: the environment and `.env` are read every time."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import imported_as, indentation, insert_line
from backend_expert.fastapi_routes import dependency_functions
from backend_expert.fastapi_scope import is_cached, per_request_role, top_function
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.nodes import own_nodes
from backend_expert.pydantic_models import is_settings
from backend_expert.rules.base import Example, Explanation, Rule, visit

SETTINGS_WORDS = ("settings", "config")


def _returns_new_settings(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx) -> str | None:
    """The settings class when the function's body is essentially `return Settings(...)`."""
    for node in own_nodes(function):
        if (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Call)
            and (name := ctx.qualname(node.value.func))
            and is_settings(ctx.project, name)
        ):
            return name
    return None


class SettingsNotCached(Rule):
    code = "BEX105"
    slug = "fastapi-settings-not-cached"
    pack = "fastapi"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("fastapi",)
    skip_tests = True
    fix_applicability = Applicability.UNSAFE
    summary = "Settings (`BaseSettings`) built per request instead of once"
    hint = "Decorate the settings factory with `@lru_cache` (or build one module-level instance)."
    explanation = Explanation(
        what=(
            "Flags a `BaseSettings` subclass instantiated inside a route or a dependency, and "
            "a settings factory (`def get_settings(): return Settings()`) without "
            "`@lru_cache`/`@cache` that is used as a dependency or named like one."
        ),
        why=(
            "Building a settings object reads and validates every environment variable, and "
            "opens and parses the `.env` file when one is configured, on each call. As a "
            "dependency that is once per request, on the hot path, for values that do not "
            "change while the process runs. FastAPI's settings guide caches the factory so the "
            "work happens once and tests can still override it with `dependency_overrides`."
        ),
        use_instead=(
            "`@lru_cache` on `def get_settings() -> Settings: return Settings()` and "
            "`Depends(get_settings)` in routes, or one module-level `settings = Settings()`."
        ),
        fix_safety=(
            "Unsafe: with the cache the environment is read once; code (or tests) that changes "
            "environment variables at run time and expects new settings must call "
            "`get_settings.cache_clear()`."
        ),
        references=("https://fastapi.tiangolo.com/advanced/settings/#lru-cache-technical-details",),
    )
    fire = (
        Example(
            title="an uncached settings dependency, and settings built inside a route",
            code="""\
from fastapi import Depends, FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    app_name: str = "shop"
    admin_email: str = "admin@example.com"


app = FastAPI()


def get_settings() -> Settings:  # flagged
    return Settings()


@app.get("/info")
def info(settings: Settings = Depends(get_settings)) -> dict:
    return {"name": settings.app_name}


@app.get("/admin")
def admin() -> dict:
    settings = Settings()  # flagged
    return {"email": settings.admin_email}
""",
            fixed="""\
from functools import lru_cache

from fastapi import Depends, FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    app_name: str = "shop"
    admin_email: str = "admin@example.com"


app = FastAPI()


@lru_cache
def get_settings() -> Settings:
    return Settings()


@app.get("/info")
def info(settings: Settings = Depends(get_settings)) -> dict:
    return {"name": settings.app_name}


@app.get("/admin")
def admin() -> dict:
    settings = Settings()
    return {"email": settings.admin_email}
""",
        ),
    )
    clean = (
        Example(
            title="near miss: a cached factory and a module-level singleton",
            code="""\
from functools import lru_cache

from fastapi import Depends, FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    app_name: str = "shop"


settings = Settings()
app = FastAPI()


@lru_cache
def get_settings() -> Settings:
    return Settings()


@app.get("/info")
def info(current: Settings = Depends(get_settings)) -> dict:
    return {"name": current.app_name, "default": settings.app_name}
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext):
        if len(ctx.ancestors) != 1 or is_cached(node, ctx):
            return  # module-level functions only
        klass = _returns_new_settings(node, ctx)
        if klass is None:
            return
        used = f"{ctx.module}.{node.name}" in dependency_functions(ctx.project)
        named = any(word in node.name.lower() for word in SETTINGS_WORDS)
        if not (used or named):
            return
        ctx.report(
            node,
            f"`{node.name}()` builds a new `{klass.rpartition('.')[2]}` (reading the environment) "
            f"on every call{' and it is a dependency, so on every request' if used else ''}; "
            "cache it with `@lru_cache`",
            confidence=Confidence.HIGH if used else Confidence.MEDIUM,
            fix=self._fix(node, ctx),
            end_node=node.args if node.args.args else None,
        )

    @staticmethod
    def _fix(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> Fix | None:
        if isinstance(node, ast.AsyncFunctionDef):
            return None  # lru_cache would cache the coroutine object
        first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
        local = imported_as(ctx, "functools.lru_cache")
        edits = []
        if local is None:
            local = "lru_cache"
            try:
                edits.append(add_import(ctx.source, "functools", "lru_cache"))
            except ImportConflict:  # the name means something else here: no fix
                return None
        edits.append(insert_line(first, f"{indentation(ctx, node)}@{local}\n"))
        return Fix(
            "Cache the settings with `@lru_cache`",
            tuple(e for e in edits if e),
            Applicability.UNSAFE,
        )

    @visit(ast.Call)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        name = ctx.qualname(node.func)
        if not name or not is_settings(ctx.project, name):
            return
        if isinstance(ctx.parent(), ast.Return):
            return  # a factory: judged as a whole above
        function = top_function(ctx)
        role = per_request_role(function, ctx)
        if role not in ("route", "dependency") or is_cached(function, ctx):
            return
        ctx.report(
            node,
            f"`{name.rpartition('.')[2]}()` is built inside a {role}, so the environment is read "
            "and validated on every request; use a module-level instance or a cached "
            "`get_settings()` dependency",
        )
