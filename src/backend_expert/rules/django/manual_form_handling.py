"""A view copying `request.POST` values into models by hand, with no form or serializer."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.django_web import decorator_names, is_request, manager_chain_model, view_of
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit

SUBMITTED = frozenset({"POST", "data"})
ITEM_READERS = frozenset({"get", "getlist", "pop", "dict", "copy", "items", "values", "lists"})
WRITES = frozenset({"create", "update", "get_or_create", "update_or_create", "bulk_create"})
# A call building a form or serializer: `ProfileForm(...)`, `self.form(...)`,
# `self.get_form()`, `initialize_form(request)`, `get_serializer(...)`, `modelform_factory(...)`.
FORM_CALL = re.compile(r"(?:^|_)form(?:s|set)?(?:_|$)|Form|[Ss]erializer")


def _submitted(node: ast.AST) -> bool:
    """`request.POST` / `request.data` (also through `self.request`)."""
    return isinstance(node, ast.Attribute) and node.attr in SUBMITTED and is_request(node.value)


def _is_read(node: ast.AST) -> bool:
    """A read of one submitted value: `request.POST["x"]`, `request.POST.get("x")`,
    `request.data.getlist("x")`."""
    if isinstance(node, ast.Subscript):
        return _submitted(node.value)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ITEM_READERS
        and _submitted(node.func.value)
    )


class ManualFormHandling(Rule):
    code = "BEX418"
    slug = "django-manual-form-handling"
    pack = "django"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("django",)
    skip_tests = True
    summary = "View copying `request.POST` values into models by hand instead of using a form or serializer"
    hint = "Validate the input with a Form/ModelForm (or a DRF serializer) and save from `cleaned_data`."
    explanation = Explanation(
        what=(
            "Flags a view (function view, or a method of a class-based or DRF view) that reads "
            "single values from `request.POST` or `request.data` (`[...]`, `.get()`, "
            "`.getlist()`) and writes them to the database (an attribute set on an object that "
            "is then saved, or an argument of `create()`, `update()`, `get_or_create()`...), "
            "without instantiating any Form, ModelForm, formset or serializer. Reading a "
            "submitted value only to choose a redirect or to filter, values checked against a "
            "fixed set (`if theme in (...)`), and csrf-exempt views (callbacks from other "
            "servers, not forms people fill in) are left alone."
        ),
        why=(
            "Raw POST values are strings the client chose: nothing checks that a quantity is a "
            "positive number, that an email is an email, that a choice is one of the allowed "
            "values or that a required field is there. Bad input then becomes a 500 "
            "(`MultiValueDictKeyError`, `ValueError`) or, worse, bad data in the database, and "
            "the user gets no error message to correct it. A form or serializer validates, "
            "converts and reports errors field by field in one place."
        ),
        use_instead=(
            "`form = ProfileForm(request.POST, instance=profile)`, "
            "`if form.is_valid(): form.save()`, and render the form with its errors otherwise; "
            "in DRF, `serializer = ProfileSerializer(instance, data=request.data)`, "
            "`serializer.is_valid(raise_exception=True)`, `serializer.save()`."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/forms/",
            "https://docs.djangoproject.com/en/stable/topics/forms/modelforms/",
        ),
    )
    fire = (
        Example(
            title="fields copied from request.POST and saved",
            code="""\
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def edit_profile(request):
    if request.method == "POST":
        profile = request.user.profile
        profile.display_name = request.POST["display_name"]  # flagged
        profile.country = request.POST.get("country", "")
        profile.save()
    return redirect("profile")
""",
            fixed="""\
