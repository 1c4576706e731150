"""What the examples of BEX301 (sqlalchemy-legacy-query) and BEX601 (async-blocking-call)
cannot say: confidence levels, message contents, version gating, and the inference they rely on."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.discover import _add_requirement
from backend_expert.engine import run_sources
from backend_expert.findings import Confidence


def _check(code: str, sources: dict[str, str], *requirements: str):
    config = Config(root=Path("."), layers=[Selection(select=(code, "core"))])
    dependencies: dict[str, str] = {}
    for line in requirements:
        _add_requirement(line, dependencies)
    result = run_sources(sources, config, dependencies)
    assert not [f for f in result.findings if f.slug == "internal-error"], result.findings
    return sorted((f for f in result.findings if f.code == code), key=lambda f: (f.path, f.line))


# --- BEX301 ------------------------------------------------------------------------------------

TYPED_AND_NAMED = """\
import sqlalchemy
from sqlalchemy.orm import Session

from .models import User


def typed(session: Session):
    return session.query(User).all()


def named(session):
    return session.query(User).all()
"""


def test_legacy_query_confidence_typed_high_named_medium():
    findings = _check("BEX301", {"app.py": TYPED_AND_NAMED})
    assert [(f.line, f.confidence) for f in findings] == [
        (8, Confidence.HIGH),
        (12, Confidence.MEDIUM),
    ]


def test_legacy_query_named_receiver_needs_a_sqlalchemy_module_or_a_mapped_class():
    code = "def named(session):\n    return session.query(User).all()\n"
    # No SQLAlchemy import in the file and `User` unknown: nothing to go on.
    assert _check("BEX301", {"app.py": code, "other.py": "import sqlalchemy\n"}) == []


def test_legacy_query_messages_name_the_2_0_spelling():
    code = """\
from sqlalchemy.orm import Session, joinedload

from .models import User


def chains(session: Session, pk: int):
    session.query(User).filter(User.a == 1).filter(User.b == 2).first()
    session.query(User).get(pk)
    session.query(User).filter(User.a == 1).count()
    session.query(User).options(joinedload(User.items)).all()
    session.query(User.id, User.name).all()
    session.query(User).filter(User.a == 1).update({"a": 2})
"""
    messages = [f.message for f in _check("BEX301", {"app.py": code})]
    assert "`session.scalars(select(User).where(...).limit(1)).first()`" in messages[0]
    assert "`session.get(User, pk)`" in messages[1]
    assert "`session.scalar(select(func.count()).select_from(User).where(...))`" in messages[2]
    assert "`session.scalars(select(User).options(...)).unique().all()`" in messages[3]
    assert "`session.execute(select(User.id, User.name)).all()`" in messages[4]
    assert "`session.execute(update(User).where(...).values(...))`" in messages[5]


FLASK = {
    "shop/__init__.py": "",
    "shop/base.py": """\
from flask_sqlalchemy import SQLAlchemy


class ShopSQLAlchemy(SQLAlchemy):
    pass


db = ShopSQLAlchemy()
""",
    "shop/models.py": """\
from shop.base import db


class Product(db.Model):
    id = db.Column(db.Integer, primary_key=True)
""",
    "shop/views.py": """\
from shop import models
from shop.base import db


def show(pk):
    return models.Product.query.get_or_404(pk)


def names():
    return db.session.query(models.Product).all()
""",
}


def test_legacy_query_flask_sqlalchemy_subclass_and_module_attribute_models():
    findings = _check("BEX301", FLASK)
    assert [(f.path, f.line) for f in findings] == [("shop/views.py", 6), ("shop/views.py", 10)]
    assert "`db.get_or_404(models.Product, pk)`" in findings[0].message
    assert all(f.confidence is Confidence.HIGH for f in findings)


def test_legacy_query_no_flask_helpers_suggested_below_flask_sqlalchemy_3():
    findings = _check("BEX301", FLASK, "flask-sqlalchemy==2.5.1", "sqlalchemy==1.4.52")
    assert "`db.session.get(models.Product, pk) or abort(404)`" in findings[0].message
    assert "db.get_or_404" not in findings[0].message


def test_legacy_query_is_off_when_sqlalchemy_is_pinned_below_1_4():
    assert _check("BEX301", FLASK, "sqlalchemy==1.3.24") == []


def test_legacy_query_session_from_init_parameter_and_factory_call():
    code = """\
