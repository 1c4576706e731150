"""The SQLAlchemy project model: mapped classes, columns, relationships and sessions."""

from __future__ import annotations

import ast
from pathlib import Path

from backend_expert.check import FileContext
from backend_expert.config import Config
from backend_expert.index import build_project, collect_facts, module_names
from backend_expert.parse import parse_text
from backend_expert.sqlalchemy_models import (
    is_sensitive_column,
    session_type,
    sqlalchemy_models,
)


def project_of(files: dict[str, str]):
    names = module_names(files)
    parsed = {rel: parse_text(rel, text) for rel, text in files.items()}
    facts = [collect_facts(p.tree, rel, names[rel], files[rel]) for rel, p in parsed.items()]
    return build_project(facts, "."), parsed


DB = """\
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
AsyncLocal = sessionmaker(bind=create_async_engine("sqlite+aiosqlite://"), class_=AsyncSession)
Made = async_sessionmaker(expire_on_commit=False)


class Base(DeclarativeBase):
    pass


def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


async def get_async():
    async with AsyncLocal() as session:
        yield session
"""

MODELS = """\
from typing import Optional

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from shop.db import Base


class Timestamped:
    created: Mapped[int] = mapped_column(Integer)


class User(Timestamped, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(40))
    hashed_password: Mapped[str]
    posts: Mapped[list["Post"]] = relationship(back_populates="author")
    groups = relationship("Group", lazy="selectin", backref="members")


class Admin(User):
    level: Mapped[int] = mapped_column(default=0)


class Group(Base):
    __tablename__ = "groups"
    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False)
    note = Column(String)
"""

POSTS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from shop.db import Base
from shop.models import User


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(back_populates="posts", lazy="joined")

    @declared_attr
    def editor(cls) -> Mapped["User | None"]:
        return relationship("User", lazy="raise")
"""

FILES = {
    "shop/__init__.py": "",
    "shop/db.py": DB,
    "shop/models.py": MODELS,
    "shop/posts.py": POSTS,
}


def test_models_across_files_with_inheritance():
    project, _ = project_of(FILES)
    models = sqlalchemy_models(project)
    assert set(models.models) == {
        "shop.models.User",
        "shop.models.Admin",
        "shop.models.Group",
        "shop.posts.Post",
    }
    assert models.model("shop.db.Base") is None  # a base is not a model
    admin = project.sqlalchemy_model("shop.models.Admin")
    assert admin is not None and admin.flavour == "declarative"
    # Columns of the mixin and of the parent model are inherited.
    assert {"created", "id", "name", "hashed_password", "level"} <= set(admin.columns)
    assert "posts" in admin.relationships


def test_columns_types_and_nullability():
    project, _ = project_of(FILES)
    user = sqlalchemy_models(project).model("shop.models.User")
    assert user.uses_mapped
    assert user.columns["id"].primary_key and user.columns["id"].nullable is False
    assert user.columns["name"].type == "str" and user.columns["name"].nullable is True
    assert user.columns["name"].sql_type == "String(40)"
    assert user.columns["hashed_password"].sensitive
    group = sqlalchemy_models(project).model("shop.models.Group")
    assert not group.uses_mapped
    assert group.columns["title"].style == "column"
    assert group.columns["title"].nullable is False
    assert group.columns["note"].nullable is True
    assert group.columns["id"].sql_type == "sqlalchemy.Integer"


def test_relationships_targets_and_lazy_strategies():
    project, _ = project_of(FILES)
    models = sqlalchemy_models(project)
    user = models.model("shop.models.User")
    posts = user.relationships["posts"]
    assert posts.target == "shop.posts.Post"  # a string in a Mapped annotation, other file
    assert posts.uselist is True and posts.lazy == "select" and posts.lazy_loads
    assert posts.back_populates == "author"
    assert user.relationships["groups"].target == "shop.models.Group"
    assert user.relationships["groups"].lazy == "selectin"
    post = models.model("shop.posts.Post")
    assert post.relationships["author"].target == "shop.models.User"
    assert post.relationships["author"].lazy == "joined"
    assert post.relationships["author"].uselist is False
    # Declared by a `@declared_attr` method.
    assert post.relationships["editor"].lazy == "raise"
    assert post.relationships["editor"].target == "shop.models.User"
    # `backref="members"` maps the reverse side on the target.
    members = models.model("shop.models.Group").relationships["members"]
    assert members.target == "shop.models.User" and members.lazy == "select"


def test_flask_sqlalchemy_and_sqlmodel_flavours():
    project, _ = project_of(
        {
            "blog/__init__.py": "",
            "blog/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
            "blog/models.py": (
                "from blog.ext import db\n\n\nclass Post(db.Model):\n"
                "    id = db.Column(db.Integer, primary_key=True)\n"
                "    tags = db.relationship('Tag', lazy='dynamic')\n\n\n"
                "class Tag(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
            ),
            "blog/heroes.py": (
                "from sqlmodel import Field, Relationship, SQLModel\n\n\n"
                "class TeamBase(SQLModel):\n    name: str\n\n\n"
                "class Team(TeamBase, table=True):\n"
                "    id: int | None = Field(default=None, primary_key=True)\n"
                '    heroes: list["Hero"] = Relationship(back_populates="team")\n\n\n'
                "class Hero(SQLModel, table=True):\n"
                "    id: int | None = Field(default=None, primary_key=True)\n"
                "    secret_name: str\n"
                '    team: Team | None = Relationship(sa_relationship_kwargs={"lazy": "selectin"})\n'
            ),
        }
    )
    models = sqlalchemy_models(project)
    assert models.model("blog.models.Post").flavour == "flask"
    assert models.model("blog.models.Post").relationships["tags"].lazy == "dynamic"
    assert models.model("blog.models.Post").relationships["tags"].target == "blog.models.Tag"
    assert models.model("blog.heroes.TeamBase") is None  # no table=True: a schema, not a table
    team = models.model("blog.heroes.Team")
    assert team.flavour == "sqlmodel" and team.columns["name"].type == "str"
    assert team.relationships["heroes"].target == "blog.heroes.Hero"
    assert team.relationships["heroes"].lazy == "select"
    hero = models.model("blog.heroes.Hero")
    assert hero.relationships["team"].lazy == "selectin"
    assert hero.columns["id"].nullable is False and hero.columns["secret_name"].type == "str"


def test_declarative_base_call_base():
    project, _ = project_of(
        {
            "app.py": (
                "from sqlalchemy import Column, Integer\n"
                "from sqlalchemy.orm import declarative_base\n\n"
                "Base = declarative_base()\n\n\n"
                "class Item(Base):\n    __tablename__ = 'items'\n"
                "    id = Column(Integer, primary_key=True)\n\n\n"
                "class Plain:\n    id = Column(Integer)\n"
            )
        }
    )
    models = sqlalchemy_models(project)
    assert set(models.models) == {"app.Item"}
    assert models.is_base("app.Base")


def _type_of_names(files: dict[str, str], path: str) -> dict[str, str | None]:
    """The inferred type of every name passed to `probe(...)` in `path`."""
    project, parsed = project_of(files)
    source = parsed[path]
    ctx = FileContext(source, project.by_path[path], project, Config(root=Path(".")))
    found: dict[str, str | None] = {}

    def walk(node: ast.AST, chain: list[ast.AST]) -> None:
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "probe":
            ctx.move_to(chain)
            for arg in node.args:
                found[ast.unparse(arg)] = ctx.type_of(arg)
        for child in ast.iter_child_nodes(node):
            walk(child, [*chain, node])

    walk(source.tree, [])
    return found


def test_session_inference():
    files = dict(FILES)
    files["shop/api.py"] = """\
