"""SQLAlchemy tables with no Alembic set-up (Django apps: see django-missing-migrations)."""

from __future__ import annotations

from collections.abc import Iterator

from backend_expert.findings import Finding, Severity
from backend_expert.index import Project
from backend_expert.project_files import find_named
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import project_finding
from backend_expert.sqla_model import mapped_classes

MIGRATION_IMPORTS = ("alembic", "flask_migrate", "yoyo", "migrate")
MIGRATION_DISTRIBUTIONS = ("alembic", "flask-migrate", "yoyo-migrations", "sqlalchemy-migrate")
WEB = ("fastapi", "flask", "starlette")
MODELS = (
    "from sqlalchemy import ForeignKey\n"
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n\n"
    "class User(Base):\n    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
)
MAIN = "from fastapi import FastAPI\n\nfrom app.db import engine\nfrom app.models import Base\n\napp = FastAPI()\nBase.metadata.create_all(engine)\n"
DB = "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite://')\n"


class NoMigrations(Rule):
    code = "BEX011"
    slug = "project-no-migrations"
    pack = "project"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
    summary = "SQLAlchemy models with no Alembic migrations"
    hint = "Set up Alembic (`alembic init -t async migrations`) and generate a first revision."
    explanation = Explanation(
        what=(
            "Reports, once, a web application whose SQLAlchemy (or SQLModel, Flask-SQLAlchemy) "
            "models are mapped to tables while nothing in the project sets up migrations: no "
            "Alembic environment or revision, no Flask-Migrate, no `alembic.ini`, no migration "
            "tool among the dependencies. Django apps without a `migrations` package are "
            "`django-missing-migrations` (BEX408); this rule is only about SQLAlchemy."
        ),
        why=(
            "`metadata.create_all()` creates missing tables and nothing else: it never adds a "
            "column, changes a type or an index on a database that already exists. The first "
            "schema change after going live then means hand-written SQL on production, or a "
            "model that no longer matches its table and fails at query time."
        ),
        use_instead=(
            "Alembic, with `target_metadata = Base.metadata` in `env.py`: `alembic revision "
            '--autogenerate -m "create tables"`, review the script, `alembic upgrade head` at '
            "deploy time, and no `create_all()` outside tests."
        ),
        references=(
            "https://alembic.sqlalchemy.org/en/latest/tutorial.html",
            "https://alembic.sqlalchemy.org/en/latest/autogenerate.html",
        ),
    )
    fire = (
        Example(
            title="tables created with create_all, no Alembic",
            files={
                "app/__init__.py": "",
                "app/models.py": "# flagged\n" + MODELS,
                "app/db.py": DB,
                "app/main.py": MAIN,
            },
        ),
    )
    clean = (
        Example(
            title="near miss: an Alembic environment",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/db.py": DB,
                "app/main.py": MAIN,
                "migrations/env.py": "from alembic import context\n\nfrom app.models import Base\n\ntarget_metadata = Base.metadata\n",
            },
        ),
        Example(
            title="near miss: alembic among the dependencies (its scripts kept elsewhere)",
            files={
                "app/__init__.py": "",
                "app/models.py": MODELS,
                "app/main.py": MAIN,
                "app/db.py": DB,
            },
            dependencies=("alembic>=1.13",),
        ),
        Example(
            title="near miss: models in a library with no web application",
            files={"lib/__init__.py": "", "lib/models.py": MODELS},
        ),
        Example(
            title="near miss: only an abstract base",
            files={
                "app/__init__.py": "",
                "app/models.py": "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n",
                "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        if not project.uses(*WEB) or project.uses("django"):
            return
        if any(name in project.dependencies for name in MIGRATION_DISTRIBUTIONS):
            return
        for facts in project.modules.values():
            if any(m.partition(".")[0] in MIGRATION_IMPORTS for m in facts.imported_modules):
                return
        if find_named(project, {"alembic.ini"}, depth=3):
            return
        per_file: dict[str, int] = {}
        for model in mapped_classes(project).values():
            facts = project.by_path.get(model.path)
            if facts is not None and not facts.is_test:
                per_file[model.path] = per_file.get(model.path, 0) + 1
        if not per_file:
            return
        path = max(sorted(per_file), key=lambda p: per_file[p])
        count = sum(per_file.values())
        creates = any(
            getattr(f, "arch", None) and f.arch.creates_tables for f in project.modules.values()
        )
        how = " (tables come from `create_all()`, which never alters them)" if creates else ""
        yield project_finding(
            self,
            path,
            1,
            f"{count} SQLAlchemy model{'s' if count != 1 else ''} but no Alembic migrations{how}: "
            "schema changes will not reach existing databases",
        )
