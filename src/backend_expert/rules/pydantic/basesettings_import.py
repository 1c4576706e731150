"""`from pydantic import BaseSettings`: moved to the `pydantic-settings` package in v2."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.pydantic_models import v1_pinned
from backend_expert.rules.base import Example, Explanation, Rule, visit


class BaseSettingsImport(Rule):
    code = "BEX204"
    slug = "pydantic-basesettings-import"
    pack = "pydantic"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("pydantic", "fastapi")
    min_versions = {"pydantic": "2.0"}
    fix_applicability = Applicability.UNSAFE
    summary = "`BaseSettings` imported from `pydantic` (it lives in `pydantic-settings` since v2)"
    hint = "Install `pydantic-settings` and write `from pydantic_settings import BaseSettings`."
    explanation = Explanation(
        what="Flags `from pydantic import BaseSettings` (and `pydantic.BaseSettings` imports).",
        why=(
            "Pydantic 2 moved settings management into the separate `pydantic-settings` "
            "distribution. Under Pydantic 2 the old import raises `PydanticImportError` as soon "
            "as the module is imported, so the application does not start; the code only works "
            "while Pydantic 1 happens to be installed."
        ),
        use_instead=(
            "Add `pydantic-settings` to the dependencies and import `BaseSettings` (and "
            "`SettingsConfigDict`) from `pydantic_settings`."
        ),
        fix_safety=(
            "Unsafe: the new import needs the `pydantic-settings` package installed, and "
            "settings classes written for v1 may use `class Config` keys or `Field(env=...)` "
            "that v2 reads differently."
        ),
        references=("https://docs.pydantic.dev/latest/concepts/pydantic_settings/",),
    )
    fire = (
        Example(
            title="the v1 import",
            code="""\
from pydantic import BaseSettings, Field  # flagged


class Settings(BaseSettings):
    debug: bool = Field(False)
""",
            fixed="""\
from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    debug: bool = Field(False)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the pydantic-settings import, and pydantic.v1",
            code="""\
from pydantic.v1 import BaseSettings as V1Settings
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    debug: bool = False
""",
        ),
    )

    @visit(ast.ImportFrom)
    def check_import(self, node: ast.ImportFrom, ctx: FileContext) -> None:
        if node.level or node.module not in ("pydantic", "pydantic.env_settings"):
            return
        moved = [a for a in node.names if a.name == "BaseSettings"]
        if not moved:
            return
        if v1_pinned(ctx):
            return
        ctx.report(
            node,
            "`BaseSettings` moved to the `pydantic-settings` package in Pydantic 2 (this import "
            "fails there); use `from pydantic_settings import BaseSettings`",
            fix=self._fix(node, moved[0], ctx),
        )

    @staticmethod
    def _fix(node: ast.ImportFrom, alias: ast.alias, ctx: FileContext) -> Fix | None:
        if node.lineno != node.end_lineno:
            return None
        name = f"BaseSettings as {alias.asname}" if alias.asname else "BaseSettings"
        rest = [
            f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names if a is not alias
        ]
        text = f"from pydantic_settings import {name}"
        if rest:
            text = f"from {node.module} import {', '.join(rest)}\n{' ' * node.col_offset}{text}"
        return Fix(
            "Import `BaseSettings` from `pydantic_settings`",
            (replace_node(ctx, node, text),),
            Applicability.UNSAFE,
        )