@login_required
def edit_profile(request):
    form = ProfileForm(request.POST or None, instance=request.user.profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("profile")
    return render(request, "profile.html", {"form": form})
""",
        ),
        Example(
            title="a create() fed from request.POST in a class-based view",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Review(models.Model):
    rating = models.PositiveSmallIntegerField()
    body = models.TextField(blank=True)
""",
                "shop/views.py": """\
from django.http import HttpResponseRedirect
from django.views import View

from .models import Review


class AddReview(View):
    def post(self, request, product_id):
        rating = request.POST["rating"]  # flagged
        Review.objects.create(product_id=product_id, rating=rating, body=request.POST.get("body", ""))
        return HttpResponseRedirect("/")
""",
            },
        ),
    )
    clean = (
        Example(
            title="a ModelForm does the work",
            code="""\
from django.shortcuts import redirect, render

from .forms import ProfileForm


def edit_profile(request):
    form = ProfileForm(request.POST or None, instance=request.user.profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect(request.POST.get("next", "profile"))
    return render(request, "profile.html", {"form": form})
""",
        ),
        Example(
            title="submitted values read only to filter or redirect",
            code="""\
from django.shortcuts import redirect, render

from .models import Order


def search_orders(request):
    orders = Order.objects.filter(status=request.POST.get("status", "open"))
    return render(request, "orders.html", {"orders": orders})


def delete_order(request, pk):
    Order.objects.filter(pk=pk, customer=request.user).delete()
    return redirect(request.POST.get("next", "/"))
""",
        ),
        Example(
            title="a DRF view with a serializer",
            code="""\
from rest_framework.response import Response
from rest_framework.views import APIView

from .serializers import ReviewSerializer


class AddReview(APIView):
    def post(self, request):
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(author=request.user, source=request.data.get("source", "web"))
        return Response(serializer.data, status=201)
""",
        ),
        Example(
            title="a helper that is not a view",
            code="""\
from .models import Review


def import_review(payload):
    Review.objects.create(rating=payload["rating"], body=payload.get("body", ""))
""",
        ),
        Example(
            title="a submitted choice checked against a fixed set before it is saved",
            code="""\
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def appearance(request):
    profile = request.user.profile
    if request.method == "POST":
        theme = request.POST.get("theme", "")
        if theme in ("", "dark", "light"):
            profile.theme = theme
            profile.save()
    return render(request, "appearance.html", {"profile": profile})
""",
        ),
        Example(
            title="a delivery-status callback from another server (csrf-exempt)",
            code="""\
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Delivery


@csrf_exempt
@require_POST
def delivery_status(request, code):
    if request.POST.get("status") == "failed":
        Delivery.objects.filter(code=code).update(error=request.POST.get("reason", "")[:200])
    return HttpResponse()
""",
        ),
        Example(
            title="a form built by a helper method of a generic view",
            code="""\
from django.shortcuts import redirect
from django.views import View


class BulkRename(View):
    form = None

    def post(self, request):
        form = self.form(request.POST)
        if form.is_valid():
            for obj in self.queryset.filter(pk__in=request.POST.getlist("pk")):
                obj.name = form.cleaned_data["name"]
                obj.save()
        return redirect("/")
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        view = view_of(node, ctx)
        if view is None or "csrf_exempt" in decorator_names(node):
            return  # csrf-exempt views answer other servers (webhooks), not people
        nodes = ctx.own_nodes(node)
        reads = [inner for inner in nodes if _is_read(inner)]
        if not reads or self._uses_form(nodes, ctx):
            return
        tainted: set[str] = set()
        changed = True
        statements = [n for n in nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign))]
        while changed:
            changed = False
            for stmt in statements:
                value = stmt.value
                if value is None or not self._carries(value, tainted):
                    continue
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and name.id not in tainted:
                            tainted.add(name.id)
                            changed = True
        tainted -= _checked(nodes)
        saved = {
            ast.unparse(n.func.value)
            for n in nodes
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "save"
        }
        written = False
        for inner in nodes:
            if isinstance(inner, ast.Assign) and saved:
                if any(
                    isinstance(t, ast.Attribute) and ast.unparse(t.value) in saved
                    for t in inner.targets
                ) and self._carries(inner.value, tainted):
                    written = True
            elif (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in WRITES
                and (
                    manager_chain_model(inner.func.value, ctx) is not None
                    or isinstance(inner.func.value, ast.Attribute)
                )
            ):
                values = [*inner.args, *(k.value for k in inner.keywords)]
                if any(self._carries(v, tainted) for v in values):
                    written = True
            if written:
                break
        if not written:
            return
        first = min(reads, key=lambda n: (n.lineno, n.col_offset))
        source = "request.data" if "data" in ast.unparse(first).split("(")[0] else "request.POST"
        ctx.report(
            first,
            f"This view copies values from {source} into the database by hand, with no form or "
            "serializer: nothing checks types, choices or required fields, and bad input becomes "
            "a 500 or bad data instead of an error message. Validate with a Form/ModelForm "
            "(or a serializer) and save from cleaned_data.",
            confidence=Confidence.MEDIUM,
        )

    @staticmethod
    def _carries(value: ast.AST, tainted: set[str]) -> bool:
        for inner in ast.walk(value):
            if isinstance(inner, ast.Name) and inner.id in tainted:
                return True
            if _is_read(inner):
                return True
        return False

    @staticmethod
    def _uses_form(nodes: list[ast.AST], ctx: FileContext) -> bool:
        for inner in nodes:
            if not isinstance(inner, ast.Call):
                continue
            name = (dotted(inner.func) or "").rpartition(".")[2]
            if FORM_CALL.search(name):
                return True
            qualified = (
                ctx.qualname(inner.func)
                if isinstance(inner.func, (ast.Name, ast.Attribute))
                else None
            )
            if qualified and ctx.project.is_subclass(
                qualified,
                {
                    "django.forms.Form",
                    "django.forms.ModelForm",
                    "django.forms.BaseForm",
                    "rest_framework.serializers.Serializer",
                    "rest_framework.serializers.ModelSerializer",
                },
            ):
                return True
        return False


def _checked(nodes: list[ast.AST]) -> set[str]:
    """Names the view checks against a fixed set (`if theme in ("dark", "light"):`): they are
    validated by hand, which is what a form would do."""
    found = set()
    for node in nodes:
        if (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Name)
            and len(node.ops) == 1
            and isinstance(node.ops[0], (ast.In, ast.NotIn))
        ):
            found.add(node.left.id)
    return found
