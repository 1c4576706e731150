"""An inner `class Config:` on a Pydantic model: v1 configuration, `model_config` in v2."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import indentation, node_text, replace_node
from backend_expert.findings import Applicability, Edit, Fix, Severity
from backend_expert.fix_cleanup import comments
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.pydantic_models import class_kind, in_compat_branch, v1_pinned
from backend_expert.rules.base import Example, Explanation, Rule, visit

RENAMED = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
    "keep_untouched": "ignored_types",
}
# Keys Pydantic 2 dropped: the class needs a human to port them.
REMOVED = frozenset(
    {
        "fields",
        "getter_dict",
        "smart_union",
        "underscore_attrs_are_private",
        "copy_on_model_validation",
        "json_loads",
        "json_dumps",
        "post_init_call",
    }
)
LINE_LIMIT = 88


Entry = tuple[str, str, ast.Assign]  # v2 key, value source, the v1 statement


def config_entries(config: ast.ClassDef, ctx: FileContext) -> list[Entry] | None:
    """The `key=value` pairs of the v2 `ConfigDict`, or None when a key cannot be ported."""
    entries = []
    for stmt in config.body:
        if isinstance(stmt, ast.Pass) or (
            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        ):
            continue
        if not (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            return None
        key, value = stmt.targets[0].id, stmt.value
        if key in REMOVED:
            return None
        if key == "allow_mutation":
            if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
                return None
            entries.append(("frozen", repr(not value.value), stmt))
            continue
        if (
            key == "extra"
            and isinstance(value, ast.Attribute)
            and value.attr in ("allow", "ignore", "forbid")
        ):
            entries.append((key, f'"{value.attr}"', stmt))
            continue
        entries.append((RENAMED.get(key, key), node_text(ctx, value), stmt))
    return entries


def _commented_call(
    head: str, entries: list[Entry], found: list[tuple[int, str]], first: int, indent: str
) -> str:
    """`head(` one key a line `)`, each comment of the `Config` class kept where it was:
    above its key, after it, or last; a comment of the `class Config:` line follows `(`."""
    left = [(line, text) for line, text in found if line != first]
    rows = []
    for key, value, stmt in entries:
        last = stmt.end_lineno or stmt.lineno
        inside = range(stmt.value.lineno, stmt.value.end_lineno or stmt.value.lineno)
        mine = [(n, c) for n, c in left if n <= last]
        left = left[len(mine) :]
        ends = [i for i, (n, _) in enumerate(mine) if n == last][-1:]
        trailing = [mine[i][1] for i in ends]
        leading = [c for i, (n, c) in enumerate(mine) if n not in inside and i not in ends]
        rows += [f"{indent}    {c}" for c in leading]
        rows.append(f"{indent}    {key}={value}," + "".join(f"  {c}" for c in trailing))
    rows += [f"{indent}    {c}" for _, c in left]
    opening = "".join(f"  {c}" for n, c in found if n == first)
    return f"{head}({opening}\n" + "\n".join(rows) + f"\n{indent})"


class V1Config(Rule):
    code = "BEX201"
    slug = "pydantic-v1-config"
    pack = "pydantic"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("pydantic", "fastapi")
    min_versions = {"pydantic": "2.0"}
    fix_applicability = Applicability.UNSAFE
    summary = "A Pydantic model configured with an inner `class Config` (Pydantic v1 style)"
    hint = "Write `model_config = ConfigDict(...)` (`SettingsConfigDict` for settings) with the v2 key names."
    explanation = Explanation(
        what=(
            "Flags an inner `class Config:` in a class that derives from `BaseModel`, "
            "`BaseSettings` or `RootModel`, across files. Skipped when the project pins "
            "Pydantic below 2 and for models on the `pydantic.v1` layer."
        ),
        why=(
            "Pydantic 2 reads `class Config` only through a deprecation shim and will drop it. "
            "Several keys were renamed on the way (`orm_mode` is `from_attributes`, "
            "`allow_population_by_field_name` is `populate_by_name`, `schema_extra` is "
            "`json_schema_extra`...) and some were removed; an old key name is reported as a "
            "warning at import time and then ignored, so `orm_mode = True` silently stops "
            "reading attributes from ORM objects once the shim is gone. `model_config` is a typed "
            "dict that editors and type checkers can verify."
        ),
        use_instead=(
            '`model_config = ConfigDict(from_attributes=True, extra="forbid")` in the class '
            "body; for a settings class `model_config = SettingsConfigDict(env_prefix=...)` "
            "from `pydantic_settings`."
        ),
        fix_safety=(
            "Unsafe: the fix renames the keys it knows (`allow_mutation = False` becomes "
            '`frozen=True`, `Extra.forbid` becomes `"forbid"`, and an `Extra` import left '
            "unused is removed); comments of the `Config` class are kept next to their key. "
            "A class with removed keys (`fields`, `getter_dict`, `smart_union`...) or methods "
            "gets no fix."
        ),
        references=("https://docs.pydantic.dev/latest/migration/#changes-to-config",),
    )
    fire = (
        Example(
            title="an ORM response schema and a settings class",
            code="""\
