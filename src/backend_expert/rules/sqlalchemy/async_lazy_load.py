"""Reading a lazy relationship in `async def` on objects loaded without an eager option."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._loading import (
    Loaded,
    loading,
    loop_binding,
    refreshed_or_set,
    relationship_names,
)
from backend_expert.rules.sqlalchemy._orm import skipped_path
from backend_expert.rules.sqlalchemy._responses import response_schema, schema_fields
from backend_expert.web import fastapi_route

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    posts: Mapped[list["Post"]] = relationship(back_populates="author")
    teams: Mapped[list["Team"]] = relationship(lazy="selectin")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author: Mapped[User] = relationship(back_populates="posts")


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
"""


def loaded_object(ctx: FileContext, function: ast.AST, name: str) -> Loaded | None:
    """How the objects `name` holds here were loaded (in a loop or comprehension, its rows)."""
    found = loading(ctx, function)  # type: ignore[arg-type]
    binding = loop_binding(ctx, name)
    if isinstance(binding, ast.comprehension):
        return found.element(binding.iter)
    return found.loaded(ast.Name(id=name))


class AsyncLazyLoad(Rule):
    code = "BEX304"
    slug = "sqlalchemy-async-lazy-load"
    pack = "sqlalchemy"
    skip_tests = True
    severity = Severity.ERROR
    category = "correctness"
    frameworks = ("sqlalchemy", "sqlmodel")
    min_versions = {"sqlalchemy": "1.4"}
    summary = "Lazy-loaded relationship read in `async` code (raises `MissingGreenlet`)"
    hint = (
        "Load it with the query (`.options(selectinload(Model.rel))`), declare "
        '`lazy="selectin"`, or read it with `await obj.awaitable_attrs.rel`.'
    )
    explanation = Explanation(
        what=(
            "Flags, inside `async def`, a read of a relationship attribute (`user.posts`) on "
            "objects that an `AsyncSession` loaded in the same function (`session.get`, "
            "`session.scalars(stmt)`, `(await session.execute(stmt)).scalars().all()`, "
            "`.scalar_one()`...) when the relationship loads lazily (the default "
            '`lazy="select"`) and the statement asked for no loader option on it. Objects '
            "and statements bex cannot follow, relationships declared `selectin`/`joined`/"
            "`raise`, options such as `selectinload`/`joinedload`/`subqueryload`/"
            "`contains_eager`/`raiseload` on the attribute, `await obj.awaitable_attrs.x`, "
            "and objects passed to `session.refresh()` are not reported. A FastAPI route that "
            "returns such objects is flagged too when its response model has a field named "
            "like a lazy relationship: serialising the response reads it."
        ),
        why=(
            "A lazy load is a query SQLAlchemy runs implicitly when the attribute is first "
            "read. Under asyncio there is no implicit I/O: the attribute access is plain "
            "synchronous Python, so SQLAlchemy cannot await the query and raises "
            '`MissingGreenlet` ("greenlet_spawn has not been called"). The error appears only '
            "at run time, often only for rows whose relationship was not already in the "
            "identity map, which makes it easy to miss in tests."
        ),
        use_instead=(
            "Say what to load with the statement: `select(User).options(selectinload(User.posts))`"
            " (collections) or `joinedload(Post.author)` (many-to-one); declare the default on "
            'the relationship with `lazy="selectin"` when it is almost always needed, or '
            '`lazy="raise"` to make every unplanned load fail loudly; for a one-off read, add '
            "`AsyncAttrs` to the base and write `await user.awaitable_attrs.posts`."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
        ),
    )
    fire = (
        Example(
            title="a relationship read after `session.get` and after `execute(...).scalars()`",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/views.py": """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Post, User


async def titles(session: AsyncSession, user_id: int) -> list[str]:
    user = await session.get(User, user_id)
    return [post.title for post in user.posts]  # flagged


async def authors(session: AsyncSession) -> list[str]:
    stmt = select(Post).where(Post.id > 10)
    posts = (await session.execute(stmt)).scalars().all()
    return [post.author.name for post in posts]  # flagged
""",
            },
        ),
        Example(
            title="eager-loaded `author`, but `posts` of each author is still lazy",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/views.py": """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.models import Post


async def feed(session: AsyncSession):
    result = await session.scalars(select(Post).options(joinedload(Post.author)))
    for post in result:
        print(post.author.id, post.author_id)
        print(len(post.author.posts))
    first = await session.scalar(select(Post).limit(1))
    return first.author  # flagged
""",
            },
        ),
        Example(
            title="a session from a project's session-factory class, in a worker method",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/db.py": """\
from contextlib import AbstractAsyncContextManager
from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession


class DbSessionFactory:
    def __init__(self, db: Callable[[], AbstractAsyncContextManager[AsyncSession]]) -> None:
        self._db = db

    def __call__(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self._db()
""",
                "app/worker.py": """\
from sqlalchemy import select

from app.db import DbSessionFactory
from app.models import User


class Mailer:
    def __init__(self, db: DbSessionFactory) -> None:
        self._db = db

    async def digest(self) -> int:
        async with self._db() as session:
            users = await session.scalars(select(User).where(User.id > 0))
            return sum(len(user.posts) for user in users)  # flagged
""",
            },
        ),
        Example(
            title="an async route whose response model serialises a lazy relationship",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/api.py": """\
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.db import get_session
from app.models import User

router = APIRouter()


class PostOut(BaseModel):
    id: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    posts: list[PostOut]


@router.get("/users/{user_id}", response_model=UserOut)
async def read_user(user_id: int, session: AsyncSession = Depends(get_session)):
    return await session.get(User, user_id)  # flagged


@router.get("/users")
async def list_users(session: AsyncSession = Depends(get_session)) -> list[UserOut]:
    result = await session.execute(select(User).options(selectinload(User.posts)))
    return result.scalars().all()
""",
            },
        ),
    )
    clean = (
        Example(
            title='near miss: eager loading with the statement, `lazy="selectin"`, awaitable_attrs',
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/views.py": """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload, selectinload

from app.models import Post, User


async def users(session: AsyncSession):
    stmt = select(User).options(selectinload(User.posts))
    stmt = stmt.where(User.id > 0)
    users = (await session.execute(stmt)).scalars().all()
    for user in users:
        print(user.posts, user.teams)
    one = await session.get(User, 1, options=[raiseload("*")])
    print(one.posts)
    two = await session.get(User, 2)
    print(await two.awaitable_attrs.posts)
    three = await session.get(User, 3)
    await session.refresh(three, ["posts"])
    return three.posts
""",
            },
        ),
        Example(
            title="near miss: a sync session, an unknown option, a statement built elsewhere",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/views.py": """\
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.models import User

from .queries import user_statement, with_posts


async def in_threadpool(session: Session):
    user = session.get(User, 1)
    return user.posts


async def options(session: AsyncSession):
    user = await session.scalar(select(User).options(*with_posts()))
    built = await session.scalar(user_statement())
    return user.posts, built.posts


async def fresh(session: AsyncSession):
    user = User()
    session.add(user)
    return user.posts
""",
            },
        ),
    )

    @visit(ast.Attribute)
    def check_attribute(self, node: ast.Attribute, ctx: FileContext) -> None:
        value = node.value
        if value.__class__ is not ast.Name or not isinstance(node.ctx, ast.Load):
            return
        if node.attr not in relationship_names(ctx) or skipped_path(ctx):
            return
        function = ctx.enclosing_function()
        if not isinstance(function, ast.AsyncFunctionDef):
            return
        name = value.id  # type: ignore[attr-defined]
        loaded = loaded_object(ctx, function, name)
        if loaded is None or loaded.flavour != "async":
            return
        relation = loaded.lazy_relationship(node.attr)
        if relation is None or refreshed_or_set(ctx, function, name, node.attr):
            return
        seen = ctx.__dict__.setdefault("_bex304_seen", set())
        key = (id(function), name, node.attr)
        if key in seen:
            return
        seen.add(key)
        model = loaded.model.name
        ctx.report(
            node,
            f"`{name}.{node.attr}` lazy-loads `{model}.{node.attr}` inside `async def`: "
            "SQLAlchemy cannot await that implicit query and raises `MissingGreenlet`; load it "
            f"with the statement (`selectinload({model}.{node.attr})`) or read it with "
            f"`await {name}.awaitable_attrs.{node.attr}`",
            confidence=Confidence.HIGH if relation.uselist is not False else Confidence.MEDIUM,
        )

    @visit(ast.Return)
    def check_return(self, node: ast.Return, ctx: FileContext) -> None:
        """`return user` from an async route whose response model reads a lazy relationship."""
        if node.value is None or not relationship_names(ctx):
            return
        function = ctx.enclosing_function()
        if not isinstance(function, ast.AsyncFunctionDef) or skipped_path(ctx):
            return
        route = fastapi_route(function, ctx)
        schema = response_schema(route, ctx) if route is not None else None
        if schema is None:
            return
        loaded = loading(ctx, function).value(node.value)
        if not isinstance(loaded, Loaded) or loaded.flavour != "async":
            return
        fields = schema_fields(ctx.project, schema)
        lazy = sorted(name for name in fields if loaded.lazy_relationship(name) is not None)
        if not lazy:
            return
        model = loaded.model.name
        shown = ", ".join(f"`{name}`" for name in lazy[:3])
        ctx.report(
            node,
            f"The response model `{schema.rpartition('.')[2]}` reads {shown} of the returned "
            f"`{model}`, lazy-loaded after the handler returned: serialising it raises "
            f"`MissingGreenlet`; load {'them' if len(lazy) > 1 else 'it'} with the query "
            f"(`selectinload({model}.{lazy[0]})`)",
        )