from sqlalchemy.orm import Session, sessionmaker

from .models import User

engine = object()


class Repo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def all(self):
        return self.session.query(User).all()


def once():
    session = sessionmaker(bind=engine)()
    return session.query(User).all()
"""
    findings = _check("BEX301", {"app.py": code})
    assert [(f.line, f.confidence) for f in findings] == [
        (13, Confidence.HIGH),
        (18, Confidence.HIGH),
    ]


# --- BEX601 ------------------------------------------------------------------------------------


def test_blocking_call_messages_name_the_async_replacement():
    code = """\
import os
import socket
import subprocess
import time
import urllib.request

import httpx
import psycopg2
import requests


async def handler():
    requests.post("https://x", timeout=1)
    httpx.get("https://x")
    urllib.request.urlopen("https://x")
    time.sleep(2)
    subprocess.check_output(["ls"])
    os.system("ls")
    psycopg2.connect("dbname=x")
    socket.create_connection(("x", 1))
"""
    messages = [f.message for f in _check("BEX601", {"app.py": code})]
    expected = [
        "httpx.AsyncClient",
        "httpx.AsyncClient",
        "httpx.AsyncClient",
        "asyncio.sleep",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "asyncpg",
        "asyncio.open_connection",
    ]
    assert len(messages) == len(expected)
    for message, replacement in zip(messages, expected, strict=True):
        assert replacement in message


def test_blocking_call_one_finding_per_session_with_a_count():
    code = """\
from sqlalchemy import select
from sqlalchemy.orm import Session


async def handler(db: Session):
    db.execute(select(1))
    db.add(object())
    db.flush()
    db.commit()
"""
    findings = _check("BEX601", {"app.py": code})
    assert [f.line for f in findings] == [6]
    assert "and 2 more blocking calls on `db`" in findings[0].message
    assert findings[0].confidence is Confidence.HIGH


def test_blocking_call_confidence_file_io_medium_and_tests_medium():
    app = "async def read(path):\n    with open(path) as f:\n        return f.read()\n"
    test = "import time\n\n\nasync def test_wait():\n    time.sleep(1)\n"
    findings = _check("BEX601", {"app.py": app, "tests/test_wait.py": test})
    assert [(f.path, f.confidence) for f in findings] == [
        ("app.py", Confidence.MEDIUM),
        ("tests/test_wait.py", Confidence.MEDIUM),
    ]


def test_blocking_call_route_hint_for_sync_sessions_in_fastapi_routes():
    code = """\
from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from .deps import get_db

router = APIRouter()


@router.get("/")
async def index(db: Session = Depends(get_db)):
    return db.execute(text("SELECT 1")).all()
"""
    (finding,) = _check("BEX601", {"app.py": code})
    assert "plain `def`" in finding.message


def test_blocking_call_not_in_defaults_decorators_or_async_session():
    code = """\
import time

from sqlalchemy.ext.asyncio import AsyncSession


def slow_default():
    return 1


async def handler(session: AsyncSession, at=time.time()):
    await session.execute("SELECT 1")
    session.add(object())
    await session.commit()
"""
    assert _check("BEX601", {"app.py": code}) == []


def test_blocking_call_sleep_zero_is_not_blocking():
    code = "import time\n\n\nasync def tick():\n    time.sleep(0)\n"
    assert _check("BEX601", {"app.py": code}) == []


def test_legacy_query_with_session_context_manager_and_sqlmodel_subclass():
    code = """\
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from .models import User

engine = create_engine("sqlite://")


def names():
    with Session(engine) as s:
        return s.query(User).all()
"""
    (finding,) = _check("BEX301", {"app.py": code})
    assert finding.confidence is Confidence.HIGH
    assert "`s.scalars(select(User)).all()`" in finding.message
