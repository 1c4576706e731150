"""`x = Column(...)` in a declarative model: the pre-2.0 style, untyped for checkers."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import edit
from backend_expert.findings import Applicability, Edit, Fix, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._orm import import_edit, last, skipped_path

# SQL types by the last part of their name -> the Python type `Mapped[...]` should say.
PLAIN_TYPES = {
    **dict.fromkeys(("Integer", "BigInteger", "SmallInteger", "INTEGER", "BIGINT", "SMALLINT",
                     "INT"), "int"),
    **dict.fromkeys(("String", "Text", "Unicode", "UnicodeText", "VARCHAR", "CHAR", "TEXT",
                     "NVARCHAR", "NCHAR", "CLOB"), "str"),
    **dict.fromkeys(("Boolean", "BOOLEAN"), "bool"),
    **dict.fromkeys(("Float", "FLOAT", "REAL", "Double", "DOUBLE", "DOUBLE_PRECISION"), "float"),
    **dict.fromkeys(("LargeBinary", "BINARY", "VARBINARY", "BLOB", "BYTEA"), "bytes"),
}  # fmt: skip
QUALIFIED_TYPES = {
    **dict.fromkeys(("DateTime", "TIMESTAMP", "DATETIME"), "datetime.datetime"),
    **dict.fromkeys(("Date", "DATE"), "datetime.date"),
    **dict.fromkeys(("Time", "TIME"), "datetime.time"),
    "Interval": "datetime.timedelta",
    **dict.fromkeys(("Numeric", "DECIMAL", "NUMERIC"), "decimal.Decimal"),
    "Uuid": "uuid.UUID",
}
# `Column` keywords that `mapped_column` takes with the same meaning.
SAME_KEYWORDS = frozenset(
    {
        "primary_key", "nullable", "default", "server_default", "index", "unique", "onupdate",
        "server_onupdate", "autoincrement", "comment", "doc", "info", "quote", "name",
        "type_", "system", "key",
    }
)  # fmt: skip


def _is_column_call(value: ast.AST, ctx: FileContext) -> bool:
    if not isinstance(value, ast.Call):
        return False
    name = ctx.qualname(value.func) or ""
    if name in ("sqlalchemy.Column", "sqlalchemy.schema.Column", "sqlalchemy.sql.schema.Column"):
        return True
    # Flask-SQLAlchemy's `db.Column`: `db` is a `SQLAlchemy()` of the project.
    if isinstance(value.func, ast.Attribute) and value.func.attr == "Column":
        owner = ctx.qualname(value.func.value)
        callee = ctx.project.assigned_call(owner) if owner else None
        return (callee or "").startswith("flask_sqlalchemy.")
    return False


def _local_spelling(ctx: FileContext, qualified: str) -> str | None:
    """How this module can spell `datetime.datetime`: `datetime`, `dt.datetime`... or None."""
    module, _, name = qualified.rpartition(".")
    for alias, target in ctx.facts.imports.items():
        if target == qualified:
            return alias
        if target == module:
            return f"{alias}.{name}"
    return None


def python_type(column: ast.Call, ctx: FileContext) -> str | None:
    """The Python type for `Mapped[...]`, when the column's SQL type maps to one safely."""
    args = list(column.args)
    if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
        args = args[1:]  # `Column("name", Integer)`
    sql_type = (
        args[0] if args else next((k.value for k in column.keywords if k.arg == "type_"), None)
    )
    if sql_type is None:
        return None
    head = sql_type.func if isinstance(sql_type, ast.Call) else sql_type
    if not isinstance(head, (ast.Name, ast.Attribute)):
        return None
    kind = last(ast.unparse(head))
    if kind in PLAIN_TYPES:
        return PLAIN_TYPES[kind]
    if kind in QUALIFIED_TYPES:
        return _local_spelling(ctx, QUALIFIED_TYPES[kind])
    if kind == "Enum" and isinstance(sql_type, ast.Call) and len(sql_type.args) == 1:
        enum = sql_type.args[0]
        return ast.unparse(enum) if isinstance(enum, (ast.Name, ast.Attribute)) else None
    return None


def _nullable(column: ast.Call) -> bool | None:
    for keyword in column.keywords:
        if keyword.arg == "nullable":
            value = keyword.value
            return (
                value.value
                if isinstance(value, ast.Constant) and isinstance(value.value, bool)
                else None
            )
        if keyword.arg == "primary_key":
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is True:
                return False
    return True


