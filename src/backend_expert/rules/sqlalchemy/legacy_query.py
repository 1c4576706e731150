"""`session.query(...)` and Flask-SQLAlchemy's `Model.query`: the 1.x Query API, legacy in 2.0."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from backend_expert.check import FileContext
from backend_expert.findings import Applicability, Confidence, Severity
from backend_expert.infer import canonical
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.rules.sqlalchemy._legacy_fix import (
    entity_kind,
    flask_db_name,
    flask_get_or_404,
    legacy_query_fix,
)

# What a receiver must hold for `.query(...)` to be the Session's legacy method.
SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlmodel.Session",
        "flask_sqlalchemy.session.Session",
    }
)
SQLMODEL_SESSION = "sqlmodel.Session"
FLASK_SQLALCHEMY = "flask_sqlalchemy.SQLAlchemy"
ORM_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlmodel.SQLModel",
    }
)
BASE_FACTORIES = frozenset(
    {
        "sqlalchemy.orm.declarative_base",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.decl_api.declarative_base",
    }
)
# Names that, without a known type, usually hold a Session (reported with medium confidence).
SESSION_NAMES = frozenset({"session", "db_session", "dbsession", "db_sess", "sess", "db"})
SQLALCHEMY_MODULES = frozenset({"sqlalchemy", "flask_sqlalchemy", "sqlmodel"})
GENERATED_DIRS = ("migrations", "alembic", "versions")

# Query methods that have the same name on `select()`; `filter` becomes `where`.
SAME_ON_SELECT = frozenset(
    {
        "filter_by",
        "where",
        "order_by",
        "group_by",
        "having",
        "join",
        "outerjoin",
        "options",
        "limit",
        "offset",
        "distinct",
        "select_from",
        "join_from",
        "execution_options",
        "with_for_update",
        "correlate",
        "params",
    }
)
SHORT = 28  # longest argument text shown as is in a suggestion
NOTE = "\0"  # separates an unexecuted statement from the runner to mention with it


@dataclass
class _Chain:
    """The methods called on the Query, in order, e.g. [("filter", call), ("all", call)]."""

    calls: list[tuple[str, ast.Call]]
    outer: ast.AST


def _chain(node: ast.AST, ctx: FileContext) -> _Chain:
    ancestors = ctx.ancestors
    calls: list[tuple[str, ast.Call]] = []
    current = node
    index = len(ancestors) - 1
    while index >= 1:
        attribute, call = ancestors[index], ancestors[index - 1]
        if not (
            isinstance(attribute, ast.Attribute)
            and attribute.value is current
            and isinstance(call, ast.Call)
            and call.func is attribute
        ):
            break
        calls.append((attribute.attr, call))
        current = call
        index -= 2
    return _Chain(calls, current)


def _args(call: ast.Call, show: bool = False) -> str:
    if not call.args and not call.keywords:
        return ""
    if show:
        text = ", ".join(ast.unparse(a) for a in (*call.args, *call.keywords))
        if len(text) <= SHORT and "\n" not in text:
            return text
    return "..."


def _entities(args: list[ast.expr]) -> str:
    text = ", ".join(ast.unparse(a) for a in args)
    return text if len(text) <= 2 * SHORT and "\n" not in text else "..."


def _class_like(node: ast.AST) -> bool:
    """`User` or `models.User` (an entity whose rows come back as objects), not `User.id`."""
    name = ast.unparse(node) if isinstance(node, (ast.Name, ast.Attribute)) else ""
    return name.rpartition(".")[2][:1].isupper()


def suggestion(
    session: str, entities: list[ast.expr], chain: _Chain, flavour: str = "sqlalchemy"
) -> str | None:
    """The 2.0-style spelling of `session.query(entities).<chain>`, or None if not recognised.

    `flavour` is "sqlmodel" (results through `session.exec`), "flask" (Flask-SQLAlchemy 3: the
    `db.*_or_404` and `db.paginate` helpers exist) or "flask2" (older: `abort(404)` by hand).
    """
    entity = _entities(entities)
    single = len(entities) == 1 and _class_like(entities[0])
    clauses: list[str] = []  # method names on select(), `filter` already renamed `where`
    rendered = ""
    joined_eager = False
    steps = chain.calls
    for position, (name, call) in enumerate(steps):
        last = position == len(steps) - 1
        if name in ("filter", "where"):
            if not clauses or clauses[-1] != "where":  # consecutive filters: one where()
                rendered += f".where({_args(call)})"
            clauses.append("where")
            continue
        if name in SAME_ON_SELECT:
            rendered += f".{name}({_args(call)})"
            clauses.append(name)
            joined_eager |= name == "options" and _joined_eager(call)
            continue
        if not last:
            return None
        query = _Query(session, entity, rendered, clauses, single, joined_eager, flavour)
        return query.terminal(name, call, position)
    statement = f"select({entity}){rendered}"
    runner = _Query(session, entity, rendered, clauses, single, joined_eager, flavour).runner()
    return f"{statement}{NOTE}{runner}"


def _quoted(spelled: str) -> str:
    statement, _, runner = spelled.partition(NOTE)
    if not runner:
        return f"`{statement}`"
    return f"`{statement}` (and run it with `{runner}(...)` where the rows are read)"


def _joined_eager(call: ast.Call) -> bool:
    """`options(joinedload(...))`: 2.0 results then need `.unique()`."""
    for node in ast.walk(call):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func).rpartition(".")[2]
            if name in ("joinedload", "contains_eager"):
                return True
    return False


@dataclass
class _Query:
    session: str
    entity: str
    rendered: str
    clauses: list[str]
    single: bool
    joined_eager: bool
    flavour: str

    @property
    def statement(self) -> str:
        return f"select({self.entity}){self.rendered}"

    def runner(self) -> str:
        if self.flavour == "sqlmodel":
            return f"{self.session}.exec"
        return f"{self.session}.{'scalars' if self.single else 'execute'}"

    def run(self, statement: str, tail: str = "") -> str:
        unique = ".unique()" if self.joined_eager and tail else ""
        return f"{self.runner()}({statement}){unique}{tail}"

    def terminal(self, name: str, call: ast.Call, position: int) -> str | None:
        statement, entity, session = self.statement, self.entity, self.session
        filters_only = all(c in ("where", "filter_by") for c in self.clauses)
        if name in ("all", "first", "one", "one_or_none"):
            if name == "first" and "limit" not in self.clauses:
                statement += ".limit(1)"
            return self.run(statement, f".{name}()")
        if name == "scalar":
            return f"{session}.scalar({statement})"
        if name == "get" and position == 0 and self.single:
            return f"{session}.get({entity}, {_args(call, show=True)})"
        if name == "count":
            return f"{session}.scalar(select(func.count()).select_from({entity}){self.rendered})"
        if name == "delete" and self.single and filters_only:
            return f"{session}.execute(delete({entity}){self.rendered})"
        if name == "update" and self.single and filters_only:
            return f"{session}.execute(update({entity}){self.rendered}.values({_args(call)}))"
        if name == "exists":
            return f"{session}.scalar(select({statement}.exists()))"
        if name == "subquery":
            return f"{statement}.subquery()"
        if self.flavour == "flask":
            if name == "get_or_404" and position == 0 and self.single:
                return f"db.get_or_404({entity}, {_args(call, show=True)})"
            if name in ("first_or_404", "one_or_404"):
                return f"db.{name}({statement})"
            if name == "paginate":
                return f"db.paginate({statement}{', ...' if _args(call) else ''})"
        if self.flavour == "flask2":  # Flask-SQLAlchemy 2.x: no `db.*_or_404` helpers yet
            if name == "get_or_404" and position == 0 and self.single:
                return f"{session}.get({entity}, {_args(call, show=True)}) or abort(404)"
            if name == "first_or_404":
                return f"{self.run(statement + '.limit(1)', '.first()')} or abort(404)"
        return None


def flask_sqlalchemy_object(qualname: str, ctx: FileContext) -> bool:
    """True when the module-level name `qualname` holds a Flask-SQLAlchemy `SQLAlchemy()`."""
    project = ctx.project
    callee = project.assigned_call(qualname)
    if callee is None:
        return False
    callee = canonical(project.resolve(callee)) or ""
    return callee == FLASK_SQLALCHEMY or project.is_subclass(callee, {FLASK_SQLALCHEMY})


def flask_model(qualname: str, ctx: FileContext) -> bool:
    """True when the class `qualname` subclasses `db.Model` of a Flask-SQLAlchemy `db`."""
    project = ctx.project
    if project.class_facts(qualname) is None:
        return False
    for base in project.ancestors(qualname):
        head, _, last = base.rpartition(".")
        if last == "Model" and head and flask_sqlalchemy_object(head, ctx):
            return True
    return False


def _defines_query(qualname: str, ctx: FileContext) -> bool:
    """The model (or a project base of it) defines its own `query` attribute or method."""
    project = ctx.project
    for klass in (project.resolve(qualname), *project.ancestors(qualname)):
        facts = project.class_facts(klass)
        if facts is not None and ("query" in facts.attr_types or "query" in facts.methods):
            return True
    return False


def orm_model(qualname: str, ctx: FileContext) -> bool:
    """True when the project class `qualname` is a mapped SQLAlchemy/SQLModel/Flask model."""
    project = ctx.project
    if project.class_facts(qualname) is None:
        return False
    for base in project.ancestors(qualname):
        base = canonical(base) or base
        if base in ORM_BASES:
            return True
        factory = project.assigned_call(base)
        if factory is not None and canonical(project.resolve(factory)) in BASE_FACTORIES:
            return True
    return flask_model(qualname, ctx)


def _old_flask_sqlalchemy(ctx: FileContext) -> bool:
    """Flask-SQLAlchemy pinned below 3.0: no `db.get_or_404`/`db.paginate` helpers to suggest."""
    spec = ctx.project.dependencies.get("flask-sqlalchemy")
    if not spec:
        return False
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    return not any(
        allowed.contains(v, prereleases=True) for v in ("3.0.0", "3.1.1", "3.2.0", "4.0")
    )


def _skipped_path(ctx: FileContext) -> bool:
    """Migrations are frozen history: rewriting their queries is not worth a finding."""
    parts = ctx.path.replace("\\", "/").split("/")[:-1]
    return any(part in GENERATED_DIRS for part in parts)


def _session_receiver(receiver: ast.AST, ctx: FileContext) -> str | None:
    """The kind of session `receiver` holds: a type from SESSION_TYPES, or None."""
    kind = ctx.type_of(receiver)
    if kind is None:
        return None
    if kind in SESSION_TYPES:
        return kind
    project = ctx.project
    if project.class_facts(kind) is not None and project.is_subclass(kind, SESSION_TYPES):
        return SQLMODEL_SESSION if project.is_subclass(kind, {SQLMODEL_SESSION}) else kind
    return None


def _looks_like_entity(arg: ast.AST, ctx: FileContext, imports_sqlalchemy: bool) -> bool:
    """A mapped class, one of its columns, or (in a SQLAlchemy module) a capitalised class name."""
    target = arg.value if isinstance(arg, ast.Attribute) else arg
    name = ctx.qualname(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
    if name is not None and orm_model(name, ctx):
        return True
    if not imports_sqlalchemy:
        return False
    if isinstance(arg, ast.Call):
        called = ctx.qualname(arg.func) or ""
        return called.startswith("sqlalchemy.") and "func" in called.split(".")
    text = ast.unparse(arg) if isinstance(arg, (ast.Name, ast.Attribute)) else ""
    return any(part[:1].isupper() for part in text.split("."))


def _session_fix(node: ast.Call, chain: _Chain, session: str, ctx: FileContext):
    """`session.query(...)...`: rewritten in place when the chain is understood."""
    single = entity_kind(list(node.args), ctx, orm_model, _class_like)
    entities = _source_args(node, ctx)
    if single is None or entities is None or node.keywords:
        return None
    func = node.func
    assert isinstance(func, ast.Attribute)
    head = (
        (func.value.end_lineno, func.value.end_col_offset),
        (node.end_lineno, node.end_col_offset),
    )
    return legacy_query_fix(ctx, head, session, ".", entities, chain.calls, chain.outer, single)  # type: ignore[arg-type]


def _source_args(call: ast.Call, ctx: FileContext) -> str | None:
    """`(User, Address)` as written, when it is plain (no starred argument, no comment)."""
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    whole = ast.get_source_segment(ctx.source.text, call)
    func = ast.get_source_segment(ctx.source.text, call.func)
    if whole is None or func is None or not whole.startswith(func) or "#" in whole:
        return None
    return whole[len(func) :].strip()


def _flask_fix(node: ast.Attribute, name: str, chain: _Chain, flavour: str, ctx: FileContext):
    """`Model.query...` through the module's Flask-SQLAlchemy `db`, when it has one."""
    db = flask_db_name(ctx, flask_sqlalchemy_object)
    if db is None:
        return None
    if chain.calls and chain.calls[0][0] == "get_or_404":
        return (
            flask_get_or_404(ctx, db, name, chain.calls, chain.outer)
            if flavour == "flask"
            else None
        )
    head = ((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset))
    session = f"{db}.session"
    return legacy_query_fix(
        ctx, head, session, f"{session}.", f"({name})", chain.calls, chain.outer, True
    )  # type: ignore[arg-type]


