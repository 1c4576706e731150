"""`.dict()`, `.json()`, `.parse_obj()`... on a Pydantic model: the v1 names of v2 methods."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text, replace_node
from backend_expert.findings import Applicability, Edit, Fix, Severity
from backend_expert.pydantic_models import defines, in_compat_branch, model_of, v1_pinned
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

# v1 name -> (v2 name, called on the class (True) or an instance (False), keywords kept as is)
RENAMES = {
    "dict": ("model_dump", False),
    "json": ("model_dump_json", False),
    "copy": ("model_copy", False),
    "parse_obj": ("model_validate", True),
    "parse_raw": ("model_validate_json", True),
    "from_orm": ("model_validate", True),
    "schema": ("model_json_schema", True),
    "schema_json": ("model_json_schema", True),
    "update_forward_refs": ("model_rebuild", True),
    "construct": ("model_construct", True),
}
# Keywords whose meaning is the same under the new name; a call with others gets no fix.
SAME_KEYWORDS = {
    "dict": {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"},
    "json": {
        "include",
        "exclude",
        "by_alias",
        "exclude_unset",
        "exclude_defaults",
        "exclude_none",
        "indent",
    },
    "copy": {"update", "deep"},
    "parse_obj": set(),
    "parse_raw": set(),
    "from_orm": set(),
    "schema": {"by_alias", "ref_template"},
    "update_forward_refs": set(),
    "construct": {"_fields_set"},
}
NO_FIX = frozenset({"schema_json"})


class V1Method(Rule):
    code = "BEX203"
    slug = "pydantic-v1-method"
    pack = "pydantic"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("pydantic", "fastapi")
    min_versions = {"pydantic": "2.0"}
    fix_applicability = Applicability.SAFE
    summary = "A Pydantic v1 method name (`.dict()`, `.parse_obj()`...) on a v2 model"
    hint = "Use the `model_*` names: `model_dump()`, `model_dump_json()`, `model_validate()`, `model_copy()`."
    explanation = Explanation(
        what=(
            "Flags `.dict()`, `.json()`, `.copy()`, `.parse_obj()`, `.parse_raw()`, "
            "`.from_orm()`, `.schema()`, `.schema_json()`, `.update_forward_refs()` and "
            "`.construct()` called on something bex knows to be a Pydantic model class or "
            "instance: built by a constructor or `model_validate`, a parameter or attribute "
            "annotated with a model, or the result of a project function that returns one."
        ),
        why=(
            "Pydantic 2 renamed these methods under the `model_` prefix and keeps the old names "
            "only as deprecated wrappers that warn on every call and will be removed in v3. "
            "Some wrappers also differ subtly (`from_orm` needs `from_attributes`, `copy` "
            "does not validate). A `.dict()` on a value bex cannot identify is never reported: "
            "dicts, ORM rows and other libraries' objects have their own `dict`/`json` methods."
        ),
        use_instead=(
            "`model_dump()`, `model_dump_json()`, `model_copy()`, `Model.model_validate(data)`, "
            "`Model.model_validate_json(text)`, `Model.model_validate(obj, from_attributes=True)`, "
            "`Model.model_json_schema()`, `Model.model_rebuild()`, `Model.model_construct()`."
        ),
        fix_safety=(
            "The renames keep the arguments, so the fix is safe. It is offered only when every "
            "keyword passed means the same under the new name (`.json(encoder=...)` or "
            "`.copy(include=...)` get none), and not for `schema_json()`, whose v2 spelling "
            "needs `json.dumps`."
        ),
        references=("https://docs.pydantic.dev/latest/migration/#changes-to-pydanticbasemodel",),
    )
    fire = (
        Example(
            title="a model built from a request, dumped with v1 names",
            code="""\
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float


def export(payload: dict) -> str:
    item = Item.parse_obj(payload)  # flagged
    data = item.dict(exclude_none=True)  # flagged
    return item.json()  # flagged
""",
            fixed="""\
def export(payload: dict) -> str:
    item = Item.model_validate(payload)
    data = item.model_dump(exclude_none=True)
    return item.model_dump_json()
