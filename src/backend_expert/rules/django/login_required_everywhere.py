"""Most views repeat `login_required`: Django 5.1's `LoginRequiredMiddleware` makes it the default."""

from __future__ import annotations

from collections.abc import Iterable

from backend_expert.django_web import (
    LOGIN_DECORATORS,
    LOGIN_MIXINS,
    is_views_path,
    view_class_kind,
    web_model,
)
from backend_expert.findings import Confidence, Finding, Severity
from backend_expert.index import Project
from backend_expert.rules.base import Example, Explanation, Rule

MIN_VIEWS = 6
MIN_SHARE = 0.75
VIEW_DECORATORS = frozenset(
    {*LOGIN_DECORATORS, "require_http_methods", "require_POST", "require_GET", "require_safe",
     "csrf_exempt", "never_cache", "cache_page", "login_not_required"}
)  # fmt: skip


def count_views(project: Project) -> tuple[int, int]:
    """(Django views, those that require a login): function views and class-based views,
    DRF views left out (they have their own permissions)."""
    model = web_model(project)
    total = protected = 0
    decorated = {}
    for facts in project.modules.values():
        web = facts.django_web
        for klass, decorator in web.class_decorators if web else ():
            decorated.setdefault(f"{facts.module}.{klass}", set()).add(decorator.rpartition(".")[2])
    for facts in project.modules.values():
        if facts.is_test:
            continue
        web = facts.django_web
        views_module = is_views_path(facts.path)
        for name in web.request_functions if web else ():
            function = facts.functions.get(name)
            if function is None or name.startswith("_"):
                continue
            decorators = {d.rpartition(".")[2] for d in function.decorators}
            if "api_view" in decorators:
                continue
            qualname = f"{facts.module}.{name}"
            if views_module or qualname in model.url_wrappers or decorators & VIEW_DECORATORS:
                total += 1
                wrappers = {
                    w for _, text in model.url_wrappers.get(qualname, ()) for w in text.split("+")
                }
                if (decorators | wrappers) & LOGIN_DECORATORS:
                    protected += 1
        for name in facts.classes:
            qualname = f"{facts.module}.{name}"
            if view_class_kind(qualname, project) != "django" or qualname in model.subclassed:
                continue
            total += 1
            ancestors = project.ancestors(qualname)
            wrappers = {
                w for _, text in model.url_wrappers.get(qualname, ()) for w in text.split("+")
            }
            if (
                ancestors & LOGIN_MIXINS
                or (decorated.get(qualname, set()) | wrappers) & LOGIN_DECORATORS
            ):
                protected += 1
    return total, protected