def _union_syntax(ctx: FileContext) -> bool:
    """`T | None` is evaluated at run time by SQLAlchemy: only when Python >= 3.10 is required."""
    project = ctx.project
    target = project.target_version or ""
    if target.startswith("py3") and target[3:].isdigit():
        return int(target[3:]) >= 10
    spec = project.requires_python
    if not spec:
        return False
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        allowed = SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    return not any(allowed.contains(v) for v in ("3.7.99", "3.8.99", "3.9.99"))


def _spelled(column: ast.Call, ctx: FileContext) -> tuple[str, bool] | None:
    """(Python type, nullable) when the column can be rewritten safely, else None."""
    kind = python_type(column, ctx)
    nullable = _nullable(column)
    if kind is None or nullable is None or not isinstance(column.func, (ast.Name, ast.Attribute)):
        return None
    if any(k.arg is None or k.arg not in SAME_KEYWORDS for k in column.keywords):
        return None
    return kind, nullable


def _file_imports(ctx: FileContext, columns: list[ast.Call]) -> Edit | None:
    """One import edit for every fix of the file: identical edits are applied once."""
    cache = ctx.__dict__.setdefault("_bex302_imports", {})
    if "edit" not in cache:
        spelled = [found for column in columns if (found := _spelled(column, ctx))]
        needs = [("sqlalchemy.orm", ["Mapped", "mapped_column"])] if spelled else []
        optional = _optional_name(ctx)
        if any(nullable for _, nullable in spelled) and not _union_syntax(ctx) and not optional:
            needs.append(("typing", ["Optional"]))
        added = [e for module, names in needs if (e := import_edit(ctx, module, names))]
        cache["edit"] = (
            Edit(added[0].line, 1, added[0].line, 1, "".join(e.content for e in added))
            if added
            else None
        )
    return cache["edit"]


def _optional_name(ctx: FileContext) -> str | None:
    return next((a for a, t in ctx.facts.imports.items() if t == "typing.Optional"), None)


def column_fix(
    stmt: ast.Assign, column: ast.Call, ctx: FileContext, columns: list[ast.Call]
) -> Fix | None:
    spelled = _spelled(column, ctx)
    if spelled is None:
        return None
    kind, nullable = spelled
    if nullable and _union_syntax(ctx):
        kind = f"{kind} | None"
    elif nullable:
        kind = f"{_optional_name(ctx) or 'Optional'}[{kind}]"
    target = stmt.targets[0]
    name = target.id  # type: ignore[attr-defined]
    edits = [
        edit(
            ctx,
            (target.lineno, target.col_offset),
            (column.func.end_lineno, column.func.end_col_offset),  # type: ignore[arg-type]
            f"{name}: Mapped[{kind}] = mapped_column",
        )
    ]
    imports = _file_imports(ctx, columns)
    if imports is not None:
        edits.insert(0, imports)
    return Fix(
        f"Declare `{name}: Mapped[{kind}] = mapped_column(...)`",
        tuple(edits),
        Applicability.UNSAFE,
    )


