"""A loop over query results that reads a lazy relationship of each row: one query per row."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._loading import (
    loading,
    loop_binding,
    refreshed_or_set,
    relationship_names,
)
from backend_expert.rules.sqlalchemy._orm import skipped_path

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")
    prizes: Mapped[list["Prize"]] = relationship(lazy="selectin")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


class Prize(Base):
    __tablename__ = "prizes"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
"""


class NPlusOne(Rule):
    code = "BEX305"
    slug = "sqlalchemy-n-plus-one"
    pack = "sqlalchemy"
    skip_tests = True
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    summary = "Loop over query results reads a lazy relationship of each row (N+1 queries)"
    hint = (
        "Load the relationship with the query: `.options(selectinload(Model.rel))` for "
        "collections, `joinedload(Model.rel)` for many-to-one."
    )
    explanation = Explanation(
        what=(
            "Flags a read of a relationship attribute on the loop variable of a `for` loop or "
            "comprehension that iterates over rows a session loaded in the same function "
            "(`session.scalars(select(Author))`, `session.execute(stmt).scalars().all()`, "
            "`session.query(Author)...all()`, Flask-SQLAlchemy's `Author.query...all()`), when "
            'the relationship loads lazily (the default `lazy="select"`) and the statement has '
            "no loader option for it. Relationships declared `selectin`/`joined`/`subquery`/"
            "`raise`/`dynamic`, statements with `selectinload`/`joinedload`/`subqueryload`/"
            "`contains_eager`/`raiseload`/`noload` on the attribute, and statements or options "
            "bex cannot follow are not reported. Async sessions are BEX304's business."
        ),
        why=(
            "Each first read of a lazy relationship runs its own SELECT, so a loop over N rows "
            "issues 1 + N queries. That is invisible with ten rows in development and costs a "
            "round trip per row in production, where it is often the slowest part of a page."
        ),
        use_instead=(
            "Ask for the related rows with the statement: `selectinload(Author.books)` runs one "
            "extra `IN` query for all of them; `joinedload(Book.author)` joins many-to-one "
            'targets in the same query. Declare `lazy="selectin"` on relationships that are '
            'nearly always needed, or `lazy="raise"` to catch unplanned loads in tests.'
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html",
            "https://docs.sqlalchemy.org/en/20/glossary.html#term-N-plus-one-problem",
        ),
    )
    fire = (
        Example(
            title="2.0-style statements, and the legacy `Query`",
            files={
                "lib/__init__.py": "",
                "lib/models.py": MODELS,
                "lib/report.py": """\
from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.models import Author, Book


def shelf(session: Session) -> dict[str, int]:
    authors = session.scalars(select(Author).order_by(Author.name)).all()
    return {a.name: len(a.books) for a in authors}  # flagged


def titles(session: Session) -> list[str]:
    stmt = select(Book).where(Book.id > 100)
    lines = []
    for book in session.execute(stmt).scalars():
        lines.append(f"{book.title} by {book.author.name}")  # flagged
    return lines


def legacy(session: Session) -> None:
    for author in session.query(Author).filter(Author.id > 1).all():
        print(author.books)  # flagged
""",
            },
        ),
        Example(
            title="Flask-SQLAlchemy's `Model.query`",
            files={
                "blog/__init__.py": "",
                "blog/ext.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
                "blog/models.py": """\
from blog.ext import db


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    comments = db.relationship("Comment", backref="post")
    tags = db.relationship("Tag", lazy="dynamic")


class Comment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.ForeignKey("post.id"))


class Tag(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.ForeignKey("post.id"))
""",
                "blog/views.py": """\
from blog.models import Comment, Post


def counts():
    return [(p.id, len(p.comments), p.tags.count()) for p in Post.query.all()]  # flagged


def parents():
    return [c.post.id for c in Comment.query.filter_by(post_id=1).all()]  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title='near miss: eager-loaded with the statement, or declared `lazy="selectin"`',
            files={
                "lib/__init__.py": "",
                "lib/models.py": MODELS,
                "lib/report.py": """\
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from lib.models import Author, Book


def shelf(session: Session) -> dict[str, int]:
    stmt = select(Author).options(selectinload(Author.books))
    authors = session.scalars(stmt).all()
    return {a.name: len(a.books) + len(a.prizes) for a in authors}


def titles(session: Session) -> list[str]:
    books = session.scalars(select(Book).options(joinedload(Book.author))).all()
    return [b.author.name for b in books]


def one(session: Session) -> int:
    author = session.get(Author, 1)
    return len(author.books)
""",
            },
        ),
        Example(
            title="near miss: objects that do not come from a query bex can see",
            files={
                "lib/__init__.py": "",
                "lib/models.py": MODELS,
                "lib/report.py": """\
from sqlalchemy.orm import Session

from lib.models import Author


def given(authors: list[Author]) -> list[int]:
    return [len(a.books) for a in authors]


def built(session: Session, rows) -> None:
    for row in rows:
        author = Author(name=row)
        print(author.books)
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
        name = value.id  # type: ignore[attr-defined]
        binding = loop_binding(ctx, name)
        function = ctx.enclosing_function()
        if binding is None or function is None:
            return
        iterable = binding.iter  # type: ignore[attr-defined]
        loaded = loading(ctx, function).element(iterable)
        if loaded is None or loaded.flavour != "sync":
            return
        relation = loaded.lazy_relationship(node.attr)
        if relation is None or refreshed_or_set(ctx, function, name, node.attr):
            return
        seen = ctx.__dict__.setdefault("_bex305_seen", set())
        if (id(binding), node.attr) in seen:
            return
        seen.add((id(binding), node.attr))
        model = loaded.model.name
        option = "selectinload" if relation.uselist is not False else "joinedload"
        ctx.report(
            node,
            f"`{name}.{node.attr}` lazy-loads `{model}.{node.attr}` once per row of the loop "
            f"(N+1 queries); load it with the query: `.options({option}({model}.{node.attr}))`",
            confidence=Confidence.HIGH if relation.uselist is not False else Confidence.MEDIUM,
        )
