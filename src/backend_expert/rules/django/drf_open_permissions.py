"""DRF views anyone can call: `AllowAny` on a writing view, or no permissions while the settings
set no `DEFAULT_PERMISSION_CLASSES` (DRF's default is AllowAny)."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.django_web import class_member, decorator_names, view_class_kind, web_model
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_BASES = frozenset(
    {"ModelViewSet", "CreateAPIView", "ListCreateAPIView", "UpdateAPIView", "DestroyAPIView",
     "RetrieveUpdateAPIView", "RetrieveDestroyAPIView", "RetrieveUpdateDestroyAPIView",
     "CreateModelMixin", "UpdateModelMixin", "DestroyModelMixin"}
)  # fmt: skip
WRITE_METHODS = frozenset(
    {"post", "put", "patch", "delete", "create", "update", "partial_update", "destroy"}
)
# Endpoints that must be reachable without an account.
PUBLIC_NAME = re.compile(
    r"login|logout|register|signup|sign_?up|token|password|reset|activat|verif|confirm|webhook"
    r"|callback|health|ping|status|public|auth|otp|oauth|social|captcha|contact|subscribe"
    r"|newsletter|invite",
    re.IGNORECASE,
)


def open_classes(text: str | None) -> bool | None:
    """True when a `permission_classes` value lets anyone in (`[AllowAny]`, `()`); False when
    it names other classes; None when it is not a literal list."""
    if text is None:
        return None
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, (ast.Name, ast.Attribute)):
        node = ast.List(elts=[node])
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    names = [(dotted(e) or "?").rpartition(".")[2] for e in node.elts]
    return all(name == "AllowAny" for name in names)


def _uses_user(nodes) -> bool:
    for node in nodes:
        if isinstance(node, ast.Attribute) and node.attr == "user":
            value = node.value
            if (isinstance(value, ast.Name) and value.id == "request") or (
                isinstance(value, ast.Attribute) and value.attr == "request"
            ):
                return True
    return False


class DrfOpenPermissions(Rule):
    code = "BEX415"
    slug = "django-drf-open-permissions"
    pack = "django"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("drf",)
    skip_tests = True
    summary = "DRF view open to anyone: `AllowAny` on a view that writes, or no permissions and no project default"
    hint = (
        "Set `REST_FRAMEWORK['DEFAULT_PERMISSION_CLASSES']` (e.g. IsAuthenticated) and give "
        "each view the permission it needs; keep AllowAny for endpoints that must be public."
    )
    explanation = Explanation(
        what=(
            "Flags DRF class-based views, viewsets and generics, and `@api_view` functions, "
            "that anyone can call: `permission_classes = [AllowAny]` (or an empty list) on a "
            "view that writes (a ModelViewSet, a create/update/destroy generic, a "
            "`post()`/`put()`/`delete()` handler, `@api_view(['POST'])`), or no "
            "`permission_classes` at all (on the class or a project base class, and no "
            "`get_permissions()`) while no settings module sets "
            "`REST_FRAMEWORK['DEFAULT_PERMISSION_CLASSES']`, on a view that writes or reads "
            "`request.user`. Base classes that other views extend, views whose name says they "
            "must be public (login, register, token, password reset, webhook...), views built "
            "on third-party bases bex cannot see, and projects whose settings bex cannot read "
            "are left alone."
        ),
        why=(
            "DRF's default permission is AllowAny. A view without a permission, in a project "
            "with no default, accepts anonymous requests: an anonymous user can create, change "
            "or delete through it, and code reading `request.user` gets an AnonymousUser "
            "instead of an error. Access control should be the default and openness the "
            "exception written next to the view."
        ),
        use_instead=(
            "In settings: `REST_FRAMEWORK = {'DEFAULT_PERMISSION_CLASSES': "
            "['rest_framework.permissions.IsAuthenticated']}`. On views: "
            "`permission_classes = [IsAuthenticated]`, `IsAdminUser`, "
            "`IsAuthenticatedOrReadOnly`, or an object-level permission; `AllowAny` only on "
            "endpoints meant for anonymous users."
        ),
        references=(
            "https://www.django-rest-framework.org/api-guide/permissions/",
            "https://www.django-rest-framework.org/api-guide/settings/#default_permission_classes",
        ),
    )
    fire = (
        Example(
            title="no permissions, and settings without DEFAULT_PERMISSION_CLASSES (cross-file)",
            files={
                "shop/__init__.py": "",
                "shop/settings.py": """\