class LoginRequiredEverywhere(Rule):
    code = "BEX419"
    slug = "django-login-required-everywhere"
    pack = "django"
    severity = Severity.INFO
    category = "modernization"
    frameworks = ("django",)
    min_versions = {"django": "5.1"}
    summary = "Most views require a login one by one: use `LoginRequiredMiddleware` (Django 5.1+)"
    hint = (
        "Add `django.contrib.auth.middleware.LoginRequiredMiddleware` to MIDDLEWARE and mark the "
        "public views with `@login_not_required`."
    )
    explanation = Explanation(
        what=(
            "Reports once per project, at the MIDDLEWARE setting, when the project declares a "
            "Django version that allows 5.1 or later, its MIDDLEWARE list does not contain "
            f"`LoginRequiredMiddleware`, and at least {int(MIN_SHARE * 100)}% of its Django "
            f"views (at least {MIN_VIEWS}: function views with `login_required`/"
            "`permission_required`/`user_passes_test`, class-based views with "
            "`LoginRequiredMixin`/`PermissionRequiredMixin`/`UserPassesTestMixin` or a "
            "decorated `dispatch`, views wrapped in `login_required()` in a `urls.py`) already "
            "require a login. DRF views are not counted: they have their own permissions."
        ),
        why=(
            "When logging in is the rule and public pages the exception, protecting views one "
            "by one gets the default backwards: the day someone adds a view and forgets the "
            "decorator, it is public, and nothing looks wrong. Since Django 5.1 the middleware "
            "redirects anonymous users on every view unless the view is marked "
            "`@login_not_required` (through `method_decorator` on a class-based view), so a "
            "forgotten marker fails closed."
        ),
        use_instead=(
            "Add the middleware after `AuthenticationMiddleware`, mark the login page, sign-up, "
            "password reset, health checks and other public views with "
            "`@login_not_required`, then drop the repeated `login_required`. Views used by API "
            "clients that authenticate with tokens (DRF) need the marker too."
        ),
        references=(
            "https://docs.djangoproject.com/en/5.1/releases/5.1/#middleware-to-require-authentication-by-default",
            "https://docs.djangoproject.com/en/stable/ref/middleware/#django.contrib.auth.middleware.LoginRequiredMiddleware",
        ),
    )
    _VIEWS = """\
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.views.generic import TemplateView


@login_required
def dashboard(request):
    return HttpResponse()


@login_required
def orders(request):
    return HttpResponse()


@login_required
def invoices(request):
    return HttpResponse()


@login_required
def settings_page(request):
    return HttpResponse()


class Reports(LoginRequiredMixin, TemplateView):
    template_name = "reports.html"


def landing(request):
    return HttpResponse()
"""
    fire = (
        Example(
            title="five of six views require a login, and the project runs Django 5.2",
            dependencies=("django>=5.2",),
            files={
                "shop/__init__.py": "",
                "shop/settings.py": """\
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.sessions", "shop"]
MIDDLEWARE = [  # flagged
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
                "shop/views.py": _VIEWS,
            },
        ),
    )
    clean = (
        Example(
            title="a project pinned below Django 5.1",
            dependencies=("django>=4.2,<5.1",),
            files={
                "shop/__init__.py": "",
                "shop/settings.py": 'INSTALLED_APPS = ["shop"]\nMIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]\n',
                "shop/views.py": _VIEWS,
            },
        ),
        Example(
            title="the middleware is already on",
            dependencies=("django>=5.2",),
            files={
                "shop/__init__.py": "",
                "shop/settings.py": """\
INSTALLED_APPS = ["shop"]
MIDDLEWARE = [
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]
""",
                "shop/views.py": _VIEWS,
            },
        ),
        Example(
            title="a mostly public site",
            dependencies=("django>=5.2",),
            files={
                "shop/__init__.py": "",
                "shop/settings.py": 'INSTALLED_APPS = ["shop"]\nMIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]\n',
                "shop/views.py": """\
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


def home(request):
    return HttpResponse()


def catalogue(request):
    return HttpResponse()


def product(request, pk):
    return HttpResponse()


def about(request):
    return HttpResponse()


def contact(request):
    return HttpResponse()


@login_required
def account(request):
    return HttpResponse()
""",
            },
        ),
        Example(
            title="no Django version declared",
            files={
                "shop/__init__.py": "",
                "shop/settings.py": 'INSTALLED_APPS = ["shop"]\nMIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]\n',
                "shop/views.py": _VIEWS,
            },
        ),
    )

    def check_project(self, project: Project) -> Iterable[Finding]:
        if "django" not in project.dependencies:
            return
        model = web_model(project)
        if model.login_middleware():
            return
        target = None
        for deployment in model.deployments.values():
            if deployment.kind == "test":
                continue
            base, items = model.middleware(deployment)
            if base is not None and items is not None:
                target = target or base
        if target is None:
            return
        total, protected = count_views(project)
        if total < MIN_VIEWS or protected < MIN_SHARE * total:
            return
        path = project.modules[target.module].path
        line = target.op.line or 1
        yield Finding(
            code=self.code,
            slug=self.slug,
            pack=self.pack,
            severity=self.severity,
            category=self.category,
            path=path,
            line=line,
            column=1,
            end_line=line,
            end_column=1,
            message=(
                f"{protected} of the project's {total} Django views require a login one by one. "
                "Since Django 5.1, LoginRequiredMiddleware makes login the default: add it to "
                "MIDDLEWARE and mark the public views with @login_not_required, so a view "
                "someone forgets to protect is not public."
            ),
            confidence=Confidence.MEDIUM,
            docs=self.docs_url,
        )
