"""`Base = declarative_base()`: the 1.x way to make a declarative base."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text, replace_node
from backend_expert.findings import Applicability, Fix, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.rules.sqlalchemy._orm import import_edit, skipped_path
from backend_expert.sqlalchemy_models import BASE_FACTORIES


class DeclarativeBaseCall(Rule):
    code = "BEX303"
    slug = "sqlalchemy-declarative-base-call"
    pack = "sqlalchemy"
    skip_tests = True
    severity = Severity.INFO
    category = "modernization"
    frameworks = ("sqlalchemy",)
    min_versions = {"sqlalchemy": "2.0"}
    fix_applicability = Applicability.UNSAFE
    summary = (
        "Declarative base made with `declarative_base()` instead of a `DeclarativeBase` subclass"
    )
    hint = "Write `class Base(DeclarativeBase): pass` (from `sqlalchemy.orm`)."
    explanation = Explanation(
        what=(
            "Flags a module-level `Base = declarative_base(...)` (from `sqlalchemy.orm` or the "
            "older `sqlalchemy.ext.declarative`). Migration folders and projects pinned below "
            "SQLAlchemy 2.0 are not reported."
        ),
        why=(
            "`declarative_base()` builds the base class at run time, so type checkers see a "
            "variable, not a class: `Base` is `Any` to them and so is every model built on it, "
            "which hides mistakes in every query. It is superseded in 2.0 by subclassing "
            "`DeclarativeBase`, which is an ordinary class: it can declare `metadata`, a "
            "`type_annotation_map` for `Mapped[...]` columns and shared columns or methods, "
            "and it is what the 2.0 documentation and typing support assume."
        ),
        use_instead=(
            "`class Base(DeclarativeBase): pass`; keyword arguments become class attributes "
            "(`metadata = MetaData(...)`), and a `cls=Mixin` becomes a base class: "
            "`class Base(Mixin, DeclarativeBase)`."
        ),
        fix_safety=(
            "Unsafe: the new base is a real class in the model hierarchy, so code that "
            "inspects `Base.__mro__`, compares metaclasses, or passes a custom `metaclass=`/"
            "`constructor=` behaves differently. Offered only for calls without positional "
            "arguments whose keywords are `metadata=` and `cls=`."
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/mapping_api.html#sqlalchemy.orm.DeclarativeBase",
            "https://docs.sqlalchemy.org/en/20/changelog/whatsnew_20.html#step-one-orm-declarative-base-is-superseded-by-orm-declarativebase",
        ),
    )
    fire = (
        Example(
            title="the classic declarative base",
            code="""\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()  # flagged


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
""",
            fixed="""\
from sqlalchemy import Column, Integer
from sqlalchemy.orm import DeclarativeBase

class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
""",
        ),
        Example(
            title="the older import location, with a shared `MetaData`",
            code="""\
from sqlalchemy import MetaData
from sqlalchemy.ext.declarative import declarative_base

metadata = MetaData(schema="app")
Base = declarative_base(metadata=metadata)  # flagged
""",
            fixed="""\
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

metadata = MetaData(schema="app")
class Base(DeclarativeBase):
    metadata = metadata
""",
        ),
    )
    clean = (
        Example(
            title="near miss: already a `DeclarativeBase` subclass, and an Alembic migration",
            files={
                "app/db.py": (
                    "from sqlalchemy.orm import DeclarativeBase\n\n\n"
                    "class Base(DeclarativeBase):\n    pass\n"
                ),
                "alembic/versions/0002_fill.py": (
                    "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n"
                ),
            },
        ),
        Example(
            title="near miss: SQLAlchemy 1.4 pinned",
            code="from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n",
            dependencies=("SQLAlchemy~=1.4.46",),
        ),
    )

    @visit(ast.Assign)
    def check_assign(self, node: ast.Assign, ctx: FileContext) -> None:
        value = node.value
        if not isinstance(value, ast.Call) or ctx.enclosing_function() is not None:
            return
        if (
            ctx.enclosing_class() is not None
            or (ctx.qualname(value.func) or "") not in BASE_FACTORIES
        ):
            return
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) or skipped_path(ctx):
            return
        name = node.targets[0].id
        ctx.report(
            node,
            f"`{name} = declarative_base()` is superseded in SQLAlchemy 2.0; write "
            f"`class {name}(DeclarativeBase): pass`, a real class that type checkers understand",
            fix=self._fix(node, value, name, ctx),
        )

    @staticmethod
    def _fix(node: ast.Assign, call: ast.Call, name: str, ctx: FileContext) -> Fix | None:
        keywords = {k.arg: k.value for k in call.keywords}
        if call.args or None in keywords or set(keywords) - {"metadata", "cls"}:
            return None
        if node.col_offset != 0 or ctx.parent() is not ctx.source.tree:
            return None  # under an `if`/`try`: keep the rewrite to plain module level
        bases = ["DeclarativeBase"]
        if "cls" in keywords:
            bases.insert(0, node_text(ctx, keywords["cls"]))
        body = (
            f"metadata = {node_text(ctx, keywords['metadata'])}"
            if "metadata" in keywords
            else "pass"
        )
        edits = [replace_node(ctx, node, f"class {name}({', '.join(bases)}):\n    {body}")]
        only = _sole_import(call, ctx)
        if only is not None:  # `from sqlalchemy.orm import declarative_base` used just here
            edits.insert(0, replace_node(ctx, only, "from sqlalchemy.orm import DeclarativeBase"))
            return Fix(
                f"Declare `class {name}(DeclarativeBase)`", tuple(edits), Applicability.UNSAFE
            )
        imports = import_edit(ctx, "sqlalchemy.orm", ["DeclarativeBase"])
        if imports is not None:
            edits.insert(0, imports)
        return Fix(f"Declare `class {name}(DeclarativeBase)`", tuple(edits), Applicability.UNSAFE)


def _sole_import(call: ast.Call, ctx: FileContext) -> ast.ImportFrom | None:
    """The import statement of `declarative_base` when it imports nothing else and the call
    is the name's only use (the fix can then replace the import instead of leaving it unused)."""
    if not isinstance(call.func, ast.Name):
        return None
    local = call.func.id
    tree = ctx.source.tree
    if tree is None or ctx.source.text.count(local) != 2 or imported_as_is(ctx, "DeclarativeBase"):
        return None
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.ImportFrom)
            and len(stmt.names) == 1
            and stmt.names[0].name == "declarative_base"
            and (stmt.names[0].asname or "declarative_base") == local
        ):
            return stmt
    return None


def imported_as_is(ctx: FileContext, name: str) -> bool:
    return name in ctx.facts.imports
