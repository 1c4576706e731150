"""The route helpers of `web.py` that the FastAPI rules share: parameters and where FastAPI
fills them from, the dependency a parameter comes from, schemaless body parameters, and
routers built by a class factory."""

from __future__ import annotations

import ast
from pathlib import Path

from backend_expert.check import FileContext
from backend_expert.config import Config
from backend_expert.index import build_project, collect_facts, module_name
from backend_expert.parse import parse_text
from backend_expert.web import (
    body_parameters,
    dependency_name,
    fastapi_route,
    free_form_body_parameters,
    parameter_marker,
    route_parameters,
)


def context(files: dict[str, str], path: str) -> FileContext:
    """A FileContext for `path` inside the in-memory project `files`."""
    packages = {rel.rpartition("/")[0] for rel in files if rel.endswith("__init__.py")}
    sources = {rel: parse_text(rel, text) for rel, text in files.items()}
    facts = {
        rel: collect_facts(source.tree, rel, module_name(rel, packages))
        for rel, source in sources.items()
    }
    project = build_project(facts.values(), ".")
    return FileContext(sources[path], facts[path], project, Config(root=Path(".")))


def function(ctx: FileContext, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    assert ctx.source.tree is not None
    for node in ast.walk(ctx.source.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise AssertionError(name)


PARAMETERS = """\
from typing import Annotated, Any, Dict, Mapping

from fastapi import Body, Depends, FastAPI, Form, Query
from fastapi.params import Depends as ParamsDepends

from .db import get_db, Pagination

app = FastAPI()


@app.post("/things/{thing_id}")
async def handler(
    thing_id: int,
    payload: dict,
    extra: Dict[str, Any],
    typed: dict[str, Any] | None = None,
    mapping: Mapping = Body(...),
    anything: Any = Body(None),
    bare_any: Any = None,
    db=Depends(get_db),
    paging: Annotated[dict, Depends(Pagination())] = None,
    legacy: dict = ParamsDepends(get_db),
    filters: dict = Query(None),
    form: Annotated[dict, Form()] = None,
    *,
    flag: bool = False,
    named: Annotated[str, Query(alias="n")] = "",
    labels: dict[str, str] = Body(default_factory=dict),
    nested: Dict[str, dict] = Body(None),
    typed_nested: dict[str, dict[str, int]] = Body(None),
    anything_goes: dict[str, object] = Body(None),
):
    ...
"""


def test_route_parameters_pair_each_parameter_with_its_default():
    ctx = context({"app/__init__.py": "", "app/main.py": PARAMETERS}, "app/main.py")
    pairs = route_parameters(function(ctx, "handler"))
    names = [arg.arg for arg, _ in pairs]
    assert names[:3] == ["thing_id", "payload", "extra"]
    assert names[-6:-4] == ["flag", "named"]
    defaults = {arg.arg: default for arg, default in pairs}
    assert defaults["thing_id"] is None and defaults["payload"] is None
    assert isinstance(defaults["typed"], ast.Constant)
    assert isinstance(defaults["flag"], ast.Constant) and defaults["flag"].value is False


def test_parameter_marker_reads_defaults_and_annotated_metadata():
    ctx = context({"app/__init__.py": "", "app/main.py": PARAMETERS}, "app/main.py")
    pairs = dict(
        (arg.arg, (arg, default)) for arg, default in route_parameters(function(ctx, "handler"))
    )

    def source(name: str) -> str | None:
        marker = parameter_marker(*pairs[name], ctx)
        return marker[0] if marker else None

    assert source("payload") is None
    assert source("mapping") == "body"
    assert source("db") == "dependency"
    assert source("paging") == "dependency"  # from Annotated[..., Depends(...)]
    assert source("legacy") == "dependency"  # fastapi.params.Depends
    assert source("filters") == "query"
    assert source("form") == "form"
    assert source("named") == "query"


def test_dependency_name_is_the_callable_inside_depends():
    ctx = context({"app/__init__.py": "", "app/main.py": PARAMETERS}, "app/main.py")
    pairs = dict(
        (arg.arg, (arg, default)) for arg, default in route_parameters(function(ctx, "handler"))
    )
    assert dependency_name(*pairs["db"], ctx) == "get_db"
    assert dependency_name(*pairs["paging"], ctx) == "Pagination"  # an instance: its class
    assert dependency_name(*pairs["filters"], ctx) is None
    assert dependency_name(*pairs["payload"], ctx) is None


def test_free_form_body_parameters_are_the_schemaless_json_bodies():
    ctx = context({"app/__init__.py": "", "app/main.py": PARAMETERS}, "app/main.py")
    found = set(free_form_body_parameters(function(ctx, "handler"), ctx))
    # dict / Dict[str, Any] / dict[str, Any] | None / Mapping = Body() / Any = Body() /
    # values that are untyped mappings or `object`: read from the body with no schema
    assert found == {"payload", "extra", "typed", "mapping", "anything", "nested", "anything_goes"}
    # a bare `Any` is a query parameter; Depends/Query/Form take the value from elsewhere;
    # `dict[str, str]` and `dict[str, dict[str, int]]` have their values validated


def test_a_user_class_named_dict_is_not_a_free_form_body():
    source = """\
from fastapi import FastAPI

from .schemas import Payload

app = FastAPI()


@app.post("/x")
async def handler(payload: Payload, count: int):
    ...
"""
    ctx = context({"app/__init__.py": "", "app/main.py": source}, "app/main.py")
    assert free_form_body_parameters(function(ctx, "handler"), ctx) == {}


ROUTING = """\
from fastapi import APIRouter as _APIRouter


def get_api_router_class(route_class):
    class _Router(_APIRouter):
        pass

    return _Router


APIRouter = get_api_router_class(object)
"""


def test_a_router_class_built_by_a_factory_is_recognised_across_files():
    files = {
        "svc/__init__.py": "",
        "svc/routing.py": ROUTING,
        "svc/endpoints.py": """\
from svc.routing import APIRouter

router = APIRouter(prefix="/items")


@router.get("/{item_id}")
async def get_item(item_id: int):
    ...
""",
    }
    ctx = context(files, "svc/endpoints.py")
    route = fastapi_route(function(ctx, "get_item"), ctx)
    assert route is not None and route.methods == ("GET",) and route.path == "/{item_id}"


def test_a_factory_built_class_with_another_name_is_not_a_router():
    files = {
        "svc/__init__.py": "",
        "svc/routing.py": ROUTING.replace("APIRouter = get", "Registry = get")
        + "\nfrom fastapi import FastAPI\n",
        "svc/endpoints.py": """\
from svc.routing import Registry

registry = Registry()


@registry.get("/{item_id}")
async def get_item(item_id: int):
    ...
""",
    }
    ctx = context(files, "svc/endpoints.py")
    assert fastapi_route(function(ctx, "get_item"), ctx) is None


def test_body_parameters_are_the_fields_of_the_json_body():
    files = {
        "app/__init__.py": "",
        "app/schemas.py": """\
import enum

from pydantic import BaseModel


class Item(BaseModel):
    name: str


class Color(str, enum.Enum):
    RED = "red"
""",
        "app/deps.py": """\
from typing import Annotated

from fastapi import Depends

from app.schemas import Item

CurrentItem = Annotated[Item, Depends(lambda: Item(name="x"))]
""",
        "app/main.py": """\
from typing import Any

from fastapi import BackgroundTasks, Body, Depends, FastAPI, Request

from app.deps import CurrentItem
from app.schemas import Color, Item

app = FastAPI()


@app.post("/items/{item_id}")
async def handler(
    item_id: int,
    request: Request,
    tasks: BackgroundTasks,
    item: Item,
    color: Color,
    extra: dict[str, Any],
    current: CurrentItem,
    note: str = Body(""),
    user=Depends(object),
):
    ...
""",
    }
    ctx = context(files, "app/main.py")
    assert set(body_parameters(function(ctx, "handler"), ctx)) == {"item", "extra", "note"}
