"""`Model.objects.get(pk=<from the URL>)` in a view: a missing row becomes a 500, not a 404."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_web import is_request, manager_chain_model, view_of
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

HANDLED = frozenset({"DoesNotExist", "ObjectDoesNotExist", "Exception", "BaseException"})
# Attributes of the request that hold what the client sent.
REQUEST_DATA = frozenset({"GET", "POST", "data", "query_params", "body", "COOKIES", "headers"})


def handles_does_not_exist(node: ast.AST, ctx: FileContext) -> bool:
    """True when `node` (being visited) sits in the body of a `try` whose handlers catch
    DoesNotExist (or a broader class), or in `with suppress(...DoesNotExist)`."""
    chain = [*ctx.ancestors, node]
    for index in range(len(chain) - 2, -1, -1):
        parent = chain[index]
        child = chain[index + 1]
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(parent, ast.Try) or type(parent).__name__ == "TryStar":
            if any(child is stmt for stmt in parent.body) and any(
                _catches(handler) for handler in parent.handlers
            ):
                return True
        elif isinstance(parent, (ast.With, ast.AsyncWith)):
            for item in parent.items:
                expr = item.context_expr
                if (
                    isinstance(expr, ast.Call)
                    and (dotted(expr.func) or "").rpartition(".")[2] == "suppress"
                    and any(_name(arg) in HANDLED for arg in expr.args)
                ):
                    return True
    return False


def _catches(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_name(t) in HANDLED for t in types)


def _name(node: ast.AST) -> str:
    return (dotted(node) or "").rpartition(".")[2]


VALIDATED = frozenset({"cleaned_data", "validated_data"})
# Methods of class-based views whose parameters are the URL's (`def get(self, request, pk)`).
HANDLERS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "dispatch", "list",
     "retrieve", "create", "update", "partial_update", "destroy"}
)  # fmt: skip


def request_origin(
    expr: ast.AST,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    ctx: FileContext,
    depth: int = 0,
    url_params: bool = True,
) -> str | None:
    """How `expr` comes from the request: "the URL parameter `pk`", "`request.GET`"... or None.

    The logged-in user (`request.user`) is not request data: it was authenticated. With
    `url_params` false (a helper method of a view class), parameters are whatever the caller
    passes, not the URL.
    """
    if depth > 3:
        return None
    if any(isinstance(node, ast.Attribute) and node.attr in VALIDATED for node in ast.walk(expr)):
        return None  # a form or serializer checked it: whether the row exists is its job
    scope = ctx.scope(function)
    args = function.args.posonlyargs + function.args.args
    skipped = {a.arg for a in args[:1]} | {"self", "cls", "request"}
    if not url_params:
        skipped |= set(scope.params)
    for node in ast.walk(expr):
        if isinstance(node, ast.Attribute):
            root = node.value
            if node.attr in REQUEST_DATA and is_request(root):
                return f"`{ast.unparse(node)}`"
            if node.attr == "kwargs" and isinstance(root, ast.Name) and root.id == "self":
                return "the URL (`self.kwargs`)"
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            name = node.id
            if name in skipped:
                continue
            if name in scope.params and not scope.values(name):
                return "the URL" if name == "kwargs" else f"the URL parameter `{name}`"
            for value in scope.values(name)[:4]:
                if isinstance(value, (ast.For, ast.AsyncFor, ast.comprehension)):
                    continue
                found = request_origin(value, function, ctx, depth + 1, url_params)
                if found:
                    return found
    return None


class GetWithout404(Rule):
    code = "BEX416"
    slug = "django-get-without-404"
    pack = "django"
    severity = Severity.WARNING
    category = "correctness"
    frameworks = ("django",)
    skip_tests = True
    summary = "`Model.objects.get()` on a value from the request, in a view that does not handle DoesNotExist"
    hint = "Use `get_object_or_404(Model, ...)` (or catch `Model.DoesNotExist` and answer 404)."
    explanation = Explanation(
        what=(
            "Flags `.get()` on a model manager or queryset (`Order.objects.get(...)`, "
            "`Order.objects.filter(...).get(...)`) inside a view, when a lookup value comes from "
            "the request: a URL parameter of a function view or of a class-based view's "
            "handler, `self.kwargs`, `request.GET`/`POST`/`data`/`query_params`, or a local "
            "variable built from one of them, and no enclosing `try` catches `DoesNotExist` "
            "(or `ObjectDoesNotExist`, `Exception`). Views are function views (in views "
            "modules, wired in a `urls.py`, or carrying a view decorator) and methods of Django "
            "class-based views and DRF views (parameters count as URL values in function views "
            "and in handlers such as `get()`/`post()`/`retrieve()`, not in helper methods). "
            "Lookups on constants and on `request.user` are left alone (a missing "
            "configuration row is a server error), and so are lookups whose value was first "
            "checked against existing rows (`if pk in ids:`, `if qs.exists():`) and methods "
            "that raise DoesNotExist themselves for their caller to handle."
        ),
        why=(
            "`get()` raises `DoesNotExist` when no row matches. Neither Django nor DRF turns "
            "that exception into a 404: the client gets a 500, the error tracker gets an "
            "alert, and a crawler following stale links or someone probing ids fills the logs "
            "with server errors that are really 'not found'."
        ),
        use_instead=(
            "`get_object_or_404(Order, pk=pk)` (from `django.shortcuts`, or DRF's "
            "`rest_framework.generics`), or `try: ... except Order.DoesNotExist: raise Http404`."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/topics/http/shortcuts/#get-object-or-404",
            "https://docs.djangoproject.com/en/stable/ref/models/querysets/#get",
        ),
    )
    fire = (
        Example(
            title="a function view and a class-based view",
            files={
                "shop/__init__.py": "",
                "shop/models.py": """\