class LegacyQuery(Rule):
    code = "BEX301"
    slug = "sqlalchemy-legacy-query"
    pack = "sqlalchemy"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("sqlalchemy", "flask_sqlalchemy", "sqlmodel")
    min_versions = {"sqlalchemy": "1.4"}  # `select()` for the ORM arrived in 1.4
    fix_applicability = Applicability.UNSAFE
    summary = "Legacy 1.x `Query` API (`session.query(...)`, Flask-SQLAlchemy `Model.query`)"
    hint = (
        "Build the statement with `select(...)` and run it with `session.scalars(...)`, "
        "`session.execute(...)` or `session.get(Model, pk)`."
    )
    explanation = Explanation(
        what=(
            "Flags `session.query(...)` on objects known to be a SQLAlchemy `Session` "
            "(annotated parameters, `Annotated[Session, Depends(...)]`, `SessionLocal()` from a "
            "`sessionmaker` in any module, `with Session(engine) as s`, `self.session` set in "
            "`__init__`, Flask-SQLAlchemy's `db.session`), a SQLModel `Session`, and "
            "Flask-SQLAlchemy's `Model.query` on classes that subclass `db.Model`. A variable "
            "merely named `session`/`db_session` whose type bex cannot see is reported with "
            "medium confidence, only when the argument looks like a mapped class. Migration "
            "folders are skipped, and so are projects that pin SQLAlchemy below 1.4 (where "
            "`select()` cannot run ORM queries yet). The message spells the 2.0 form of the "
            "chain when it recognises it (`.filter/.filter_by/.order_by/.join/.options/.limit` "
            "followed by `.all/.first/.one/.one_or_none/.scalar/.get/.count/.delete/.update`)."
        ),
        why=(
            "SQLAlchemy 2.0 made `select()` the one way to query, shared by Core and the ORM; "
            "`Query` survives only as a legacy facade over it, kept so 1.x applications keep "
            "running, and it receives no new features (`Query.get()` even warns). A `select()` "
            "is a plain value: it can be built without a session, composed, reused, and given "
            "to `session.execute()`/`scalars()` with typed results. The same statement works "
            "with `AsyncSession`, which has no `.query()` at all, so code still written against "
            "`Query` has to be rewritten before it can move to asyncio. Flask-SQLAlchemy 3 "
            "likewise calls `Model.query` legacy (it is only a shortcut for "
            "`db.session.query(Model)`) and SQLModel deprecates `Session.query` in favour of "
            "`session.exec(select(...))`."
        ),
        use_instead=(
            "`session.scalars(select(User).where(User.name == n)).all()` for lists, "
            "`session.scalars(stmt.limit(1)).first()` for `.first()`, `session.get(User, pk)` "
            "for `.get(pk)`, `session.scalar(select(func.count()).select_from(User))` for "
            "`.count()`, `session.execute(delete(User).where(...))` for bulk deletes, "
            "`session.exec(select(...))` with SQLModel, and `db.get_or_404(User, pk)` / "
            "`db.paginate(select(User))` with Flask-SQLAlchemy 3."
        ),
        fix_safety=(
            "Unsafe. The fix rewrites only chains whose 2.0 form returns the same thing: "
            "filters, ordering, limits, joins and options ended by `.all()`, `.first()`, "
            "`.one()`, `.one_or_none()`, `.scalar()`, `.get(pk)`, `.count()` after filters, or "
            "iterated by a loop; `.unique()` is added after joined eager loading. A `Query` that "
            "is returned or stored is left alone (its callers use `Query` methods), and so are "
            "chains with comments inside. `.all()` now returns a sequence from `scalars()`, "
            "and the session must be SQLAlchemy 1.4.24 or newer (`Session.scalars`)."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/changelog/migration_20.html#migration-orm-usage",
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/query.html",
            "https://flask-sqlalchemy.readthedocs.io/en/stable/legacy-query/",
        ),
    )
    fire = (
        Example(
            title="a FastAPI dependency-injected session, with the chains' 2.0 spellings",
            code="""\
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from .db import get_db
from .models import User

DB = Annotated[Session, Depends(get_db)]


def list_active(db: DB) -> list[User]:
    return db.query(User).filter(User.active).order_by(User.name).all()  # flagged


def find(db: Session, user_id: int) -> User | None:
    return db.query(User).get(user_id)  # flagged


def count_users(db: Session) -> int:
    return db.query(User).count()  # flagged
""",
            fixed="""\
from typing import Annotated

from fastapi import Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import get_db
from .models import User

DB = Annotated[Session, Depends(get_db)]


def list_active(db: DB) -> list[User]:
    return db.scalars(select(User).where(User.active).order_by(User.name)).all()


def find(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User))
""",
        ),
        Example(
            title="a sessionmaker defined in another module, and a session held by a repository",
            files={
                "shop/__init__.py": "",
                "shop/database.py": """\
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass
""",
                "shop/models.py": """\
from sqlalchemy import Column, Integer

from shop.database import Base


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
""",
                "shop/jobs.py": """\
from shop.database import SessionLocal
from shop.models import Order


def purge() -> None:
    with SessionLocal() as session:
        session.query(Order).filter(Order.id < 10).delete()  # flagged
        session.commit()


class OrderRepository:
    def __init__(self) -> None:
        self.session = SessionLocal()

    def first(self) -> Order | None:
        return self.session.query(Order).first()  # flagged
""",
            },
        ),
        Example(
            title="Flask-SQLAlchemy: `Model.query`, `cls.query` and `db.session.query`",
            files={
                "blog/__init__.py": "",
                "blog/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
                "blog/models.py": """\
from blog.extensions import db


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(80))

    @classmethod
    def by_slug(cls, slug):
        return cls.query.filter_by(slug=slug).first()  # flagged
""",
                "blog/views.py": """\
from blog.extensions import db
from blog.models import Post


def show(post_id):
    return Post.query.get_or_404(post_id)  # flagged


def titles():
    return db.session.query(Post.slug).all()  # flagged
""",
            },
        ),
        Example(
            title="an unannotated parameter named like a session, querying a mapped class (medium confidence)",
            files={
                "svc/__init__.py": "",
                "svc/models.py": """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
""",
                "svc/service.py": """\
from svc.models import Ticket


def get(*, db_session, ticket_id: int):
    return db_session.query(Ticket).filter(Ticket.id == ticket_id).one_or_none()  # flagged
""",
            },
        ),
        Example(
            title="a query returned for composition (no automatic fix: its callers use `Query` methods)",
            code="""\
from sqlalchemy.orm import Session

from .models import Author


def active_authors(session: Session):
    return session.query(Author).filter(Author.active)  # flagged
""",
        ),
        Example(
            title="joined eager loading: 2.0 results need `.unique()`",
            code="""\
from sqlalchemy.orm import Session, joinedload

from .models import Author


def authors_with_books(session: Session):
    return session.query(Author).options(joinedload(Author.books)).all()  # flagged
""",
            fixed="""\
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .models import Author


def authors_with_books(session: Session):
    return session.scalars(select(Author).options(joinedload(Author.books))).unique().all()
""",
        ),
        Example(
            title="a SQLModel session",
            code="""\
from sqlmodel import Field, Session, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


def heroes(session: Session) -> list[Hero]:
    return session.query(Hero).all()  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="near miss: 2.0-style `select()` run by the session",
            code="""\
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import User


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.active)).all())
""",
        ),
        Example(
            title="near miss: a repository class with its own `query` method",
            code="""\