""",
        ),
        Example(
            title="a parameter typed with a model from another module, and `from_orm`",
            files={
                "app/__init__.py": "",
                "app/schemas.py": "from pydantic import BaseModel\n\n\nclass Base(BaseModel):\n    pass\n\n\nclass UserOut(Base):\n    id: int\n",
                "app/service.py": """\
from app.schemas import UserOut


def to_payload(user: UserOut, row) -> dict:
    out = UserOut.from_orm(row)  # flagged
    return {**user.dict(), **out.copy(update={"id": 1}).dict()}  # flagged
""",
            },
        ),
        Example(
            title="items of a list of models: a parameter and a project function's result",
            code="""\
from pydantic import BaseModel


class Row(BaseModel):
    id: int


def fetch_rows() -> list[Row]:
    return []


def export(rows: list[Row]) -> list:
    for row in rows:
        print(row.json())  # flagged
    return [r.dict() for r in fetch_rows()]  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="near miss: `.dict()` / `.json()` on plain objects and unknown receivers",
            code="""\
import requests
from pydantic import BaseModel


class Item(BaseModel):
    name: str


def fetch(url, row, data: dict):
    response = requests.get(url)
    payload = response.json()
    copy = data.copy()
    return payload, row.dict(), copy, Item.model_validate(payload).model_dump()
""",
        ),
        Example(
            title="near miss: a model on the pydantic.v1 compatibility layer",
            code="""\
from pydantic.v1 import BaseModel


class Legacy(BaseModel):
    name: str


def dump(item: Legacy) -> dict:
    return item.dict()
""",
        ),
        Example(
            title="near miss: code written for both Pydantic versions",
            code="""\
import pydantic
from pydantic import BaseModel

PYDANTIC_V2 = pydantic.VERSION.startswith("2")


class Item(BaseModel):
    name: str


def dump(item: Item) -> dict:
    if PYDANTIC_V2:
        return item.model_dump()
    else:
        return item.dict()


def load(data: dict) -> Item:
    try:
        return Item.model_validate(data)
    except AttributeError:
        return Item.parse_obj(data)
""",
        ),
        Example(
            title="near miss: the project pins pydantic 1",
            code="""\
from pydantic import BaseModel


class Item(BaseModel):
    name: str


def dump(item: Item) -> dict:
    return item.dict()
""",
            dependencies=("pydantic<2",),
        ),
    )

    @visit_call(RENAMES)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in RENAMES:
            return
        new, on_class = RENAMES[func.attr]
        found = model_of(func.value, ctx)
        if found is None or found[1] == on_class:
            return
        if in_compat_branch(ctx):
            return
        klass = found[0]
        if defines(ctx.project, klass, func.attr):
            return
        defined_in = ctx.project.modules.get(klass.rpartition(".")[0])
        if v1_pinned(ctx) or (defined_in is not None and v1_pinned(ctx, defined_in.path)):
            return
        model = klass.rpartition(".")[2]
        shown = f"{model}.{new}()" if on_class else f".{new}()"
        fix = self._fix(node, func, new, ctx)
        ctx.report(
            node,
            f"`.{func.attr}()` is the Pydantic v1 name (deprecated in v2) on `{model}`; "
            f"use `{shown}`" + (" with `from_attributes=True`" if func.attr == "from_orm" else ""),
            fix=fix,
        )

    @staticmethod
    def _fix(node: ast.Call, func: ast.Attribute, new: str, ctx: FileContext) -> Fix | None:
        old = func.attr
        if old in NO_FIX or any(
            kw.arg is None or kw.arg not in SAME_KEYWORDS[old] for kw in node.keywords
        ):
            return None
        if old in ("dict", "json", "copy") and node.args:
            return None
        end_line, end = func.end_lineno, func.end_col_offset
        rename = Edit(
            end_line,
            ctx.source.char_column(end_line, end - len(old)) + 1,
            end_line,
            ctx.source.char_column(end_line, end) + 1,
            new,
        )
        edits = [rename]
        if old == "from_orm":
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                return None
            arg = node.args[0]
            edits.append(replace_node(ctx, arg, node_text(ctx, arg) + ", from_attributes=True"))
        return Fix(f"Rename to `{new}`", tuple(edits), Applicability.SAFE)