from django.db import models


class Order(models.Model):
    number = models.CharField(max_length=20)
""",
                "shop/views.py": """\
from django.http import JsonResponse
from django.views import View

from .models import Order


def order_detail(request, pk):
    order = Order.objects.get(pk=pk)  # flagged
    return JsonResponse({"number": order.number})


class OrderByNumber(View):
    def get(self, request, *args, **kwargs):
        number = request.GET["number"]
        order = Order.objects.filter(number__isnull=False).get(number=number)  # flagged
        return JsonResponse({"id": order.pk})
""",
            },
            fixed="""\
from django.shortcuts import get_object_or_404


def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk)
""",
        ),
        Example(
            title="a DRF view reading the URL through self.kwargs",
            code="""\
from django.contrib.auth.models import User
from rest_framework.response import Response
from rest_framework.views import APIView


class UserName(APIView):
    def get(self, request, *args, **kwargs):
        user = User.objects.get(username=self.kwargs["username"])  # flagged
        return Response({"name": user.get_full_name()})
""",
        ),
    )
    clean = (
        Example(
            title="DoesNotExist caught, and get_object_or_404",
            code="""\
from django.contrib.auth.models import User
from django.http import Http404
from django.shortcuts import get_object_or_404, render


def profile(request, username):
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise Http404("no such user")
    return render(request, "profile.html", {"user": user})


def profile_by_id(request, pk):
    user = get_object_or_404(User, pk=pk)
    return render(request, "profile.html", {"user": user})
""",
        ),
        Example(
            title="`.get()` outside views (a management command, a model method)",
            code="""\
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, username, **options):
        User.objects.get(username=username).delete()


def find_user(username):
    return User.objects.get(username=username)
""",
        ),
        Example(
            title="`.get()` of a dict, and a lookup on the logged-in user",
            code="""\
from django.contrib.auth.models import User
from django.http import JsonResponse


def settings_view(request):
    page = request.GET.get("page", "1")
    me = User.objects.get(pk=request.user.pk)
    return JsonResponse({"page": page, "name": me.username})
""",
        ),
        Example(
            title="a configuration row looked up by a constant",
            code="""\
from django.contrib.sites.models import Site
from django.http import JsonResponse


def site_name(request):
    return JsonResponse({"name": Site.objects.get(pk=1).name})