INSTALLED_APPS = ["django.contrib.auth", "rest_framework", "shop"]
REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination"}
""",
                "shop/views.py": """\
from rest_framework import viewsets
from rest_framework.decorators import api_view
from rest_framework.response import Response

from .models import Order
from .serializers import OrderSerializer


class OrderViewSet(viewsets.ModelViewSet):  # flagged
    queryset = Order.objects.all()
    serializer_class = OrderSerializer


@api_view(["POST"])  # flagged
def cancel_order(request, pk):
    Order.objects.filter(pk=pk).update(status="cancelled")
    return Response(status=204)
""",
            },
        ),
        Example(
            title="AllowAny on a view that writes",
            code="""\
from rest_framework import generics
from rest_framework.permissions import AllowAny

from .models import Review
from .serializers import ReviewSerializer


class ReviewUpdate(generics.RetrieveUpdateDestroyAPIView):
    queryset = Review.objects.all()
    serializer_class = ReviewSerializer
    permission_classes = [AllowAny]  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="DEFAULT_PERMISSION_CLASSES set in the settings",
            files={
                "shop/__init__.py": "",
                "shop/settings.py": """\
INSTALLED_APPS = ["django.contrib.auth", "rest_framework"]
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
""",
                "shop/views.py": """\
from rest_framework import viewsets

from .models import Order
from .serializers import OrderSerializer


class OrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.all()
    serializer_class = OrderSerializer
""",
            },
        ),
        Example(
            title="AllowAny on a public sign-up endpoint and on a read-only list",
            code="""\
from rest_framework import generics
from rest_framework.permissions import AllowAny

from .models import Product
from .serializers import ProductSerializer, SignupSerializer


class SignupView(generics.CreateAPIView):
    serializer_class = SignupSerializer
    permission_classes = [AllowAny]


class ProductList(generics.ListAPIView):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [AllowAny]
""",
        ),
        Example(
            title="permissions from a project base class, or decided in get_permissions()",
            code="""\
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from .models import Order


class ProtectedViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated]


class OrderViewSet(ProtectedViewSet):
    queryset = Order.objects.all()


class RefundViewSet(viewsets.ModelViewSet):
    def get_permissions(self):
        return [IsAdminUser()]
""",
        ),
        Example(
            title="no settings bex can read: the project default is unknown",
            code="""\
from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["POST"])
def ping_back(request):
    return Response({"user": request.user.pk})
""",
        ),
    )

    @visit(ast.ClassDef)
    def check_class(self, node: ast.ClassDef, ctx: FileContext) -> None:
        if not isinstance(ctx.parent(), ast.Module):
            return
        project = ctx.project
        qualname = f"{ctx.module}.{node.name}"
        if view_class_kind(qualname, project) != "drf" or PUBLIC_NAME.search(node.name):
            return
        model = web_model(project)
        if (
            qualname in model.subclassed
            or node.name.startswith(("Base", "Abstract"))
            or node.name.endswith("Mixin")
        ):
            return
        if class_member(qualname, "get_permissions", project) is not None:
            return
        writes = self._writes(node, qualname, ctx)
        found = class_member(qualname, "permission_classes", project)
        if found is not None:
            owner, facts, opaque = found
            if facts is None or opaque:
                return
            member = facts.members.get("permission_classes")
            if member is None or open_classes(member.value) is not True or not writes:
                return
            target: ast.AST = node
            if owner == qualname:
                target = next(
                    (
                        stmt
                        for stmt in node.body
                        if isinstance(stmt, ast.Assign)
                        and any(
                            isinstance(t, ast.Name) and t.id == "permission_classes"
                            for t in stmt.targets
                        )
                    ),
                    node,
                )
            ctx.report(
                target,
                f"`{node.name}` {writes} but its permission_classes let anyone in (AllowAny): "
                "anonymous clients can change data through it. Require a permission "
                "(IsAuthenticated, an object permission) unless this endpoint is meant to be public.",
                confidence=Confidence.MEDIUM,
            )
            return
        if model.default_permissions_open() is not True or _opaque_bases(qualname, ctx):
            return
        methods = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if writes:
            what, confidence = writes, Confidence.HIGH
        elif any(_uses_user(ctx.own_nodes(m)) for m in methods):
            what, confidence = "reads request.user", Confidence.MEDIUM
        else:
            return
        ctx.report(
            node,
            f"`{node.name}` {what} but sets no permission_classes, and no settings module sets "
            "REST_FRAMEWORK['DEFAULT_PERMISSION_CLASSES']: DRF's default AllowAny applies and "
            "anonymous clients can call it. Set a project-wide default and give this view the "
            "permission it needs.",
            confidence=confidence,
        )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        if not isinstance(ctx.parent(), ast.Module) or PUBLIC_NAME.search(node.name):
            return
        names = decorator_names(node)
        if "api_view" not in names:
            return
        api_view = node.decorator_list[names.index("api_view")]
        methods = {"GET"}
        if isinstance(api_view, ast.Call) and api_view.args:
            first = api_view.args[0]
            if not isinstance(first, (ast.List, ast.Tuple)):
                return
            methods = {str(getattr(e, "value", "")).upper() for e in first.elts}
        unsafe = sorted(methods & UNSAFE)
        writes = f"accepts {', '.join(unsafe)}" if unsafe else ""
        if "permission_classes" in names:
            decorator = node.decorator_list[names.index("permission_classes")]
            if not (isinstance(decorator, ast.Call) and decorator.args):
                return
            if open_classes(ast.unparse(decorator.args[0])) is not True or not writes:
                return
            ctx.report(
                decorator,
                f"`{node.name}` {writes} but its permission_classes let anyone in (AllowAny): "
                "anonymous clients can change data through it. Require a permission unless this "
                "endpoint is meant to be public.",
                confidence=Confidence.MEDIUM,
            )
            return
        if web_model(ctx.project).default_permissions_open() is not True:
            return
        if writes:
            confidence = Confidence.HIGH
        elif _uses_user(ctx.own_nodes(node)):
            writes, confidence = "reads request.user", Confidence.MEDIUM
        else:
            return
        ctx.report(
            api_view,
            f"`{node.name}` {writes} but has no @permission_classes, and no settings module sets "
            "REST_FRAMEWORK['DEFAULT_PERMISSION_CLASSES']: DRF's default AllowAny applies and "
            "anonymous clients can call it. Set a project-wide default and give this view the "
            "permission it needs.",
            confidence=confidence,
        )

    def _writes(self, node: ast.ClassDef, qualname: str, ctx: FileContext) -> str:
        """How the view changes data ("" when it only reads)."""
        project = ctx.project
        facts = project.class_facts(qualname)
        allowed = facts.members.get("http_method_names") if facts else None
        if (
            allowed is not None
            and allowed.value
            and not any(m in allowed.value.lower() for m in ("post", "put", "patch", "delete"))
        ):
            return ""
        ancestors = project.ancestors(qualname)
        bases = sorted(
            a.rpartition(".")[2]
            for a in ancestors
            if a.startswith("rest_framework.") and a.rpartition(".")[2] in WRITE_BASES
        )
        if bases:
            return f"can write (it is a {bases[0]})"
        handlers: set[str] = set()
        for name in (qualname, *ancestors):
            klass = project.class_facts(name)
            if klass is not None:
                handlers |= set(klass.methods) & WRITE_METHODS
        if handlers:
            return f"can write (it defines {', '.join(sorted(handlers))}())"
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in stmt.decorator_list:
                    if isinstance(decorator, ast.Call) and (dotted(decorator.func) or "").endswith(
                        "action"
                    ):
                        for keyword in decorator.keywords:
                            if keyword.arg == "methods" and any(
                                m in ast.unparse(keyword.value).upper() for m in UNSAFE
                            ):
                                return f"can write (its action {stmt.name}() accepts {ast.unparse(keyword.value)})"
        return ""


def _opaque_bases(qualname: str, ctx: FileContext) -> bool:
    """True when a base class comes from a third-party package (it may set permissions)."""
    project = ctx.project
    for name in project.ancestors(qualname):
        if project.class_facts(name) is None and not name.startswith(
            ("rest_framework.", "django.", "builtins.", "typing.", "abc.")
        ):
            return True
    return False
