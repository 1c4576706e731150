"""`@csrf_exempt` on a view that changes state for the logged-in user."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_web import (
    LOGIN_DECORATORS,
    LOGIN_MIXINS,
    decorator_names,
    is_request,
    view_class_kind,
    web_model,
)
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAFE_ONLY = frozenset({"require_GET", "require_safe"})
UNSAFE_HANDLERS = frozenset({"post", "put", "patch", "delete"})
# Generic views that handle POST themselves.
EDITING_VIEWS = frozenset(
    {"CreateView", "UpdateView", "DeleteView", "FormView", "BaseCreateView", "BaseUpdateView",
     "BaseDeleteView", "BaseFormView", "ProcessFormView", "DeletionMixin", "LoginView",
     "LogoutView", "PasswordChangeView", "PasswordResetView", "PasswordResetConfirmView"}
)  # fmt: skip
WRITE_METHODS = frozenset(
    {"save", "create", "delete", "update", "bulk_create", "bulk_update", "get_or_create",
     "update_or_create"}
)  # fmt: skip
REQUEST_BODY = frozenset({"POST", "body", "FILES", "data"})


def _evidence(nodes: list[ast.AST]) -> tuple[str | None, str | None]:
    """(why the code handles an unsafe method, why it acts for the session user), from the
    nodes of a function body. Comparing `request.method` is the clearest sign, then reading
    the body, then writing to the database."""
    method = body = write = user = None
    for node in nodes:
        if isinstance(node, ast.Attribute) and is_request(node.value):
            if node.attr in REQUEST_BODY:
                body = body or f"reads `{ast.unparse(node)}`"
            elif node.attr in ("user", "session"):
                user = user or f"uses `{ast.unparse(node)}`"
        elif isinstance(node, ast.Compare) and method is None:
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "method" for s in sides):
                for side in sides:
                    for value in ast.walk(side):
                        if isinstance(value, ast.Constant) and str(value.value).upper() in UNSAFE:
                            method = f"handles {str(value.value).upper()}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_METHODS
            and not (node.func.attr in ("save", "delete") and node.args)
        ):
            write = write or f"writes to the database (`.{node.func.attr}()`)"
    return method or body or write, user


def _declared_methods(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str] | None:
    """Methods allowed by `@require_http_methods([...])`/`@require_POST`, or None."""
    for decorator in function.decorator_list:
        name = dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or ""
        name = name.rpartition(".")[2]
        if name in SAFE_ONLY:
            return {"GET"}
        if name == "require_POST":
            return {"POST"}
        if name == "require_http_methods" and isinstance(decorator, ast.Call) and decorator.args:
            first = decorator.args[0]
            if isinstance(first, (ast.List, ast.Tuple, ast.Set)):
                return {str(e.value).upper() for e in first.elts if isinstance(e, ast.Constant)}
    return None


class CsrfExempt(Rule):
    code = "BEX414"
    slug = "django-csrf-exempt"
    pack = "django"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("django",)
    skip_tests = True
    summary = "`csrf_exempt` on a view that changes state on behalf of the logged-in user"
    hint = (
        "Remove `csrf_exempt` and send the CSRF token (the `X-CSRFToken` header for JavaScript "
        "clients); exempt only endpoints that authenticate without cookies."
    )
    explanation = Explanation(
        what=(
            "Flags `@csrf_exempt` on a function view, `method_decorator(csrf_exempt, ...)` on a "
            "class-based view, and `csrf_exempt(view)` in a `urls.py` (reported at the view "
            "itself, across files), when the view both handles an unsafe method (it reads "
            "`request.POST`/`body`/`FILES`, compares `request.method` with POST/PUT/PATCH/DELETE, "
            "writes to the database, defines `post()`/`put()`/`delete()`, is a generic editing "
            "view, or is restricted with `require_POST`) and acts for the user of the session "
            "(`request.user`, `request.session`, `login_required`, `LoginRequiredMixin`). "
            "GET-only views, webhooks and token-authenticated endpoints that never look at the "
            "session user, and DRF views (DRF checks CSRF itself for session authentication) "
            "are left alone."
        ),
        why=(
            "The browser attaches the session cookie to every request to the site, including "
            "form posts that another site makes it send. The CSRF token is what tells a request "
            "the user's own page made from one forged elsewhere; without it, any page the user "
            "visits can change their email, place an order or delete data in their name."
        ),
        use_instead=(
            "Keep the CSRF check: templates use `{% csrf_token %}`, JavaScript reads the "
            "`csrftoken` cookie and sends it as `X-CSRFToken`. An endpoint called by other "
            "servers (a webhook) should authenticate with a signature or token and not use the "
            "session; that one can be exempt."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/howto/csrf/",
            "https://docs.djangoproject.com/en/stable/ref/csrf/",
        ),
    )
    fire = (
        Example(
            title="a function view that updates the user's profile",
            code="""\
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # flagged
def update_email(request):
    if request.method == "POST":
        request.user.email = request.POST["email"]
        request.user.save()
    return JsonResponse({"ok": True})