import sqlalchemy


class UserRepository:
    def query(self, *filters):
        return []


def active(repo: UserRepository, session):
    repo = UserRepository()
    return repo.query("active")
""",
        ),
        Example(
            title="near miss: `query` of other libraries (GraphQL, Elasticsearch, HTTP params, an Athena-like client)",
            code="""\
import boto3
import requests
import sqlalchemy
from elasticsearch_dsl import Search


def search(term):
    s = Search(index="posts").query("match", title=term)
    return s.execute()


def graphql(schema, client):
    return client.query("{ viewer { login } }")


def athena(sql):
    session = boto3.Session()
    return session.query(sql)


def fetch(url, db):
    return requests.get(url, params={"query": db.query})
""",
        ),
        Example(
            title="near miss: an async session (it has no `.query`) and a string query on a `db` object",
            code="""\
from databases import Database
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User

db = Database("sqlite://")


async def users(session: AsyncSession):
    result = await session.execute(select(User))
    rows = await db.fetch_all(query="SELECT 1")
    return result.scalars().all(), rows


def raw(db):
    return db.query("SELECT * FROM users")
""",
        ),
        Example(
            title="near miss: a model column named `query`, and `query` on a model of a non-Flask base",
            files={
                "app/__init__.py": "",
                "app/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
                "app/models.py": """\
