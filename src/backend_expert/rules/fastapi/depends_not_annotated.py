"""`db: Session = Depends(get_db)`: FastAPI parameter markers as defaults instead of `Annotated`."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import imported_as, node_text, replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.web import route_parameters

MARKERS = frozenset(
    {"Depends", "Security", "Query", "Path", "Header", "Cookie", "Body", "Form", "File"}
)
DEPENDENCY_MARKERS = frozenset({"Depends", "Security"})
ANNOTATED = ("typing.Annotated", "typing_extensions.Annotated")


def marker_name(node: ast.AST | None, ctx: FileContext) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    name = ctx.qualname(node.func) or ""
    last = name.rpartition(".")[2]
    return last if last in MARKERS and name.startswith("fastapi") else None


class DependsNotAnnotated(Rule):
    code = "BEX104"
    slug = "fastapi-depends-not-annotated"
    pack = "fastapi"
    severity = Severity.INFO
    category = "style"
    frameworks = ("fastapi",)
    min_versions = {"fastapi": "0.95"}
    fix_applicability = Applicability.UNSAFE
    summary = "A FastAPI parameter declared with `Depends()`/`Query()`... as its default value"
    hint = "Move the marker into the annotation: `db: Annotated[Session, Depends(get_db)]`."
    explanation = Explanation(
        what=(
            "Flags parameters whose default value is `Depends(...)`, `Security(...)`, "
            "`Query(...)`, `Path(...)`, `Header(...)`, `Cookie(...)`, `Body(...)`, `Form(...)` "
            "or `File(...)`, in projects that can use FastAPI 0.95 or later."
        ),
        why=(
            "As a default, the marker object is what the function receives when it is called "
            "outside FastAPI: a test, a script or another function calling `get_items(db=...)` "
            "without every argument gets a `Depends` object instead of a session, and type "
            "checkers accept it. In `Annotated[...]` the marker is metadata: the real default "
            "(if any) stays a plain Python default, the function works as an ordinary function, "
            "and one alias (`SessionDep = Annotated[Session, Depends(get_db)]`) can be reused "
            "by every route. FastAPI's documentation recommends this form."
        ),
        use_instead=(
            "`db: Annotated[Session, Depends(get_db)]`, `limit: Annotated[int, Query(le=100)] "
            "= 20`, or a shared alias such as `SessionDep`."
        ),
        fix_safety=(
            "Unsafe: the default moves out of the marker (`Query(20)` becomes `Query()` and "
            "`= 20`). A parameter left without a default must not follow one with a default, "
            "so the fix is offered only where the parameter order stays valid; parameters "
            "without an annotation get no fix."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/query-params-str-validations/#advantages-of-annotated",
            "https://fastapi.tiangolo.com/tutorial/dependencies/#share-annotated-dependencies",
        ),
    )
    fire = (
        Example(
            title="a dependency and a query parameter as defaults",
            code="""\
from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from .deps import get_db

router = APIRouter()


@router.get("/items")
def list_items(
    db: Session = Depends(get_db),  # flagged
    limit: int = Query(20, le=100),  # flagged
):
    return []
""",
            fixed="""\
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from .deps import get_db

router = APIRouter()


@router.get("/items")
def list_items(
    db: Annotated[Session, Depends(get_db)],
    limit: Annotated[int, Query(le=100)] = 20,
):
    return []
""",
        ),
        Example(
            title="a dependency after a defaulted parameter: reported, no fix (order)",
            code="""\
from typing import Annotated

from fastapi import Depends, FastAPI, Header

app = FastAPI()


def current_user(token: str = Header(...)):  # flagged
    return token


@app.get("/me")
def me(verbose: bool = False, user: str = Depends(current_user)):  # flagged
    return user
""",
        ),
    )
    clean = (
        Example(
            title="near miss: markers already in `Annotated`, and a plain default",
            code="""\
from typing import Annotated

from fastapi import Depends, FastAPI, Query

app = FastAPI()


def get_db():
    yield None


SessionDep = Annotated[object, Depends(get_db)]


@app.get("/items")
def items(db: SessionDep, q: Annotated[str | None, Query(max_length=50)] = None, page: int = 1):
    return []
""",
        ),
        Example(
            title="near miss: FastAPI older than 0.95 pinned",
            code="""\
from fastapi import Depends, FastAPI

app = FastAPI()


@app.get("/")
def root(user=Depends(lambda: None)):
    return user
""",
            dependencies=("fastapi==0.89.1",),
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext):
        pairs = route_parameters(node)
        positional = len(node.args.posonlyargs) + len(node.args.args)
        for index, (arg, default) in enumerate(pairs):
            marker = marker_name(default, ctx)
            if marker is None:
                continue
            earlier_defaults = any(d is not None for _, d in pairs[:index]) and index < positional
            fix = self._fix(arg, default, marker, earlier_defaults, ctx)
            ctx.report(
                default,
                f"`{arg.arg}` gets its value from `{marker}()` written as the default; declare "
                f"it in the annotation, `{arg.arg}: Annotated[..., {marker}(...)]`",
                fix=fix,
            )

    @staticmethod
    def _fix(arg: ast.arg, default: ast.Call, marker: str, earlier_defaults: bool, ctx):
        if arg.annotation is None or isinstance(arg.annotation, ast.Constant):
            return None
        value: ast.AST | None = None
        args = list(default.args)
        keywords = list(default.keywords)
        if marker not in DEPENDENCY_MARKERS:
            if args:
                value = args.pop(0)
            for kw in keywords:
                if kw.arg == "default":
                    value = kw.value
            keywords = [kw for kw in keywords if kw.arg != "default"]
            if isinstance(value, ast.Constant) and value.value is Ellipsis:
                value = None
        if any(kw.arg is None for kw in keywords) or any(isinstance(a, ast.Starred) for a in args):
            return None
        if value is None and earlier_defaults:
            return None  # a required parameter may not follow one with a default
        parts = [node_text(ctx, a) for a in args]
        parts += [f"{kw.arg}={node_text(ctx, kw.value)}" for kw in keywords]
        call = f"{node_text(ctx, default.func)}({', '.join(parts)})"
        local = next((n for n in map(lambda q: imported_as(ctx, q), ANNOTATED) if n), None)
        edits = []
        if local is None:
            local = "Annotated"
            try:
                edit = add_import(ctx.source, _annotated_module(ctx), "Annotated")
            except ImportConflict:  # the name means something else here: no fix
                return None
            if edit is not None:
                edits.append(edit)
        text = f"{local}[{node_text(ctx, arg.annotation)}, {call}]"
        if value is not None:
            text += f" = {node_text(ctx, value)}"
        edits.append(replace_node(ctx, arg.annotation, text, end=default))
        return Fix("Move the marker into `Annotated[...]`", tuple(edits), Applicability.UNSAFE)


def _annotated_module(ctx: FileContext) -> str:
    """`typing` (Python 3.9+), or `typing_extensions` when the project still supports 3.8."""
    spec = (ctx.project.requires_python or "").replace(" ", "")
    old = ("3.6", "3.7", "3.8")
    supports_old = any(f">={v}" in spec or f"~={v}" in spec or f"=={v}" in spec for v in old)
    return "typing_extensions" if supports_old else "typing"