""",
            fixed="""\
from django.http import JsonResponse
from django.views.decorators.http import require_POST


@require_POST
def update_email(request):
    request.user.email = request.POST["email"]
    request.user.save()
    return JsonResponse({"ok": True})
""",
        ),
        Example(
            title="a class-based view exempted with method_decorator",
            code="""\
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt


@method_decorator(csrf_exempt, name="dispatch")  # flagged
class DeleteAccount(LoginRequiredMixin, View):
    def post(self, request):
        request.user.delete()
        return HttpResponse(status=204)
""",
        ),
        Example(
            title="exempted in urls.py, reported at the view (cross-file)",
            files={
                "shop/__init__.py": "",
                "shop/views.py": """\
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def add_to_cart(request, product_id):  # flagged
    cart = request.session.setdefault("cart", [])
    cart.append(product_id)
    request.session.modified = True
    return HttpResponse(status=204) if request.method == "POST" else HttpResponse()
""",
                "shop/urls.py": """\
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from . import views

urlpatterns = [path("cart/<int:product_id>/", csrf_exempt(views.add_to_cart))]
""",
            },
        ),
    )
    clean = (
        Example(
            title="a webhook authenticated by a signature, not by the session",
            code="""\
import hmac

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Payment


@csrf_exempt
@require_POST
def stripe_webhook(request):
    signature = request.headers.get("Stripe-Signature", "")
    expected = hmac.new(settings.STRIPE_KEY.encode(), request.body, "sha256").hexdigest()
    if not hmac.compare_digest(signature, expected):
        return HttpResponseForbidden()
    Payment.objects.create(payload=request.body.decode())
    return HttpResponse()
""",
        ),
        Example(
            title="csrf_exempt on a GET-only view",
            code="""\
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET


@csrf_exempt
@require_GET
def whoami(request):
    return JsonResponse({"user": request.user.username})
""",
        ),
        Example(
            title="a DRF view (DRF enforces CSRF itself for session authentication)",
            code="""\
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from rest_framework.response import Response
from rest_framework.views import APIView


@method_decorator(csrf_exempt, name="dispatch")
class Logout(APIView):
    def post(self, request):
        request.session.flush()
        return Response(status=204)
""",
        ),
        Example(
            title="a view that keeps CSRF protection",
            code="""\
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.views.decorators.http import require_POST