from sqlalchemy.orm import DeclarativeBase

from app.ext import db


class SavedSearch(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    query = db.Column(db.Text)


class Base(DeclarativeBase):
    pass


class Report(Base):
    __tablename__ = "reports"


def text_of(search: SavedSearch) -> str:
    return SavedSearch.query.label("q"), Report.query
""",
            },
        ),
        Example(
            title="near miss: a project pinned to SQLAlchemy 1.3, where `select()` is not an ORM option yet",
            code="""\
from sqlalchemy.orm import Session

from .models import User


def users(session: Session):
    return session.query(User).all()
""",
            dependencies=("sqlalchemy==1.3.24",),
        ),
        Example(
            title="near miss: a data migration in an Alembic versions folder",
            files={
                "alembic/versions/0001_backfill.py": """\
import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session


def upgrade() -> None:
    session = Session(bind=op.get_bind())
    session.query(sa.table("users")).delete()
""",
            },
        ),
    )

    @visit_call("query")
    def check_session_query(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "query") or _skipped_path(ctx):
            return
        receiver = func.value
        kind = _session_receiver(receiver, ctx)
        confidence = Confidence.HIGH
        if kind is None:
            if not self._named_like_session(node, receiver, ctx):
                return
            kind, confidence = "sqlalchemy.orm.Session", Confidence.MEDIUM
        if not node.args:
            return  # `session.query()` with no entity: nothing to rewrite, and odd enough to skip
        session = ast.unparse(receiver)
        flavour = "sqlmodel" if kind == SQLMODEL_SESSION else "sqlalchemy"
        chain = _chain(node, ctx)
        spelled = suggestion(session, list(node.args), chain, flavour)
        if flavour == "sqlmodel":
            legacy = (
                "`Session.query()` is deprecated in SQLModel (the legacy 1.x SQLAlchemy Query API)"
            )
        else:
            legacy = f"`{session}.query(...)` is the legacy 1.x Query API in SQLAlchemy 2.0"
        if spelled:
            message = f"{legacy}; write {_quoted(spelled)}"
        else:
            single = len(node.args) == 1 and _class_like(node.args[0])
            method = "exec" if flavour == "sqlmodel" else "scalars" if single else "execute"
            runner = f"{session}.{method}"
            message = (
                f"{legacy}; build a `select({_entities(list(node.args))})` statement and run it "
                f"with `{runner}(...)`"
            )
        fix = None
        if flavour == "sqlalchemy" and confidence is Confidence.HIGH:
            fix = _session_fix(node, chain, session, ctx)
        ctx.report(node, message, confidence=confidence, end_node=chain.outer, fix=fix)

    def _named_like_session(self, node: ast.Call, receiver: ast.AST, ctx: FileContext) -> bool:
        """No known type: a session-like name, and an argument that looks like a mapped entity."""
        if isinstance(receiver, ast.Name):
            name = receiver.id
        elif isinstance(receiver, ast.Attribute):
            name = receiver.attr
        else:
            return False
        if name.lower() not in SESSION_NAMES or node.keywords or not node.args:
            return False
        if ctx.type_of(receiver) is not None:
            return False  # known to be something else (boto3.Session, requests.Session...)
        imports = any(
            module.partition(".")[0] in SQLALCHEMY_MODULES for module in ctx.facts.imported_modules
        )
        return all(_looks_like_entity(arg, ctx, imports) for arg in node.args)

    @visit(ast.Attribute)
    def check_model_query(self, node: ast.Attribute, ctx: FileContext) -> None:
        if node.attr != "query" or not isinstance(node.ctx, ast.Load) or _skipped_path(ctx):
            return
        parent = ctx.parent()
        if isinstance(parent, ast.Call) and parent.func is node:
            return  # `X.query(...)` is a method call: the session check's business
        model = self._model_of(node.value, ctx)
        if model is None or not flask_model(model, ctx) or _defines_query(model, ctx):
            return
        name = ast.unparse(node.value)
        if isinstance(node.value, ast.Name) and node.value.id == "cls":
            klass = ctx.enclosing_class()
            name = klass.name if klass is not None else name
        chain = _chain(node, ctx)
        flavour = "flask2" if _old_flask_sqlalchemy(ctx) else "flask"
        spelled = suggestion("db.session", [ast.Name(id=name)], chain, flavour)
        legacy = (
            f"`{ast.unparse(node)}` is Flask-SQLAlchemy's legacy query property "
            f"(a shortcut for `db.session.query({name})`)"
        )
        if spelled:
            message = f"{legacy}; write {_quoted(spelled)}"
        else:
            message = (
                f"{legacy}; build a `select({name})` and run it with `db.session.scalars(...)`"
            )
        ctx.report(
            node, message, end_node=chain.outer, fix=_flask_fix(node, name, chain, flavour, ctx)
        )

    @staticmethod
    def _model_of(value: ast.AST, ctx: FileContext) -> str | None:
        """The qualified class that `value` names: `User`, `models.User`, or `cls` in its methods."""
        if isinstance(value, ast.Name) and value.id == "cls":
            klass = ctx.enclosing_class()
            function = ctx.enclosing_function()
            if klass is None or function is None or isinstance(function, ast.Lambda):
                return None
            decorators = {ast.unparse(d) for d in function.decorator_list}
            if not decorators & {"classmethod", "hybrid_property.expression"} and not any(
                d.endswith(".expression") for d in decorators
            ):
                return None
            return f"{ctx.module}.{klass.name}"
        if not isinstance(value, (ast.Name, ast.Attribute)):
            return None
        name = ctx.qualname(value)
        if name is None or not name[:1].isalpha():
            return None
        last = name.rpartition(".")[2]
        return name if last[:1].isupper() else None
