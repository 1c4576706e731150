"""A model field filtered on across the project that has no index."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_models import django_models
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

THRESHOLD = 3
# Field classes an index on equality rarely helps (two values, quantities, timestamps compared
# by range) or that need another kind of index.
SKIPPED_CLASSES = frozenset(
    {
        "BooleanField",
        "NullBooleanField",
        "JSONField",
        "BinaryField",
        "ArrayField",
        "HStoreField",
        "DateTimeField",
        "DateField",
        "TimeField",
        "DurationField",
        "FileField",
        "ImageField",
    }
)

MODELS = """\
from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True)
    status = models.CharField(max_length=16)  # flagged
    channel = models.CharField(max_length=16)
    paid = models.BooleanField(default=False)
    email = models.EmailField()
    kind = models.CharField(max_length=8, choices=[("a", "A"), ("b", "B")])

    class Meta:
        indexes = [models.Index(fields=["email", "paid"])]
"""


class UnindexedFilter(Rule):
    code = "BEX407"
    slug = "django-unindexed-filter"
    pack = "django"
    severity = Severity.INFO
    category = "performance"
    frameworks = ("django",)
    summary = "A field filtered on in several places of the project has no database index"
    hint = "Add `db_index=True` to the field, or a `models.Index` on it in `Meta.indexes` (and a migration)."
    explanation = Explanation(
        what=(
            "Counts, across the whole project (tests and migrations aside), the places that "
            "filter a model on a field by keyword: `Model.objects.filter(field=...)`, "
            "`.get(...)`, `.exclude(...)`, `get_object_or_404(Model, field=...)`, by equality "
            "(`field=`, `field__exact=`, `field__in=`). A text-like field (not a boolean, a "
            "number, a date or a field with `choices`) used so in "
            f"{THRESHOLD} or more places that has no `db_index`, `unique`, primary key or "
            "ForeignKey index, and is not part of a `Meta.indexes`/`unique_together`/unique "
            "constraint entry, is reported at its definition."
        ),
        why=(
            "Without an index the database scans the whole table for each of those queries. "
            "It is fast in development and becomes the slowest query of the site once the "
            "table holds a few hundred thousand rows; a field the code keeps filtering on is "
            "one that deserves an index."
        ),
        use_instead=(
            "`db_index=True` on the field, or `models.Index(fields=[...])` in `Meta.indexes` "
            "(a composite index helps when the field comes first). Boolean fields are not "
            "reported: an index on two values rarely helps; use a partial index "
            "(`Index(fields=[...], condition=Q(...))`) there."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/models/fields/#db-index",
            "https://docs.djangoproject.com/en/stable/ref/models/indexes/",
            "https://docs.djangoproject.com/en/stable/topics/db/optimization/#use-standard-db-optimization-techniques",
        ),
    )
    fire = (
        Example(
            title="a status filtered on in three places of two modules",
            files={
                "shop/__init__.py": "",
                "shop/models.py": MODELS,
                "shop/views.py": """\
from django.shortcuts import get_object_or_404

from shop.models import Order


def open_orders():
    return Order.objects.filter(status="open")


def order(number):
    return get_object_or_404(Order, number=number, status__in=["open", "paid"])
""",
                "shop/tasks.py": """\
from shop import models


def close_stale():
    models.Order.objects.exclude(status="closed").filter(paid=True).update(status="closed")
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: indexed, unique, ForeignKey and leading-composite-index fields",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Customer(models.Model):
    email = models.EmailField(unique=True)


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    status = models.CharField(max_length=16, db_index=True)
    channel = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["channel", "status"])]
""",
                "shop/views.py": """\
from shop.models import Customer, Order


def a(c):
    return Order.objects.filter(customer=c, status="x", channel="web")


def b(c):
    return Order.objects.filter(customer=c, status="y", channel="web")


def c(email):
    Order.objects.filter(customer__email=email, status="z", channel="app")
    return Customer.objects.get(email=email)
""",
            },
        ),
        Example(
            title="near miss: two places only, a boolean, a field with choices, substring lookups",
            files={
                "shop/__init__.py": "",
                "shop/models.py": MODELS,
                "shop/views.py": """\
from shop.models import Order


def a():
    return Order.objects.filter(status="open", paid=True, channel__icontains="web", kind="a")


def b():
    return Order.objects.filter(status="paid", paid=True, channel__icontains="app", kind="b")


def c():
    return Order.objects.filter(paid=False, channel__contains="x", kind="a")
""",
            },
        ),
        Example(
            title="near miss: the lookups are in tests",
            files={
                "shop/__init__.py": "",
                "shop/models.py": MODELS,
                "tests/test_orders.py": """\
from shop.models import Order


def test_a():
    assert Order.objects.filter(status="a").count() == 0
    assert Order.objects.filter(status="b").count() == 0
    assert Order.objects.filter(status="c").count() == 0
""",
            },
        ),
        Example(
            title="near miss: a same-named field of another model, and a variable receiver",
            files={
                "shop/__init__.py": "",
                "shop/models.py": MODELS,
                "shop/other.py": """\
from django.db import models


class Ticket(models.Model):
    status = models.CharField(max_length=10, db_index=True)


def a(qs):
    Ticket.objects.filter(status="a")
    Ticket.objects.filter(status="b")
    Ticket.objects.filter(status="c")
    return qs.filter(status="d")
""",
            },
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        if ctx.is_test or ctx.enclosing_function() is not None:
            return
        models = django_models(ctx.project)
        model = models.models.get(f"{ctx.module}.{node.name}")
        if model is None or model.abstract or model.proxy or model.index_names_unknown:
            return
        if not model.complete:
            return  # an unknown base may declare indexes
        counts = models.lookup_counts
        for stmt in node.body:
            if not isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                if not isinstance(target, ast.Name):
                    continue
                field = model.fields.get(target.id)
                if (
                    field is None
                    or field.kind != "plain"
                    or field.declared_in != model.qualname
                    or field.indexed
                    or field.name in model.indexed
                    or field.simple_class in SKIPPED_CLASSES
                    or field.numeric
                    or "choices" in field.options  # a handful of values: rarely selective
                ):
                    continue
                sites, modules = counts.get((model.qualname, field.name), (0, 0))
                if sites < THRESHOLD:
                    continue
                where = f"{modules} modules" if modules > 1 else "one module"
                ctx.report(
                    stmt,
                    f"`{model.name}.{field.name}` is filtered on in {sites}+ places ({where}) "
                    f"but has no index; add `db_index=True` or a `models.Index(fields="
                    f'["{field.name}"])` to `Meta.indexes`',
                    confidence=Confidence.MEDIUM,
                )