from contextlib import contextmanager

from fastapi import Depends

from shop.db import AsyncLocal, Made, SessionLocal, get_async, get_db


@contextmanager
def scope():
    session = SessionLocal()
    yield session


def route(db=Depends(get_db)):
    probe(db)


async def async_route(session=Depends(get_async)):
    probe(session)


def jobs():
    a = AsyncLocal()
    b = Made()
    with scope() as c:
        probe(a, b, c, get_db())
"""
    types = _type_of_names(files, "shop/api.py")
    assert types["db"] == "sqlalchemy.orm.Session"
    assert types["session"] == "sqlalchemy.ext.asyncio.AsyncSession"
    assert types["a"] == "sqlalchemy.ext.asyncio.AsyncSession"  # sessionmaker(class_=AsyncSession)
    assert types["b"] == "sqlalchemy.ext.asyncio.AsyncSession"
    assert types["c"] == "sqlalchemy.orm.Session"  # a @contextmanager that yields one
    assert types["get_db()"] != "sqlalchemy.orm.Session"  # a plain generator: not a session
    project, _ = project_of(files)
    assert session_type(project, "shop.db.get_db") == "sqlalchemy.orm.Session"


def test_sensitive_column_names():
    for name in ("password", "hashed_password", "api_key", "apiKey", "client_secret", "token",
                 "refresh_token", "private_key", "otp_secret"):  # fmt: skip
        assert is_sensitive_column(name), name
    for name in ("password_changed_at", "token_count", "max_tokens", "is_secret", "name",
                 "content_hash", "api_key_id", "keyboard"):  # fmt: skip
        assert not is_sensitive_column(name), name


def test_projects_without_sqlalchemy_have_no_facts():
    project, _ = project_of({"app.py": "import os\n\n\ndef f():\n    return os.getcwd()\n"})
    assert all(m.sqlalchemy is None for m in project.modules.values())
    assert sqlalchemy_models(project).models == {}


def test_callable_session_factory_class():
    files = {
        "svc/__init__.py": "",
        "svc/types.py": """\
from contextlib import AbstractAsyncContextManager
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession


class DbFactory:
    def __init__(self, db: Callable[[], AbstractAsyncContextManager[AsyncSession]]) -> None:
        self._db = db

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._db()
""",
        "svc/jobs.py": """\
from svc.types import DbFactory


class Worker:
    def __init__(self, db: DbFactory) -> None:
        self._db = db

    async def run(self):
        async with self._db() as inner:
            probe(inner)


async def job(db: DbFactory):
    async with db() as session:
        probe(session)
""",
    }
    types = _type_of_names(files, "svc/jobs.py")
    assert types["session"] == "sqlalchemy.ext.asyncio.AsyncSession"
    assert types["inner"] == "sqlalchemy.ext.asyncio.AsyncSession"


def test_sqlalchemy_facts_are_part_of_the_cached_digest():
    def digest(text: str) -> str:
        project, _ = project_of({"app.py": text})
        return project.modules["app"].digest()

    base = (
        "from sqlalchemy.orm import declared_attr, relationship\n\n\n"
        "class Mixin:\n    @declared_attr\n    def owner(cls):\n"
        "        return relationship('User', lazy='{lazy}')\n"
    )
    assert digest(base.format(lazy="select")) != digest(base.format(lazy="selectin"))
    moved = base.format(lazy="select").replace("\n\n\nclass", "\n\n\n# a comment\n\nclass")
    assert digest(moved) == digest(base.format(lazy="select"))
