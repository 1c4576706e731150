"""The data-flow classifier on its own: kinds and origins of values, and assembled strings.

Each snippet marks the expressions to classify as the argument of a call to `sink(...)`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend_expert.check import FileContext
from backend_expert.config import Config
from backend_expert.dataflow import Kind, Source, Text, source_of, text_of, worst
from backend_expert.index import build_project, collect_facts, module_name
from backend_expert.parse import parse_text


def _contexts(code: str, files: dict[str, str] | None = None):
    """Yield (ctx, argument) for every `sink(argument)` call in app.py, ancestors in place."""
    sources = {"app.py": code, **(files or {})}
    packages = {rel.rpartition("/")[0] for rel in sources if rel.endswith("__init__.py")}
    parsed = {rel: parse_text(rel, text) for rel, text in sources.items()}
    facts = [
        collect_facts(source.tree, rel, module_name(rel, packages))
        for rel, source in parsed.items()
    ]
    project = build_project(facts, ".")
    source = parsed["app.py"]
    ctx = FileContext(source, project.by_path["app.py"], project, Config(root=Path(".")))

    def walk(node: ast.AST, chain: list[ast.AST]):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "sink"
        ):
            ctx.move_to([*chain])
            yield ctx, node.args[0]
        for child in ast.iter_child_nodes(node):
            yield from walk(child, [*chain, node])

    yield from walk(source.tree, [])


def sources(code: str, files: dict[str, str] | None = None) -> list[Source]:
    return [source_of(argument, ctx) for ctx, argument in _contexts(code, files)]


def texts(code: str) -> list[Text | None]:
    return [text_of(argument, ctx) for ctx, argument in _contexts(code)]


def kinds(code: str, files: dict[str, str] | None = None) -> list[Kind]:
    return [source.kind for source in sources(code, files)]


# --- constants ---------------------------------------------------------------------------------


def test_literals_module_constants_and_numbers_are_constant():
    code = """\
TABLE = "users"
LIMITS = (10, 20)

def f(ids, n):
    sink("x")
    sink(TABLE)
    sink(LIMITS[0])
    sink(len(ids))
    sink(int(n))
    sink(n - 1)
    sink(n > 3)
    sink(", ".join(["%s"] * len(ids)))
    sink(",".join("?" * len(ids)))
    sink(", ".join("%s" for _ in ids))
    sink(f"{n:d}")
"""
    assert kinds(code) == [Kind.CONSTANT] * 11


def test_constant_imported_from_another_module():
    files = {"pkg/__init__.py": "", "pkg/consts.py": 'TABLE = "audit"\n'}
    code = """\
from pkg.consts import TABLE
from pkg import consts

def f():
    sink(TABLE)
    sink(consts.TABLE)
"""
    assert kinds(code, files) == [Kind.CONSTANT, Kind.CONSTANT]


def test_class_constant_and_loop_over_constants():
    code = """\
COLUMNS = ("id", "name")

class Repo:
    table = "items"

    def f(self):
        sink(self.table)
        for column in COLUMNS:
            sink(column)
        sink([c.upper() for c in COLUMNS])
"""
    assert kinds(code) == [Kind.CONSTANT] * 3


# --- parameters and request data ---------------------------------------------------------------


def test_parameter_of_a_plain_function_is_named():
    (source,) = sources("def search_products(term):\n    sink(term)\n")
    assert source.kind == Kind.PARAMETER
    assert source.origin == "parameter `term` of `search_products`"


def test_parameter_followed_through_local_variables():
    code = """\
def f(term, flag):
    q = term.strip().lower()
    pattern = f"%{q}%"
    sink(pattern)
    x = "a"
    if flag:
        x = term
    sink(x)
"""
    first, second = sources(code)
    assert first.kind == second.kind == Kind.PARAMETER
    assert "`term`" in first.origin and "`term`" in second.origin


def test_typed_parameters_are_not_text():
    code = """\
import enum
from typing import Literal
from uuid import UUID

class Sort(enum.Enum):
    NAME = "name"

def f(a: int, b: UUID, c: list[int], d: Literal["asc", "desc"], e: Sort, g: int | None = None):
    sink(a)
    sink(b)
    sink(c)
    sink(g)
    sink(d)
    sink(e)
"""
    assert kinds(code) == [Kind.CONSTANT] * 4 + [Kind.SAFE_IDENTIFIER] * 2


def test_self_attributes_and_calls_are_unknown():
    code = """\
def helper():
    return "x"

class Repo:
    def f(self):
        sink(self.table)
        sink(helper())
        sink(self)
"""
    found = sources(code)
    assert [s.kind for s in found] == [Kind.UNKNOWN] * 3
    assert found[0].origin == "`self.table`"
    assert found[1].origin == "the result of `helper()`"


def test_fastapi_route_parameters_are_request_data():
    code = """\
from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

app = FastAPI()

@app.get("/items")
async def list_items(sort: str, request: Request, limit: int = 10, db: Session = Depends()):
    sink(sort)
    sink(limit)
    sink(db)
    sink(request.query_params["q"])
    sink(request.url)
    body = await request.json()
    sink(body["name"])
"""
    found = sources(code)
    assert [s.kind for s in found] == [
        Kind.REQUEST,
        Kind.CONSTANT,
        Kind.UNKNOWN,
        Kind.REQUEST,
        Kind.UNKNOWN,
        Kind.REQUEST,
    ]
    assert found[0].origin == "request parameter `sort` of route `list_items`"
    assert found[3].origin == "`request.query_params['q']`"


def test_flask_and_django_request_data():
    code = """\
from flask import Flask, request

app = Flask(__name__)

@app.route("/search/<int:page>/<name>")
def search(page, name):
    sink(request.args["q"])
    sink(request.args.get("q", ""))
    sink(request.get_json()["x"])
    sink(request.form.get("q").strip())
    sink(name)

