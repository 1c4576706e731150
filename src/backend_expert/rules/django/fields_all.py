"""ModelForm / ModelSerializer with `fields = "__all__"` or `exclude`: mass assignment."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.django_web import view_class_kind, web_model
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

FORMS = frozenset({"django.forms.ModelForm", "django.forms.models.ModelForm"})
SERIALIZERS = frozenset(
    {
        "rest_framework.serializers.ModelSerializer",
        "rest_framework.serializers.HyperlinkedModelSerializer",
    }
)
READ_ONLY_VIEWS = frozenset({"ReadOnlyModelViewSet", "ListAPIView", "RetrieveAPIView"})
WRITE_VIEWS = frozenset(
    {"ModelViewSet", "CreateAPIView", "ListCreateAPIView", "UpdateAPIView",
     "RetrieveUpdateAPIView", "RetrieveUpdateDestroyAPIView", "CreateModelMixin",
     "UpdateModelMixin"}
)  # fmt: skip
WRITE_METHODS = frozenset({"post", "put", "patch", "create", "update", "partial_update"})
# Words in a serializer's name that say it only renders data.
READ_WORDS = frozenset(
    {"read", "readonly", "output", "response", "export", "display", "summary", "minimal",
     "brief", "nested", "list", "preview", "public"}
)  # fmt: skip


def _words(name: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", name)}


class FieldsAll(Rule):
    code = "BEX410"
    slug = "django-fields-all"
    pack = "django"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("django", "drf")
    skip_tests = True
    summary = 'ModelForm or ModelSerializer accepting every model field (`fields = "__all__"` or `exclude`)'
    hint = "List the fields the form or serializer may accept in `Meta.fields`."
    explanation = Explanation(
        what=(
            'Flags `fields = "__all__"` and `exclude = [...]` in the `Meta` of a Django '
            "`ModelForm` and of a DRF `ModelSerializer`/`HyperlinkedModelSerializer`, "
            "subclasses defined in other modules included. An `exclude` that narrows a `fields` "
            "list (its own, or one inherited through `class Meta(Parent.Meta)`) is fine. "
            "Serializers that only render data "
            "are left alone: used only by read-only views (`ReadOnlyModelViewSet`, "
            "`ListAPIView`, `RetrieveAPIView`), or named for output (`...ReadSerializer`, "
            "`...ListSerializer`, `...NestedSerializer`). Forms defined in `admin.py` or used as "
            "a ModelAdmin's `form` are left alone too: staff editing every field is the point "
            "of the admin."
        ),
        why=(
            "With `__all__` or `exclude`, which fields users may set is decided by the model, "
            "not by the form: every field added to the model later (`is_staff`, `price`, "
            "`owner`, `is_verified`) becomes writable from the request without anyone deciding "
            "it. This is the mass-assignment hole; Django's documentation recommends listing "
            "fields explicitly for this reason."
        ),
        use_instead=(
            'List what the client may send: `fields = ["title", "body"]`; for serializers, '
            "put computed or protected fields in `read_only_fields`."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/forms/modelforms/#selecting-the-fields-to-use",
            "https://www.django-rest-framework.org/api-guide/serializers/#specifying-which-fields-to-include",
        ),
    )
    fire = (
        Example(
            title="a ModelForm and a ModelSerializer",
            code="""\
from django import forms
from django.contrib.auth.models import User
from rest_framework import serializers


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = "__all__"  # flagged


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        exclude = ["password"]  # flagged
""",
            fixed="""\
class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email"]
""",
        ),
        Example(
            title="a serializer used by a writable viewset, through a project base class (cross-file)",
            files={
                "api/__init__.py": "",
                "api/base.py": """\
from rest_framework import serializers


class BaseSerializer(serializers.ModelSerializer):
    pass
""",
                "api/serializers.py": """\
from .base import BaseSerializer
from .models import Order


class OrderSerializer(BaseSerializer):
    class Meta:
        model = Order
        fields = "__all__"  # flagged
""",
                "api/views.py": """\
from rest_framework import viewsets

from .models import Order
from .serializers import OrderSerializer


class OrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer
""",
            },
        ),
    )
    clean = (
        Example(
            title="explicit field lists",
            code="""\
from django import forms
from django.contrib.auth.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name"]
""",
        ),
        Example(
            title="a serializer only read-only views use",
            files={
                "api/__init__.py": "",
                "api/serializers.py": """\
from rest_framework import serializers

from .models import Product


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = "__all__"
""",
                "api/views.py": """\
from rest_framework import generics, viewsets

from .models import Product
from .serializers import ProductSerializer


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer


class ProductDetail(generics.RetrieveAPIView):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
""",
            },
        ),
        Example(
            title="a serializer named for output",
            code="""\
from rest_framework import serializers

from .models import Order


class OrderReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = "__all__"
""",
        ),
        Example(
            title="a form for the admin",
            files={
                "shop/__init__.py": "",
                "shop/forms.py": """\
from django import forms

from .models import Product


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = "__all__"
""",
                "shop/admin.py": """\
from django.contrib import admin

from .forms import ProductAdminForm
from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
""",
            },
        ),
        Example(
            title="a plain Form and a FilterSet with `fields = '__all__'`",
            code="""\
import django_filters
from django import forms

from .models import Order


class SearchForm(forms.Form):
    q = forms.CharField()


class OrderFilter(django_filters.FilterSet):
    class Meta:
        model = Order
        fields = "__all__"
""",
        ),
        Example(
            title="`exclude` narrowing a field list inherited from the parent form's Meta",
            code="""\
from django import forms

from .models import Port


class PortForm(forms.ModelForm):
    class Meta:
        model = Port
        fields = ["device", "name", "label", "speed"]


class PortCreateForm(PortForm):
    class Meta(PortForm.Meta):
        exclude = ["name", "label"]
""",
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        meta = next(
            (s for s in node.body if isinstance(s, ast.ClassDef) and s.name == "Meta"), None
        )
        if meta is None:
            return
        target = exclude = None
        listed = False  # `fields = [...]`: an `exclude` next to it only narrows the list
        for stmt in meta.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                name = getattr(stmt.targets[0], "id", None)
                if name == "fields":
                    if isinstance(stmt.value, ast.Constant) and stmt.value.value == "__all__":
                        target = stmt
                    else:
                        listed = True
                elif name == "exclude":
                    exclude = stmt
        if target is None and exclude is not None and not listed and not meta.bases:
            target = exclude  # `class Meta(Parent.Meta)` inherits the parent's field list
        if target is None or not isinstance(ctx.parent(), ast.Module):
            return
        project = ctx.project
        qualname = f"{ctx.module}.{node.name}"
        ancestors = project.ancestors(qualname)
        if ancestors & FORMS:
            kind = "form"
            if _admin_form(qualname, ctx):
                return
        elif ancestors & SERIALIZERS:
            kind = "serializer"
        else:
            return
        confidence = Confidence.MEDIUM
        if kind == "serializer":
            if _words(node.name) & READ_WORDS:
                return
            users = web_model(project).serializer_users.get(qualname, [])
            verdicts = [_writable(user, project) for user in users]
            if verdicts and not any(verdicts):
                return
            if any(verdicts):
                confidence = Confidence.HIGH
        how = (
            'takes every model field (`fields = "__all__"`)'
            if getattr(target.targets[0], "id", "") == "fields"
            else "takes every model field not listed in `exclude`"
        )
        ctx.report(
            target,
            f"`{node.name}` {how}: any field added to the model later becomes settable from "
            f"the request without anyone deciding it (mass assignment). List the fields this "
            f"{kind} may accept.",
            confidence=confidence,
        )


def _admin_form(qualname: str, ctx: FileContext) -> bool:
    parts = ctx.path.split("/")
    if parts[-1] == "admin.py" or "admin" in parts[:-1]:
        return True
    return qualname in _admin_forms(ctx.project)


def _admin_forms(project) -> frozenset[str]:
    """Forms named as `form = X` by a ModelAdmin or an inline (or in an admin.py), once per
    project."""
    cached = project.__dict__.get("_django_admin_forms")
    if cached is None:
        found = set()
        for facts in project.modules.values():
            for name, klass in facts.classes.items():
                member = klass.members.get("form")
                if member is None or not member.value:
                    continue
                admin = facts.path.rpartition("/")[2] == "admin.py" or any(
                    base.startswith("django.contrib.admin.")
                    for base in project.ancestors(f"{facts.module}.{name}")
                )
                if admin:
                    found.add(project.resolve(member.value))
        cached = project.__dict__["_django_admin_forms"] = frozenset(found)
    return cached


def _writable(view: str, project) -> bool:
    """False for views that only read (read-only generics, no write handlers)."""
    if view_class_kind(view, project) != "drf":
        return True
    ancestors = project.ancestors(view)
    names = {a.rpartition(".")[2] for a in ancestors}
    if names & WRITE_VIEWS:
        return True
    for name in (view, *ancestors):
        klass = project.class_facts(name)
        if klass is not None and set(klass.methods) & WRITE_METHODS:
            return True
    return not (names & READ_ONLY_VIEWS)
