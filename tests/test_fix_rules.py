"""The fixes bex's own rules offer, case by case: what is rewritten, and what is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.fixes import fix_sources


def fix(files: dict[str, str] | str, code: str, deps: dict[str, str]) -> dict[str, str]:
    sources = {"app.py": files} if isinstance(files, str) else files
    config = Config(root=Path("."), layers=[Selection(select=(code,))])
    outcomes = fix_sources(sources, config, deps, unsafe=True)
    assert not [f for o in outcomes.values() for f in o.failed]
    LAST["remaining"] = [f.code for o in outcomes.values() for f in o.remaining]
    return {path: o.text for path, o in outcomes.items()}


LAST: dict[str, list[str]] = {}


FASTAPI = {"fastapi": ""}
SQLALCHEMY = {"sqlalchemy": ">=2"}


def on_event(text: str) -> str:
    return fix(text, "BEX101", FASTAPI)["app.py"]


# --- fastapi-on-event --------------------------------------------------------------------------


def test_handlers_merge_into_one_lifespan_in_registration_order():
    text = """\
from fastapi import FastAPI

app = FastAPI(title="shop")


def warm() -> None:
    ...


@app.on_event("startup")
async def connect():
    ...


@app.on_event("shutdown")
def flush():
    ...


app.add_event_handler("startup", warm)
"""
    assert (
        on_event(text)
        == """\
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    await connect()
    warm()
    yield
    flush()


app = FastAPI(title="shop", lifespan=lifespan)


def warm() -> None:
    ...


async def connect():
    ...


def flush():
    ...