@login_required
@require_POST
def update_email(request):
    request.user.email = request.POST["email"]
    request.user.save()
    return JsonResponse({"ok": True})
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        if not isinstance(ctx.parent(), ast.Module):
            return
        args = node.args.posonlyargs + node.args.args
        if not args or args[0].arg != "request":
            return
        names = decorator_names(node)
        if "api_view" in names:
            return
        decorator = next(
            (d for d, n in zip(node.decorator_list, names, strict=True) if n == "csrf_exempt"),
            None,
        )
        wired = [
            path
            for path, wrappers in web_model(ctx.project).url_wrappers.get(
                f"{ctx.module}.{node.name}", ()
            )
            if "csrf_exempt" in wrappers.split("+")
        ]
        if decorator is None and not wired:
            return
        declared = _declared_methods(node)
        if declared is not None and not declared & UNSAFE:
            return
        unsafe, user = _evidence(ctx.own_nodes(node))
        if declared is not None:
            unsafe = unsafe or f"accepts {', '.join(sorted(declared & UNSAFE))}"
        if user is None and set(names) & LOGIN_DECORATORS:
            user = "requires a login"
        if unsafe is None or user is None:
            return
        where = "" if decorator is not None else f" (wrapped in csrf_exempt() in {wired[0]})"
        self._report(decorator or node, ctx, f"`{node.name}`{where}", unsafe, user)

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        if not isinstance(ctx.parent(), ast.Module):
            return
        qualname = f"{ctx.module}.{node.name}"
        if view_class_kind(qualname, ctx.project) != "django":
            return
        marker: ast.AST | None = None
        for decorator in node.decorator_list:
            if _exempts(decorator) and _decorated_method(decorator) in EXEMPTING:
                marker = decorator
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for method in methods:
            if method.name not in EXEMPTING:
                continue
            for decorator in method.decorator_list:
                if _exempts(decorator) or (dotted(decorator) or "").endswith("csrf_exempt"):
                    marker = marker or decorator
        wired = [
            path
            for path, wrappers in web_model(ctx.project).url_wrappers.get(qualname, ())
            if "csrf_exempt" in wrappers.split("+")
        ]
        if marker is None and not wired:
            return
        project = ctx.project
        ancestors = project.ancestors(qualname)
        handlers = {m.name for m in methods} & UNSAFE_HANDLERS
        unsafe = user = None
        if handlers:
            unsafe = f"defines {', '.join(sorted(handlers))}()"
        elif any(a.rpartition(".")[2] in EDITING_VIEWS for a in ancestors):
            unsafe = "is a generic editing view (it handles POST)"
        if ancestors & LOGIN_MIXINS or any(
            a.rpartition(".")[2] in ("LoginRequiredMixin", "PermissionRequiredMixin")
            for a in ancestors
        ):
            user = "requires a login"
        for method in methods:
            if unsafe is not None and user is not None:
                break
            found_unsafe, found_user = _evidence(ctx.own_nodes(method))
            user = user or found_user
            if method.name in UNSAFE_HANDLERS or method.name in ("dispatch", "form_valid"):
                unsafe = unsafe or found_unsafe
        if unsafe is None or user is None:
            return
        where = "" if marker is not None else f" (wrapped in csrf_exempt() in {wired[0]})"
        self._report(marker or node, ctx, f"`{node.name}`{where}", unsafe, user)

    def _report(self, node: ast.AST, ctx: FileContext, label: str, unsafe: str, user: str) -> None:
        ctx.report(
            node,
            f"CSRF protection is off for {label}, a view that {unsafe} and {user}: any web site "
            "can make a logged-in visitor's browser send this request with their cookies. "
            "Remove csrf_exempt and send the CSRF token instead.",
            confidence=Confidence.HIGH,
        )


# Methods whose exemption covers unsafe requests (`name="get"` exempts only GET).
EXEMPTING = frozenset({"dispatch", *UNSAFE_HANDLERS})


def _decorated_method(decorator: ast.Call) -> str:
    for keyword in decorator.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return "dispatch"


def _exempts(decorator: ast.AST) -> bool:
    """`method_decorator(csrf_exempt, ...)` (or with a list holding csrf_exempt)."""
    if not (
        isinstance(decorator, ast.Call)
        and (dotted(decorator.func) or "").endswith("method_decorator")
    ):
        return False
    if not decorator.args:
        return False
    first = decorator.args[0]
    items = first.elts if isinstance(first, (ast.List, ast.Tuple)) else [first]
    return any((dotted(item) or "").endswith("csrf_exempt") for item in items)