class LegacyColumn(Rule):
    code = "BEX302"
    slug = "sqlalchemy-legacy-column"
    pack = "sqlalchemy"
    skip_tests = True
    severity = Severity.INFO
    category = "modernization"
    frameworks = ("sqlalchemy", "flask_sqlalchemy")
    # Flask-SQLAlchemy runs on SQLAlchemy 2.0 (and so with `Mapped`) from 3.0.3.
    min_versions = {"sqlalchemy": "2.0", "flask-sqlalchemy": "3.0.3"}
    fix_applicability = Applicability.UNSAFE
    summary = "Declarative model column declared with `Column(...)` instead of `Mapped[...]`"
    hint = "Declare `name: Mapped[T] = mapped_column(...)` (`T | None` for nullable columns)."
    explanation = Explanation(
        what=(
            "Flags `name = Column(...)` (and Flask-SQLAlchemy's `db.Column(...)`) assigned in "
            "the body of a declarative model class: a subclass of a `DeclarativeBase`, of a "
            "`declarative_base()` result or of `db.Model`, in any module. `Column` inside "
            "`Table(...)`, classes that already declare some attribute with `Mapped[...]` (a "
            "migration in progress, or a deliberate mix), mixins, migrations and projects "
            "pinned below SQLAlchemy 2.0 are not reported."
        ),
        why=(
            "In SQLAlchemy 2.0 the annotation is the declaration: `Mapped[int]` tells both "
            "the ORM and type checkers what the attribute holds, and `Mapped[str | None]` "
            "makes the column nullable. With plain `Column`, `user.name` is typed as a "
            "`Column[str]` object (or `Any`) everywhere, so mypy and pyright cannot catch a "
            "`None` passed where a string is required, and nullability lives only in a "
            "keyword that is easy to forget (a `Column` is nullable by default)."
        ),
        use_instead=(
            "`name: Mapped[str] = mapped_column(String(50))`; `Mapped[str | None]` (or "
            "`Mapped[Optional[str]]`) when the column may be NULL; `id: Mapped[int] = "
            "mapped_column(primary_key=True)`. `mapped_column` takes the same arguments as "
            "`Column`."
        ),
        fix_safety=(
            "Unsafe: the rewrite keeps every argument and writes the annotation from the SQL "
            "type and nullability (`nullable=False` or `primary_key=True` gives `T`, otherwise "
            "`T | None`), but a type checker will now hold the code that reads the attribute to "
            "that type, and a mis-guessed annotation would change nullability if the "
            "`nullable=` argument were later removed. Offered only when the SQL type maps to a "
            "Python type without doubt (Integer, String, Boolean, DateTime, Enum(...)...) and "
            "every keyword means the same for `mapped_column`; the imports are added."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/declarative_tables.html#using-annotated-declarative-table-type-annotated-forms-for-mapped-column",
            "https://docs.sqlalchemy.org/en/20/changelog/whatsnew_20.html#orm-declarative-models",
        ),
    )
    fire = (
        Example(
            title="a model on a `DeclarativeBase` declared in another module",
            files={
                "shop/__init__.py": "",
                "shop/db.py": "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n",
                "shop/models.py": """\
from sqlalchemy import Column, ForeignKey, Integer, String

from shop.db import Base


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)  # flagged
    email = Column(String(200), nullable=False, unique=True)  # flagged
    nickname = Column(String(50))  # flagged
    referrer_id = Column(ForeignKey("customers.id"))  # flagged
""",
            },
        ),
        Example(
            title="a Flask-SQLAlchemy model (no Python version declared: `Optional[...]`)",
            code="""\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)  # flagged
    body = db.Column(db.Text)  # flagged
""",
            fixed="""\
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column
from typing import Optional

db = SQLAlchemy()


class Note(db.Model):
    id: Mapped[int] = mapped_column(db.Integer, primary_key=True)
    body: Mapped[Optional[str]] = mapped_column(db.Text)
""",
        ),
    )
    clean = (
        Example(
            title="near miss: `Column` in a `Table`, a class already on `Mapped`, a plain class",
            code="""\
from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id"), primary_key=True),
)


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    legacy_title = Column(String(100))


class Settings:
    size = Column(Integer)
""",
        ),
        Example(
            title="near miss: a project pinned to SQLAlchemy 1.4 (no `mapped_column` yet)",
            code="""\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Thing(Base):
    __tablename__ = "things"
    id = Column(Integer, primary_key=True)
""",
            dependencies=("sqlalchemy>=1.4,<2",),
        ),
        Example(
            title="near miss: Flask-SQLAlchemy 2.5 pinned (it does not run on SQLAlchemy 2.0)",
            code="""\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
""",
            dependencies=("Flask-SQLAlchemy==2.5.1",),
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        if ctx.enclosing_class() is not None or ctx.enclosing_function() is not None:
            return
        if not any(_is_column_call(s.value, ctx) for s in node.body if isinstance(s, ast.Assign)):
            return
        model = ctx.project.sqlalchemy_model(f"{ctx.module}.{node.name}")
        if model is None or model.uses_mapped or model.flavour == "sqlmodel" or skipped_path(ctx):
            return
        for stmt in node.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and _is_column_call(stmt.value, ctx)
            ):
                continue
            column = stmt.value
            assert isinstance(column, ast.Call)
            name = stmt.targets[0].id
            ctx.report(
                stmt,
                f"`{name} = Column(...)` is the legacy declarative style; declare "
                f"`{name}: Mapped[...] = mapped_column(...)` so the type and nullability are "
                "visible to type checkers",
                fix=column_fix(stmt, column, ctx, _file_columns(ctx)),
            )


def _file_columns(ctx: FileContext) -> list[ast.Call]:
    """The `Column(...)` calls this rule reports in the file (for the shared import edit)."""
    cache = ctx.__dict__.setdefault("_bex302_columns", {})
    if "columns" not in cache:
        found: list[ast.Call] = []
        tree = ctx.source.tree
        for klass in tree.body if tree is not None else ():
            if not isinstance(klass, ast.ClassDef):
                continue
            model = ctx.project.sqlalchemy_model(f"{ctx.module}.{klass.name}")
            if model is None or model.uses_mapped or model.flavour == "sqlmodel":
                continue
            found.extend(
                s.value
                for s in klass.body
                if isinstance(s, ast.Assign) and _is_column_call(s.value, ctx)
            )
        cache["columns"] = found
    return cache["columns"]