"""
    )


@pytest.mark.parametrize(
    "text",
    [
        # an existing lifespan: FastAPI ignores the handler, and merging is a judgement call
        'from fastapi import FastAPI\nfrom .life import lifespan\napp = FastAPI(lifespan=lifespan)\n\n@app.on_event("startup")\nasync def s():\n    ...\n',
        # a router's handler in the same module would stop running too
        'from fastapi import APIRouter, FastAPI\napp = FastAPI()\nrouter = APIRouter()\n\n@app.on_event("startup")\nasync def s():\n    ...\n\n@router.on_event("startup")\nasync def r():\n    ...\n',
        # a handler with parameters, or another decorator
        'from fastapi import FastAPI\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s(x=1):\n    ...\n',
        'from fastapi import FastAPI\nimport functools\napp = FastAPI()\n\n@app.on_event("startup")\n@functools.cache\ndef s():\n    ...\n',
        # the name `lifespan` is taken
        'from fastapi import FastAPI\nlifespan = None\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s():\n    ...\n',
        # the app is built with **kwargs that may hold a lifespan
        'from fastapi import FastAPI\nopts = {}\napp = FastAPI(**opts)\n\n@app.on_event("startup")\nasync def s():\n    ...\n',
        # a handler defined in another module
        'from fastapi import FastAPI\nfrom .jobs import warm\napp = FastAPI()\napp.add_event_handler("startup", warm)\n',
    ],
)
def test_on_event_is_not_fixed_when_something_would_be_lost(text):
    assert on_event(text) == text
    assert "BEX101" in LAST["remaining"]  # still reported, only not fixed


def test_on_event_is_not_fixed_when_another_module_registers_handlers():
    files = {
        "svc/__init__.py": "",
        "svc/main.py": 'from fastapi import FastAPI\napp = FastAPI()\n\n@app.on_event("startup")\nasync def s():\n    ...\n',
        "svc/other.py": 'from svc.main import app\n\n@app.on_event("shutdown")\nasync def t():\n    ...\n',
    }
    assert fix(files, "BEX101", FASTAPI) == files
    assert "BEX101" in LAST["remaining"]


# --- sqlalchemy-legacy-query -------------------------------------------------------------------

HEAD = "from sqlalchemy.orm import Session\n\nfrom .models import Address, User\n\n\ndef f(session: Session):\n"


def legacy(body: str, head: str = HEAD) -> str:
    text = fix(head + body, "BEX301", SQLALCHEMY)["app.py"]
    return text[text.index("def f(") :].partition("\n")[2]


@pytest.mark.parametrize(
    "body,expected",
    [
        (
            "    return session.query(User).filter(User.id > 3).first()\n",
            "    return session.scalars(select(User).where(User.id > 3).limit(1)).first()\n",
        ),
        (
            "    return session.query(User).filter_by(name='x').filter(User.a, User.b).one()\n",
            "    return session.scalars(select(User).filter_by(name='x').where(User.a, User.b)).one()\n",
        ),
        (
            "    return session.query(User).filter(User.id == 1).scalar()\n",
            "    return session.execute(select(User).where(User.id == 1)).scalar_one_or_none()\n",
        ),
        (
            "    return session.query(User.id, User.name).order_by(User.id).all()\n",
            "    return session.execute(select(User.id, User.name).order_by(User.id)).all()\n",
        ),
        (
            "    return session.query(User).join(Address).filter(Address.ok).count()\n",
            "    return session.query(User).join(Address).filter(Address.ok).count()\n",  # joins: count differs
        ),
        (
            "    return session.query(User).filter(User.ok).count()\n",
            "    return session.scalar(select(func.count()).select_from(User).where(User.ok))\n",
        ),
        (
            "    for user in session.query(User).filter(User.ok):\n        print(user)\n",
            "    for user in session.scalars(select(User).where(User.ok)):\n        print(user)\n",
        ),
        (
            "    return [u.id for u in session.query(User)]\n",
            "    return [u.id for u in session.scalars(select(User))]\n",
        ),
        # a Query handed on: its users call Query methods
        (
            "    return session.query(User).filter(User.ok)\n",
            "    return session.query(User).filter(User.ok)\n",
        ),
        # edited in place: layout and comments stay
        (
            "    return (\n        session.query(User)  # all of them\n        .filter(User.ok)\n        .first()\n    )\n",
            "    return (\n        session.scalars(select(User)  # all of them\n        .where(User.ok).limit(1))\n        .first()\n    )\n",
        ),
        # an aliased() class or a Table under a lowercase name: rows or objects? not fixed
        (
            "    return session.query(user_alias).all()\n",
            "    return session.query(user_alias).all()\n",
        ),
        # a local `select` would shadow the import
        (
            "    select = 1\n    return session.query(User).all()\n",
            "    select = 1\n    return session.query(User).all()\n",
        ),
        # methods outside the rewritable set
        (
            "    return session.query(User).with_entities(User.id).all()\n",
            "    return session.query(User).with_entities(User.id).all()\n",
        ),
    ],
)
def test_legacy_query_chains(body, expected):
    assert legacy(body) == expected
    if body == expected:
        assert "BEX301" in LAST["remaining"]  # still reported, only not fixed


def test_legacy_query_adds_imports_once_and_reuses_existing_ones():
    head = "from sqlalchemy import func\nfrom sqlalchemy.orm import Session\n\nfrom .models import User\n\n\ndef f(session: Session):\n"
    body = (
        "    a = session.query(User).count()\n    b = session.query(User).all()\n    return a, b\n"
    )
    text = fix(head + body, "BEX301", SQLALCHEMY)["app.py"]
    assert text.startswith(
        "from sqlalchemy import func, select\nfrom sqlalchemy.orm import Session\n"
    )
    assert "a = session.scalar(select(func.count()).select_from(User))" in text
    assert "b = session.scalars(select(User)).all()" in text


def test_legacy_query_keeps_a_select_imported_from_elsewhere_alone():
    head = "from sqlmodel import select\nfrom sqlalchemy.orm import Session\n\nfrom .models import User\n\n\ndef f(session: Session):\n"
    body = "    return session.query(User).all()\n"
    assert legacy(body, head) == body
    assert "BEX301" in LAST["remaining"]


FLASK = {
    "blog/__init__.py": "",
    "blog/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
    "blog/models.py": "from blog.ext import db\n\n\nclass Post(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n",
}


def test_flask_model_query():
    views = (
        "from blog.ext import db\nfrom blog.models import Post\n\n\n"
        "def one(slug):\n    return Post.query.filter_by(slug=slug).first()\n\n\n"
        "def show(pk):\n    return Post.query.get_or_404(pk)\n"
    )
    fixed = fix({**FLASK, "blog/views.py": views}, "BEX301", {"flask-sqlalchemy": ">=3"})
    assert fixed["blog/views.py"] == (
        "from blog.ext import db\nfrom blog.models import Post\nfrom sqlalchemy import select\n\n\n"
        "def one(slug):\n    return db.session.scalars(select(Post).filter_by(slug=slug).limit(1)).first()\n\n\n"
        "def show(pk):\n    return db.get_or_404(Post, pk)\n"
    )


def test_flask_model_query_without_db_in_scope_is_left_alone():
    views = "from blog.models import Post\n\n\ndef one():\n    return Post.query.all()\n"
    fixed = fix({**FLASK, "blog/views.py": views}, "BEX301", {"flask-sqlalchemy": ">=3"})
    assert fixed["blog/views.py"] == views
    assert "BEX301" in LAST["remaining"]