def django_view(request, pk):
    sink(request.GET["q"])
    sink(request.POST.get("q"))
    sink(request.user.username)
"""
    found = sources(code)
    assert [s.kind for s in found] == [Kind.REQUEST] * 7 + [Kind.UNKNOWN]
    assert found[0].origin == "`request.args['q']`"
    assert found[1].origin == "`request.args.get('q', '')`"
    assert found[4].origin == "request parameter `name` of route `search`"


# --- safe identifiers --------------------------------------------------------------------------


def test_whitelist_checks_make_a_value_safe_after_the_check():
    code = """\
ALLOWED = {"name", "price"}

def f(col, other, third):
    sink(col)
    if col not in ALLOWED:
        raise ValueError(col)
    sink(col)
    assert other in ("a", "b")
    sink(other)
    if third in ALLOWED:
        sink(third)
    sink(third)
"""
    assert kinds(code) == [
        Kind.PARAMETER,
        Kind.SAFE_IDENTIFIER,
        Kind.SAFE_IDENTIFIER,
        Kind.SAFE_IDENTIFIER,
        Kind.PARAMETER,
    ]


def test_lookups_quoting_and_model_metadata_are_safe():
    code = """\
from django.db import connection
from psycopg2 import sql

SORTS = {"new": "created DESC", "old": "created ASC"}

def f(key, model, name):
    sink(SORTS[key])
    sink(SORTS.get(key, "id"))
    sink(connection.ops.quote_name(name))
    sink(sql.Identifier(name))
    sink(model._meta.db_table)
    sink(model.__tablename__)
    sink(name if name in SORTS else "id")
"""
    found = sources(code)
    assert [s.kind for s in found] == [Kind.SAFE_IDENTIFIER] * 7
    assert found[0].origin == "a lookup in the constant `SORTS`"


# --- strings assembled in the function ---------------------------------------------------------


def test_text_of_an_fstring_has_fragments_and_holes():
    (text,) = texts("def f(x):\n    sink(f\"SELECT * FROM t WHERE a = '{x}' LIMIT {10}\")\n")
    assert text is not None and text.dynamic
    assert text.constant_text == "SELECT * FROM t WHERE a = '?' LIMIT ?"
    holes = text.holes
    assert [hole.source.kind for hole in holes] == [Kind.PARAMETER, Kind.CONSTANT]
    assert text.before(holes[0]).endswith("a = '")
    assert text.after(holes[0]).startswith("' LIMIT")


def test_text_follows_assignments_augmented_assignments_and_joins():
    code = """\
def f(status, filters):
    sql = "SELECT * FROM orders WHERE 1 = 1"
    if status:
        sql += f" AND status = '{status}'"
    conditions = []
    for key, value in filters.items():
        conditions.append(f"{key} = %s")
    sql += " AND " + " AND ".join(conditions)
    sink(sql)
"""
    (text,) = texts(code)
    assert text is not None
    assert text.constant_text.startswith("SELECT * FROM orders WHERE 1 = 1 AND status = '?'")
    kinds_found = [hole.source.kind for hole in text.holes]
    assert kinds_found == [Kind.PARAMETER, Kind.PARAMETER]
    assert "`filters.items()`" in text.holes[1].source.origin


def test_text_of_percent_and_format():
    code = """\
def f(a, b, n):
    sink("SELECT %s FROM t WHERE x = '%s' LIMIT %d" % (a, b, n))
    sink("SELECT {} FROM t WHERE x = '{name}' LIMIT {n:d}".format(a, name=b, n=n))
"""
    first, second = texts(code)
    for text in (first, second):
        assert text is not None
        assert [hole.source.kind for hole in text.holes] == [
            Kind.PARAMETER,
            Kind.PARAMETER,
            Kind.CONSTANT,
        ]
        assert text.constant_text == "SELECT ? FROM t WHERE x = '?' LIMIT ?"


def test_text_is_none_for_values_not_assembled_here():
    code = """\
from sqlalchemy import text

def f(query, build):
    sink(query)
    sink(build())
    sink(text("SELECT 1"))
    sink("SELECT 1")
"""
    found = texts(code)
    assert found[:3] == [None, None, None]
    assert found[3] is not None and not found[3].dynamic


def test_worst_picks_the_most_dangerous_source():
    a = Source(Kind.CONSTANT, "a")
    b = Source(Kind.PARAMETER, "b")
    c = Source(Kind.UNKNOWN, "c")
    assert worst([a, b, c]) is b
    assert worst([]).kind == Kind.CONSTANT


@pytest.mark.parametrize(
    "snippet",
    [
        "def f(x):\n    x = x + 1\n    sink(x)\n",
        "def f():\n    a = b\n    b = a\n    sink(a)\n",
        "def f(s):\n    s += s\n    sink(s)\n",
    ],
)
def test_cycles_terminate(snippet):
    assert len(sources(snippet)) == 1
    assert len(texts(snippet)) == 1


def test_enum_members_are_safe():
    files = {
        "pkg/__init__.py": "",
        "pkg/enums.py": "import enum\n\nclass Kind(enum.Enum):\n    A = 'a'\n",
    }
    code = """\
import enum
from pkg.enums import Kind

class Sort(str, enum.Enum):
    NAME = "name"

    def column(self):
        sink(self.value)

def f():
    sink(Sort.NAME.value)
    sink(Kind.A.value)
"""
    assert kinds(code, files) == [Kind.SAFE_IDENTIFIER] * 3


def test_quoting_through_a_local_alias():
    code = """\
from django.db import connection

def f(name):
    qn = connection.ops.quote_name
    sink(qn(name))
"""
    assert kinds(code) == [Kind.SAFE_IDENTIFIER]