from pydantic import BaseModel, Extra
from pydantic_settings import BaseSettings


class UserOut(BaseModel):
    id: int
    email: str

    class Config:  # flagged
        orm_mode = True
        extra = Extra.forbid


class Settings(BaseSettings):
    database_url: str

    class Config:  # flagged
        env_prefix = "APP_"
        env_file = ".env"
""",
            fixed="""\
from pydantic import BaseModel, ConfigDict
from pydantic_settings import BaseSettings, SettingsConfigDict


class UserOut(BaseModel):
    id: int
    email: str

    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Settings(BaseSettings):
    database_url: str

    model_config = SettingsConfigDict(env_prefix="APP_", env_file=".env")
""",
        ),
        Example(
            title="comments of the Config class stay with their keys",
            code="""\
from pydantic import BaseModel


class Order(BaseModel):
    id: int

    class Config:  # flagged
        # rows come from SQLAlchemy
        orm_mode = True
        allow_mutation = False  # orders are immutable once placed
""",
            fixed="""\
from pydantic import BaseModel, ConfigDict


class Order(BaseModel):
    id: int

    model_config = ConfigDict(
        # rows come from SQLAlchemy
        from_attributes=True,
        frozen=True,  # orders are immutable once placed
    )
""",
        ),
        Example(
            title="a model whose base class lives in another module",
            files={
                "app/__init__.py": "",
                "app/base.py": "from pydantic import BaseModel\n\n\nclass Schema(BaseModel):\n    pass\n",
                "app/items.py": """\
from app.base import Schema


class Item(Schema):
    name: str

    class Config:  # flagged
        allow_population_by_field_name = True
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: v2 configuration, and a Config class of a non-Pydantic class",
            code="""\
from pydantic import BaseModel, ConfigDict


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int


class Widget:
    class Config:
        color = "red"
""",
        ),
        Example(
            title="near miss: Pydantic 1 pinned in the project's dependencies",
            code="""\
from pydantic import BaseModel


class UserOut(BaseModel):
    id: int

    class Config:
        orm_mode = True
""",
            dependencies=("pydantic==1.10.13",),
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        config = next(
            (s for s in node.body if isinstance(s, ast.ClassDef) and s.name == "Config"), None
        )
        if config is None:
            return
        if in_compat_branch(ctx):
            return
        kind = class_kind(node, ctx)
        if kind is None:
            return
        if v1_pinned(ctx):
            return
        factory = "SettingsConfigDict" if kind == "settings" else "ConfigDict"
        fix = self._fix(node, config, factory, ctx)
        ctx.report(
            config,
            f"`class Config` is Pydantic v1 configuration (deprecated in v2) on `{node.name}`; "
            f"use `model_config = {factory}(...)` with the v2 key names",
            fix=fix,
            end_node=config,
        )

    @staticmethod
    def _fix(node: ast.ClassDef, config: ast.ClassDef, factory: str, ctx: FileContext):
        if (
            config.decorator_list
            or config.bases
            or any(
                isinstance(s, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "model_config" for t in s.targets)
                for s in node.body
            )
        ):
            return None
        entries = config_entries(config, ctx)
        if entries is None:
            return None
        indent = indentation(ctx, config)
        last = config.end_lineno or config.lineno
        found = [(n, c) for n, _, c in comments(ctx.source.text) if config.lineno <= n <= last]
        arguments = ", ".join(f"{k}={v}" for k, v, _ in entries)
        text = f"model_config = {factory}({arguments})"
        inner = [(n, c) for n, c in found if n != last]  # not just a comment after it all
        if not inner and len(indent) + len(text) <= LINE_LIMIT and "\n" not in arguments:
            found = []  # one line: the trailing comment stays after it, untouched
        if found:
            head = f"model_config = {factory}"
            text = _commented_call(head, entries, found, config.lineno, indent)
        elif len(indent) + len(text) > LINE_LIMIT or "\n" in arguments:
            inner = "".join(f"{indent}    {k}={v},\n" for k, v, _ in entries)
            text = f"model_config = {factory}(\n{inner}{indent})"
        module = "pydantic_settings" if factory == "SettingsConfigDict" else "pydantic"
        try:
            edits = [e for e in (add_import(ctx.source, module, factory),) if e is not None]
        except ImportConflict:  # the name means something else here: no fix
            return None
        replace = replace_node(ctx, config, text)
        if found:  # through the end of the last line: its comment is placed in the call
            end = len(ctx.source.line(last)) + 1
            replace = Edit(replace.line, replace.column, last, end, text)
        edits.append(replace)
        extra = ctx.qualname(_extra_base(entries)) if _extra_base(entries) else None
        return Fix(
            f"Replace `class Config` with `{factory}`",
            tuple(edits),
            Applicability.UNSAFE,
            unused_imports=(extra,) if extra in ("pydantic.Extra", "pydantic.config.Extra") else (),
        )


def _extra_base(entries: list[Entry]) -> ast.expr | None:
    """The `Extra` of `extra = Extra.forbid`, which the fix turns into a string."""
    for key, _, stmt in entries:
        if key == "extra" and isinstance(stmt.value, ast.Attribute):
            return stmt.value.value
    return None
