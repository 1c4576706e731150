"""`model_config = ConfigDict(...)` on a settings class: `SettingsConfigDict` is its type."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.pydantic_models import class_kind
from backend_expert.rules.base import Example, Explanation, Rule, visit

CONFIG_DICTS = frozenset({"pydantic.ConfigDict", "pydantic.config.ConfigDict"})


class SettingsWithConfigDict(Rule):
    code = "BEX205"
    slug = "pydantic-settings-configdict"
    pack = "pydantic"
    severity = Severity.INFO
    category = "correctness"
    frameworks = ("pydantic", "fastapi")
    fix_applicability = Applicability.SAFE
    summary = "A settings class configured with `ConfigDict` instead of `SettingsConfigDict`"
    hint = "Use `model_config = SettingsConfigDict(...)` from `pydantic_settings`."
    explanation = Explanation(
        what=(
            "Flags `model_config = ConfigDict(...)` in a class derived from "
            "`pydantic_settings.BaseSettings` (directly or through project base classes)."
        ),
        why=(
            "`ConfigDict` is the typed dictionary of model options; it does not declare the "
            "settings options (`env_prefix`, `env_file`, `env_nested_delimiter`, `secrets_dir`, "
            "`case_sensitive`...). At run time both are plain dicts, so the code works, but "
            "type checkers report the settings keys as unknown and editors do not complete them, "
            "so a misspelt `env_prefx` goes unnoticed and the variables are silently not read. "
            "Examples that show `ConfigDict(env_prefix=...)` follow an early draft of the API."
        ),
        use_instead='`model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env")`.',
        fix_safety="Safe: both build the same dictionary; only the declared type changes.",
        references=("https://docs.pydantic.dev/latest/concepts/pydantic_settings/",),
    )
    fire = (
        Example(
            title="settings configured with the model ConfigDict",
            code="""\
from pydantic import ConfigDict
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    model_config = ConfigDict(env_prefix="APP_", env_file=".env")  # flagged

    database_url: str
""",
            fixed="""\
from pydantic import ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env")

    database_url: str
""",
        ),
    )
    clean = (
        Example(
            title="near miss: SettingsConfigDict on settings, ConfigDict on a model",
            code="""\
from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")


class Item(BaseModel):
    model_config = ConfigDict(frozen=True)
""",
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        for stmt in node.body:
            if not (
                isinstance(stmt, (ast.Assign, ast.AnnAssign))
                and isinstance(stmt.value, ast.Call)
                and any(
                    isinstance(t, ast.Name) and t.id == "model_config"
                    for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])
                )
                and ctx.qualname(stmt.value.func) in CONFIG_DICTS
            ):
                continue
            if class_kind(node, ctx) != "settings":
                return
            call = stmt.value
            edits = [replace_node(ctx, call.func, "SettingsConfigDict")]
            try:
                added = add_import(ctx.source, "pydantic_settings", "SettingsConfigDict")
            except ImportConflict:  # the name means something else here: no fix
                edits = []
            else:
                edits[:0] = [added] if added else []
            ctx.report(
                call,
                f"`{node.name}` is a settings class: `ConfigDict` does not declare the settings "
                "options; use `SettingsConfigDict` from `pydantic_settings`",
                fix=Fix("Use `SettingsConfigDict`", tuple(edits), Applicability.SAFE)
                if edits
                else None,
            )
