"""A route that returns an ORM object with a secret column and no response schema to filter it."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.fastapi_routes import route_handlers
from backend_expert.fastapi_scope import top_function
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._loading import loading
from backend_expert.sqlalchemy_models import Model, sqlalchemy_models

# Return annotations that let any object through (no field filtering).
OPEN_TYPES = frozenset({"typing.Any", "builtins.object", "builtins.dict", "None"})

MODELS = """\
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    hashed_password: Mapped[str]
    api_key: Mapped[str | None]
"""


class SensitiveResponse(Rule):
    code = "BEX107"
    slug = "fastapi-sensitive-response"
    pack = "fastapi"
    severity = Severity.ERROR
    category = "security"
    frameworks = ("fastapi",)
    skip_tests = True
    cwe = 200
    security_severity = 6.5
    summary = "A route returns an ORM object with a secret column and no response model"
    hint = "Declare `response_model=UserOut` (or `-> UserOut`) with the public fields only."
    explanation = Explanation(
        what=(
            "Flags a `return` in a FastAPI route of a SQLAlchemy/SQLModel object (or a list of "
            "them) whose model has a column holding a secret (password or its hash, token, API "
            "key, secret, OTP...), when the route has no `response_model` and no return "
            "annotation that would filter the fields. Models are followed across files."
        ),
        why=(
            "Without a response model FastAPI serialises the object with `jsonable_encoder`, "
            "which walks every attribute it can read: the password hash, reset tokens and API "
            "keys go to every client of the endpoint (CWE-200). A schema with only the public "
            "fields is the filter; it also documents the response in OpenAPI."
        ),
        use_instead=(
            "A Pydantic output schema (`class UserOut(BaseModel): id: int; email: str` with "
            "`from_attributes=True`) as `response_model=` or as the return annotation."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/response-model/",
            "https://cwe.mitre.org/data/definitions/200.html",
        ),
    )
    fire = (
        Example(
            title="a user row returned as is",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/api.py": """\
from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import User

router = APIRouter(prefix="/users")


@router.get("/{user_id}")
async def read_user(user_id: int, session: AsyncSession = Depends(get_session)):
    return await session.get(User, user_id)  # flagged


@router.get("/")
async def list_users(session: AsyncSession = Depends(get_session)):
    result = await session.execute(select(User))
    return result.scalars().all()  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: a response model, a schema return type, a model without secrets",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS
                + """

class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
""",
                "app/api.py": """\
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Tag, User

router = APIRouter(prefix="/users")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str


@router.get("/{user_id}", response_model=UserOut)
async def read_user(user_id: int, session: AsyncSession = Depends(get_session)):
    return await session.get(User, user_id)


@router.get("/me/profile")
async def me(session: AsyncSession = Depends(get_session)) -> UserOut:
    return await session.get(User, 1)


@router.get("/tags/{tag_id}")
async def tag(tag_id: int, session: AsyncSession = Depends(get_session)):
    return await session.get(Tag, tag_id)
""",
            },
        ),
    )

    @visit(ast.Return)
    def check_return(self, node: ast.Return, ctx: FileContext) -> None:
        if node.value is None:
            return
        function = top_function(ctx)
        if function is None or ctx.enclosing_function() is not function:
            return
        routes = route_handlers(ctx.project).get(f"{ctx.module}.{function.name}")
        if not routes or any(_filtered(r.response_model, r.returns) for r in routes):
            return
        model = self._model(node.value, function, ctx)
        if model is None:
            return
        secrets = sorted(name for name, column in model.columns.items() if column.sensitive)
        if not secrets:
            return
        shown = ", ".join(f"`{s}`" for s in secrets[:3])
        ctx.report(
            node,
            f"This route returns `{model.name}` objects with no `response_model`: their "
            f"{shown} column(s) are sent to the client; declare an output schema without them",
        )

    @staticmethod
    def _model(value: ast.AST, function, ctx: FileContext) -> Model | None:
        models = sqlalchemy_models(ctx.project)
        loaded = loading(ctx, function).loaded(value)
        if loaded is not None:
            return loaded.model
        if isinstance(value, ast.Await):
            value = value.value
        return models.model(ctx.type_of(value))


def _filtered(response_model: str | None, returns: str | None) -> bool:
    """True when FastAPI validates the result against a schema."""
    if response_model is not None:
        return response_model not in OPEN_TYPES
    return returns is not None and returns not in OPEN_TYPES