""",
        ),
        Example(
            title="ObjectDoesNotExist caught around a helper block",
            code="""\
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponseNotFound, JsonResponse


def user_email(request, username):
    try:
        email = User.objects.get(username=username).email
    except (ObjectDoesNotExist, ValueError):
        return HttpResponseNotFound()
    return JsonResponse({"email": email})
""",
        ),
        Example(
            title="a helper method that hands DoesNotExist to its caller on purpose",
            code="""\
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from .models import Project


class Webhook(APIView):
    def post(self, request, project_slug):
        try:
            project = self.get_project(slug=project_slug)
        except Project.DoesNotExist as error:
            raise NotFound() from error
        return project.handle(request.data)

    def get_project(self, **kwargs):
        if self.request.data.get("token"):
            return Project.objects.get(**kwargs)
        raise Project.DoesNotExist()
""",
        ),
        Example(
            title="the id is checked against existing rows first",
            code="""\
from django.http import JsonResponse
from django.views import View

from .models import Path


class Trace(View):
    def get(self, request, pk):
        paths = Path.objects.filter(origin_id=pk)
        path_id = int(request.GET.get("path", 0))
        if path_id in list(paths.values_list("pk", flat=True)):
            path = Path.objects.get(pk=path_id)
        else:
            path = paths.first()
        return JsonResponse({"path": path.pk if path else None})
""",
        ),
    )

    @visit_call("get")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr != "get":
            return
        model = manager_chain_model(func.value, ctx)
        if model is None:
            return
        function = ctx.enclosing_function()
        view = view_of(function, ctx)
        if view is None or handles_does_not_exist(node, ctx) or _raises_does_not_exist(view, ctx):
            return
        url_params = (
            view.klass is None
            or view.function.name in HANDLERS
            or any(
                "action" in (dotted(d.func if isinstance(d, ast.Call) else d) or "")
                for d in view.function.decorator_list
            )
        )
        values = [*node.args, *(k.value for k in node.keywords)]
        origin = None
        for value in values:
            origin = request_origin(value, view.function, ctx, url_params=url_params)
            if origin:
                break
        if origin is None or _existence_checked(node, values, ctx):
            return
        label = model.rpartition(".")[2] if model != "?" else "the model"
        where = "handler" if view.klass is not None else "view"
        ctx.report(
            node,
            f"`.get()` raises {label}.DoesNotExist when the value from {origin} matches no "
            f"row, and this {where} does not catch it: the client gets a 500 instead of a 404. "
            f"Use get_object_or_404() or catch {label}.DoesNotExist.",
            confidence=Confidence.HIGH,
        )


def _raises_does_not_exist(view, ctx: FileContext) -> bool:
    """A method that raises DoesNotExist itself hands the exception to its caller on purpose."""
    return any(
        isinstance(node, ast.Raise)
        and node.exc is not None
        and _name(node.exc.func if isinstance(node.exc, ast.Call) else node.exc)
        in ("DoesNotExist", "ObjectDoesNotExist")
        for node in ctx.own_nodes(view.function)
    )


def _existence_checked(node: ast.Call, values: list[ast.AST], ctx: FileContext) -> bool:
    """`if pk in ids: X.objects.get(pk=pk)`, `if qs.exists(): qs.get()`: the row is known to
    be there."""
    names = {n.id for value in values for n in ast.walk(value) if isinstance(n, ast.Name)}
    chain = [*ctx.ancestors, node]
    for index in range(len(chain) - 2, -1, -1):
        parent = chain[index]
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(parent, ast.If) and any(chain[index + 1] is stmt for stmt in parent.body):
            for test in ast.walk(parent.test):
                if (
                    isinstance(test, ast.Compare)
                    and isinstance(test.left, ast.Name)
                    and test.left.id in names
                    and any(isinstance(op, ast.In) for op in test.ops)
                ):
                    return True
                if (
                    isinstance(test, ast.Call)
                    and isinstance(test.func, ast.Attribute)
                    and test.func.attr == "exists"
                ):
                    return True
    return False
