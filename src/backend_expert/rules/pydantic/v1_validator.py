"""`@validator` / `@root_validator`: Pydantic v1 decorators, `@field_validator` /
`@model_validator` in v2."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import indentation, node_text, replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.pydantic_models import in_compat_branch, v1_pinned
from backend_expert.rules.base import Example, Explanation, Rule, visit

DECORATORS = {
    "pydantic.validator": "validator",
    "pydantic.class_validators.validator": "validator",
    "pydantic.root_validator": "root_validator",
    "pydantic.class_validators.root_validator": "root_validator",
}
PORTABLE = {
    "validator": frozenset({"pre", "allow_reuse", "check_fields"}),
    "root_validator": frozenset({"pre", "allow_reuse", "skip_on_failure"}),
}


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str] | None:
    args = function.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.defaults:
        return None
    return [a.arg for a in (*args.posonlyargs, *args.args)]


class V1Validator(Rule):
    code = "BEX202"
    slug = "pydantic-v1-validator"
    pack = "pydantic"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("pydantic", "fastapi")
    min_versions = {"pydantic": "2.0"}
    fix_applicability = Applicability.UNSAFE
    summary = "A Pydantic v1 `@validator` / `@root_validator` decorator"
    hint = (
        'Use `@field_validator("field")` / `@model_validator(mode=...)` stacked on `@classmethod`.'
    )
    explanation = Explanation(
        what="Flags methods decorated with Pydantic's `@validator` or `@root_validator`.",
        why=(
            "Both decorators are deprecated in Pydantic 2 and go away in v3. Their replacements "
            'differ in ways that matter: `pre=True` is `mode="before"`, `always=True` moved to '
            "the field (`validate_default=True`), `each_item=True` has no direct equivalent, the "
            "`values` argument became `info.data` on a `ValidationInfo`, and a post "
            '`@root_validator` becomes `@model_validator(mode="after")`, which receives the '
            "model instance instead of a dict. Porting by hand later is easier while the "
            "validator is fresh in mind than when the shim disappears."
        ),
        use_instead=(
            '`@field_validator("name", mode="before")` over `@classmethod` with the signature '
            "`(cls, value)` (add `info: ValidationInfo` to read other fields); "
            '`@model_validator(mode="before")` over `@classmethod` for a pre root validator.'
        ),
        fix_safety=(
            "Unsafe: offered only for a `(cls, value)` field validator with `pre`, "
            "`allow_reuse` or `check_fields`, and for a `(cls, values)` root validator with "
            "`pre=True`. Validators that read `values`, use `always`/`each_item`, or run after "
            "validation need their body rewritten and get no fix."
        ),
        references=("https://docs.pydantic.dev/latest/migration/#changes-to-validators",),
    )
    fire = (
        Example(
            title="a field validator and a pre root validator",
            code="""\
from pydantic import BaseModel, root_validator, validator


class Signup(BaseModel):
    email: str
    name: str

    @validator("email", pre=True)  # flagged
    def normalise_email(cls, value):
        return value.strip().lower()

    @root_validator(pre=True)  # flagged
    def fill_name(cls, values):
        values.setdefault("name", values.get("email", ""))
        return values
""",
            fixed="""\
from pydantic import BaseModel, field_validator, model_validator


class Signup(BaseModel):
    email: str
    name: str

    @field_validator("email", mode="before")
    @classmethod
    def normalise_email(cls, value):
        return value.strip().lower()

    @model_validator(mode="before")
    @classmethod
    def fill_name(cls, values):
        values.setdefault("name", values.get("email", ""))
        return values
""",
        ),
        Example(
            title="validators that read other fields (reported without a fix)",
            code="""\
import pydantic


class Range(pydantic.BaseModel):
    low: int
    high: int

    @pydantic.validator("high")  # flagged
    def ordered(cls, high, values):
        if high < values["low"]:
            raise ValueError("high < low")
        return high

    @pydantic.root_validator(skip_on_failure=True)  # flagged
    def check(cls, values):
        return values
""",
        ),
    )
    clean = (
        Example(
            title="near miss: v2 validators, and a v1 model on the pydantic.v1 layer",
            code="""\
from pydantic import BaseModel, field_validator
from pydantic.v1 import BaseModel as V1Model, validator


class Signup(BaseModel):
    email: str

    @field_validator("email")
    @classmethod
    def lower(cls, value: str) -> str:
        return value.lower()


class Old(V1Model):
    email: str

    @validator("email")
    def lower(cls, value):
        return value.lower()
""",
        ),
        Example(
            title="near miss: Pydantic 1 pinned",
            code="""\
from pydantic import BaseModel, validator


class Signup(BaseModel):
    email: str

    @validator("email")
    def lower(cls, value):
        return value.lower()
""",
            dependencies=("pydantic>=1.10,<2",),
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext):
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            kind = DECORATORS.get(ctx.qualname(target) or "")
            if kind is None:
                continue
            if in_compat_branch(ctx):
                return
            if v1_pinned(ctx):
                return
            new = "field_validator" if kind == "validator" else "model_validator"
            fix = self._fix(node, decorator, target, kind, new, ctx)
            ctx.report(
                decorator,
                f"`@{kind}` is deprecated in Pydantic 2; use `@{new}` stacked on `@classmethod`"
                + ("" if fix else " (the signature or options need porting by hand)"),
                fix=fix,
            )

    @staticmethod
    def _fix(node, decorator, target, kind: str, new: str, ctx: FileContext) -> Fix | None:
        keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
        args = decorator.args if isinstance(decorator, ast.Call) else []
        if any(kw.arg not in PORTABLE[kind] for kw in keywords):
            return None
        options = {kw.arg: kw.value for kw in keywords}
        pre = options.get("pre")
        if pre is not None and not (isinstance(pre, ast.Constant) and isinstance(pre.value, bool)):
            return None
        is_pre = pre is not None and pre.value
        params = _positional(node)
        if (
            params is None
            or len(params) != 2
            or params[0] != "cls"
            or (params[1] == "values" and kind == "validator")
        ):
            return None
        parts = [node_text(ctx, a) for a in args]
        if kind == "validator":
            if not args:
                return None
            if is_pre:
                parts.append('mode="before"')
            if "check_fields" in options:
                parts.append(f"check_fields={node_text(ctx, options['check_fields'])}")
        else:
            if not is_pre or args:
                return None
            parts = ['mode="before"']
        head = node_text(ctx, target)
        name = head.rpartition(".")[0] + "." + new if "." in head else new
        has_classmethod = any(
            isinstance(d, ast.Name) and d.id == "classmethod" for d in node.decorator_list
        )
        text = f"{name}({', '.join(parts)})"
        if not has_classmethod:
            text += f"\n{indentation(ctx, decorator)}@classmethod"
        edits = []
        if "." not in head:
            try:
                edits.append(add_import(ctx.source, "pydantic", new))
            except ImportConflict:  # the name means something else here: no fix
                return None
        edits.append(replace_node(ctx, decorator, text))
        replaced = ctx.qualname(target) if "." not in head else None
        return Fix(
            f"Use `@{new}`",
            tuple(e for e in edits if e),
            Applicability.UNSAFE,
            unused_imports=(replaced,) if replaced else (),
        )
