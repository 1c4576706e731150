"""`default=timezone.now` / `auto_now_add=True` where the database could own the value (Django 5.0+)."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_models import django_models
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

# `default=now` on these names stamps the row's creation; on others (`start_date`,
# `price_expiration`) it is a starting value the application goes on computing.
CREATION_WORDS = frozenset(
    {"created", "creation", "added", "inserted", "joined", "timestamp", "submitted",
     "received", "recorded", "logged", "occurred", "placed", "date", "time", "when"}
)  # fmt: skip
APPLICATION_WORDS = frozenset(
    {"start", "end", "expiration", "expires", "expiry", "valid", "due", "until", "deadline",
     "scheduled", "publish", "published", "last", "next", "modified", "updated", "seen"}
)  # fmt: skip


def creation_stamp(name: str) -> bool:
    words = set(name.lower().strip("_").split("_"))
    return bool(words & CREATION_WORDS) and not words & APPLICATION_WORDS


NOW_CALLABLES = frozenset(
    {"django.utils.timezone.now", "datetime.datetime.now", "datetime.datetime.utcnow"}
)


class PythonDefaultNow(Rule):
    code = "BEX409"
    slug = "django-python-default-now"
    pack = "django"
    severity = Severity.INFO
    category = "modernization"
    frameworks = ("django",)
    min_versions = {"django": "5.0"}
    summary = "A creation timestamp is computed in Python where the database could set it with `db_default=Now()`"
    hint = "Use `db_default=Now()` (`from django.db.models.functions import Now`) and let the database stamp the row."
    explanation = Explanation(
        what=(
            "Flags model fields declared with `auto_now_add=True`, or with "
            "`default=timezone.now` (or `datetime.now`) when the name says the field records "
            "when the row was created (`created_at`, `date_joined`, `timestamp`...), in projects "
            "on Django 5.0 or later. Fields such as `start_date` or `expires_at`, whose value the "
            "application goes on computing, are left alone."
        ),
        why=(
            "The value then comes from the clock of whichever application server saved the "
            "row, and only rows written through the ORM get it: raw SQL inserts, bulk loads "
            "and other services writing to the same table leave it empty or must repeat the "
            "logic. Since Django 5.0 `db_default` puts the default in the schema, so the "
            "database stamps every insert with one clock."
        ),
        use_instead=(
            "`created_at = models.DateTimeField(db_default=Now())`. On backends that cannot "
            "return inserted values (SQLite before 3.35, MySQL) the instance holds a "
            "placeholder until `refresh_from_db()`; keep the Python default where code reads "
            "the value right after creating the row, or where the application must compute it."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/fields/#db-default",
            "https://docs.djangoproject.com/en/stable/releases/5.0/#database-computed-default-values",
        ),
    )
    fire = (
        Example(
            title="auto_now_add and default=timezone.now on models",
            files={
                "events/__init__.py": "",
                "events/models.py": """\
from django.db import models
from django.utils import timezone


class Event(models.Model):
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(auto_now_add=True)  # flagged
    received_at = models.DateTimeField(default=timezone.now)  # flagged
""",
            },
            dependencies=("django>=5.0",),
            fixed="""\
from django.db import models
from django.db.models.functions import Now


class Event(models.Model):
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(db_default=Now())
    received_at = models.DateTimeField(db_default=Now())
""",
        ),
        Example(
            title="an abstract base in another app",
            files={
                "core/__init__.py": "",
                "core/models.py": """\
from datetime import datetime

from django.db import models


class Stamped(models.Model):
    created = models.DateTimeField(default=datetime.now)  # flagged

    class Meta:
        abstract = True
""",
                "shop/__init__.py": "",
                "shop/models.py": "from core.models import Stamped\n\n\nclass Cart(Stamped):\n    pass\n",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: db_default=Now(), auto_now, and values the application computes",
            files={
                "events/__init__.py": "",
                "events/models.py": """\
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from events.clock import expiry


class Event(models.Model):
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(default=expiry)
    starts_at = models.DateTimeField(default=timezone.now)
    price_expiration = models.DateTimeField(default=timezone.now)
""",
            },
            dependencies=("django>=5.0",),
        ),
        Example(
            title="near miss: a project pinned below Django 5.0, where db_default does not exist",
            files={
                "events/__init__.py": "",
                "events/models.py": """\
from django.db import models


class Event(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
""",
            },
            dependencies=("django>=4.2,<5.0",),
        ),
        Example(
            title="near miss: a form field and a serializer field with a default",
            files={
                "events/__init__.py": "",
                "events/forms.py": """\
from django import forms
from django.utils import timezone


class EventForm(forms.Form):
    when = forms.DateTimeField(initial=timezone.now)


def stamp(data, default=timezone.now):
    return data.get("when") or default()
""",
            },
        ),
        Example(
            title="near miss: `default=timezone.now()` is a different bug (one fixed time), and a field that already has db_default",
            files={
                "events/__init__.py": "",
                "events/models.py": """\
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class Event(models.Model):
    created = models.DateTimeField(default=timezone.now, db_default=Now())
""",
            },
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        if ctx.enclosing_function() is not None or "/migrations/" in f"/{ctx.path}":
            return
        model = django_models(ctx.project).models.get(f"{ctx.module}.{node.name}")
        if model is None:
            return
        for stmt in node.body:
            if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, ast.Call):
                continue
            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            if not names or names[0] not in model.fields:
                continue
            keywords = {k.arg: k.value for k in stmt.value.keywords if k.arg}
            if "db_default" in keywords:
                continue
            auto = keywords.get("auto_now_add")
            default = keywords.get("default")
            if isinstance(auto, ast.Constant) and auto.value is True:
                how = "`auto_now_add=True`"
            elif (
                default is not None
                and ctx.qualname(default) in NOW_CALLABLES
                and creation_stamp(names[0])
            ):
                how = f"`default={ast.unparse(default)}`"
            else:
                continue
            ctx.report(
                stmt,
                f"`{node.name}.{names[0]}` is stamped in Python with {how}; on Django 5.0+ "
                "`db_default=Now()` lets the database set it for every insert",
            )
