"""`CharField(null=True)` / `TextField(null=True)`: two different "empty" values."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_web import is_model
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

STRING_FIELDS = frozenset(
    {"CharField", "TextField", "SlugField", "EmailField", "URLField", "FilePathField"}
)
QUALIFIED = frozenset(
    f"django.db.models{module}.{name}" for name in STRING_FIELDS for module in ("", ".fields")
)


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


class NullableString(Rule):
    code = "BEX411"
    slug = "django-nullable-string"
    pack = "django"
    severity = Severity.INFO
    category = "design"
    frameworks = ("django",)
    summary = "String model field with `null=True`: NULL and the empty string both mean empty"
    hint = 'Drop `null=True` (keep `blank=True`, store ""), unless the field is also `unique=True`.'
    explanation = Explanation(
        what=(
            "Flags `CharField`, `TextField`, `SlugField`, `EmailField`, `URLField` and "
            "`FilePathField` (and project subclasses of them) declared with `null=True` on a "
            "Django model, unless the field is also `unique=True` or part of a "
            "`unique_together`/`UniqueConstraint` (several blank values must then be NULL to "
            "not collide) or the model is unmanaged (`managed = False`: the table belongs to "
            "someone else)."
        ),
        why=(
            'A nullable string column has two empty values, NULL and "". Forms and the admin '
            'save "" for a blank input while imports and code paths save None, so '
            '`filter(nickname="")` misses the NULL rows, `exclude(nickname__isnull=True)` keeps '
            "the empty ones, and every query and template has to handle both. Django's "
            "convention is to store the empty string and keep NULL out."
        ),
        use_instead='`models.CharField(max_length=80, blank=True)` (with `default=""` when needed).',
        fix_safety=(
            'Removing `null=True` needs a migration that turns existing NULLs into "" first '
            "(`UPDATE ... SET col = '' WHERE col IS NULL`); no automatic fix."
        ),
        references=("https://docs.djangoproject.com/en/stable/ref/models/fields/#null",),
    )
    fire = (
        Example(
            title="nullable text fields",
            code="""\
from django.db import models


class Customer(models.Model):
    nickname = models.CharField(max_length=80, null=True, blank=True)  # flagged
    bio = models.TextField(null=True)  # flagged
    website = models.URLField(null=True, blank=True)  # flagged
""",
            fixed="""\
from django.db import models


class Customer(models.Model):
    nickname = models.CharField(max_length=80, blank=True)
    bio = models.TextField(blank=True)
    website = models.URLField(blank=True)
""",
        ),
        Example(
            title="a model whose base class lives in another module (cross-file)",
            files={
                "core/__init__.py": "",
                "core/models.py": """\
from django.db import models


class TimeStamped(models.Model):
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
""",
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db.models import CharField

from core.models import TimeStamped


class Coupon(TimeStamped):
    note = CharField(max_length=200, null=True)  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title="blank strings, and a unique optional code",
            code="""\
from django.db import models


class Customer(models.Model):
    nickname = models.CharField(max_length=80, blank=True)
    tax_id = models.CharField(max_length=20, null=True, blank=True, unique=True)
""",
        ),
        Example(
            title="nullable non-string fields",
            code="""\
from django.db import models


class Shipment(models.Model):
    shipped_at = models.DateTimeField(null=True, blank=True)
    weight = models.DecimalField(max_digits=8, decimal_places=2, null=True)
    carrier = models.ForeignKey("Carrier", null=True, on_delete=models.SET_NULL)
    ip = models.GenericIPAddressField(null=True, blank=True)
""",
        ),
        Example(
            title="an unmanaged model mapping a legacy table",
            code="""\
from django.db import models


class LegacyCustomer(models.Model):
    name = models.CharField(max_length=80, null=True)

    class Meta:
        managed = False
        db_table = "crm_customer"
""",
        ),
        Example(
            title="a form field and a migration operation",
            code="""\
from django import forms
from django.db import migrations, models


class NoteForm(forms.Form):
    text = forms.CharField(required=False)


class Migration(migrations.Migration):
    operations = [
        migrations.AddField("customer", "note", models.CharField(max_length=10, null=True)),
    ]
""",
        ),
        Example(
            title="an optional code that is unique per owner",
            code="""\
from django.db import models


class Voucher(models.Model):
    shop = models.ForeignKey("Shop", on_delete=models.CASCADE)
    code = models.CharField(max_length=20, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="one_code_per_shop")]
""",
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        parent = ctx.parent()
        if not isinstance(parent, ast.Module):
            return
        project = ctx.project
        qualname = f"{ctx.module}.{node.name}"
        if not is_model(qualname, project):
            return
        facts = ctx.facts.classes.get(node.name)
        meta = facts.inner.get("Meta", {}) if facts is not None else {}
        if meta.get("managed") == "False":
            return
        together = " ".join(
            meta.get(option, "") for option in ("unique_together", "constraints")
        )  # fields in a unique constraint need NULL so that blank values do not collide
        for stmt in node.body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
            if not isinstance(value, ast.Call):
                continue
            keywords = {k.arg: k.value for k in value.keywords if k.arg}
            if not _is_true(keywords.get("null")) or _is_true(keywords.get("unique")):
                continue
            names = [
                t.id
                for t in getattr(stmt, "targets", [getattr(stmt, "target", None)])
                if isinstance(t, ast.Name)
            ]
            if any(f"'{n}'" in together or f'"{n}"' in together for n in names):
                continue
            field = self._string_field(value.func, ctx)
            if field is None:
                continue
            ctx.report(
                stmt,
                f'{field}(null=True) gives this column two empty values, NULL and "": '
                'filters and templates must then handle both. Keep blank=True, store "", and '
                "drop null=True.",
                confidence=Confidence.HIGH,
                end_node=stmt,
            )

    @staticmethod
    def _string_field(func: ast.AST, ctx: FileContext) -> str | None:
        qualified = ctx.qualname(func)
        if qualified is None:
            return None
        resolved = ctx.project.resolve(qualified)
        if resolved in QUALIFIED:
            return resolved.rpartition(".")[2]
        if ctx.project.class_facts(resolved) is not None and ctx.project.is_subclass(
            resolved, QUALIFIED
        ):
            return resolved.rpartition(".")[2]
        return None
