"""The Django web part of the project model: settings modules, deployments, URL wiring."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.django_web import settings_kind, web_model
from backend_expert.engine import run_sources

NOTHING = Config(root=Path("."), layers=[Selection(select=("BEX999",))])


def model_of(files: dict[str, str]):
    result = run_sources(files, NOTHING)
    assert result.project is not None
    return web_model(result.project)


def test_settings_kinds_by_name():
    assert settings_kind("p.settings.dev", "p/settings/dev.py") == "dev"
    assert settings_kind("p.settings.local", "p/settings/local.py") == "dev"
    assert settings_kind("p.settings.production", "p/settings/production.py") == "prod"
    assert settings_kind("p.settings.staging", "p/settings/staging.py") == "prod"
    assert settings_kind("p.settings.base", "p/settings/base.py") == "base"
    assert settings_kind("p.settings", "p/settings.py") == "main"
    assert settings_kind("p.settings", "p/settings/__init__.py") == "main"
    assert settings_kind("p.test_settings", "p/test_settings.py") == "test"
    assert settings_kind("p.settings.ci", "p/settings/ci.py") == "test"
    assert settings_kind("tests.settings", "tests/settings.py") == "test"


FILES = {
    "manage.py": """\
import os


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings.dev")
""",
    "proj/__init__.py": "",
    "proj/settings/__init__.py": "",
    "proj/settings/base.py": """\
DEBUG = False
INSTALLED_APPS = ["django.contrib.auth"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
REST_FRAMEWORK = {"PAGE_SIZE": 10}
""",
    "proj/settings/dev.py": """\
from .base import *

DEBUG = True
MIDDLEWARE += ["debug_toolbar.middleware.DebugToolbarMiddleware"]
""",
    "proj/settings/prod.py": """\
from .base import *

MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = ["rest_framework.permissions.IsAuthenticated"]
""",
    "proj/urls.py": """\
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from proj import views

router = DefaultRouter()
router.register("things", views.ThingViewSet)

urlpatterns = [
    path("a/", views.a),
    path("b/", login_required(views.B.as_view())),
    path("api/", include(router.urls)),
]
""",
}


def test_deployments_follow_star_imports():
    model = model_of(FILES)
    assert set(model.deployments) == {"proj.settings.dev", "proj.settings.prod"}
    assert model.named == {"proj.settings.dev"}
    dev = model.deployments["proj.settings.dev"]
    base, later, uncertain = dev.history("DEBUG")
    assert base is not None and base.module == "proj.settings.dev" and base.op.text == "True"
    assert not later and not uncertain
    _, items = model.middleware(dev)
    assert items == [
        "django.middleware.security.SecurityMiddleware",
        "debug_toolbar.middleware.DebugToolbarMiddleware",
    ]
    _, items = model.middleware(model.deployments["proj.settings.prod"])
    assert items is not None and "whitenoise.middleware.WhiteNoiseMiddleware" in items


def test_effective_setting_shared_by_every_deployment():
    model = model_of(FILES)
    assert model.setting("INSTALLED_APPS") == "['django.contrib.auth']"
    assert model.setting("DEBUG") is None  # True in dev, False in prod


def test_default_permissions_need_every_deployment():
    model = model_of(FILES)
    assert model.default_permissions_open() is False
    open_files = {k: v for k, v in FILES.items() if k != "proj/settings/prod.py"}
    assert model_of(open_files).default_permissions_open() is True


def test_url_wiring_records_views_and_wrappers():
    model = model_of(FILES)
    assert ("proj/urls.py", "") in model.url_wrappers["proj.views.a"]
    assert ("proj/urls.py", "login_required") in model.url_wrappers["proj.views.B"]
    assert "proj.views.ThingViewSet" in model.url_wrappers


def test_an_unfollowable_import_makes_values_uncertain():
    model = model_of(
        {
            "proj/__init__.py": "",
            "proj/settings.py": """\
DEBUG = True
INSTALLED_APPS = []
try:
    from proj.local_settings import *
except ImportError:
    pass
""",
        }
    )
    _, _, uncertain = model.deployments["proj.settings"].history("DEBUG")
    assert uncertain


def test_http_methods_of_class_based_views():
    result = run_sources(
        {
            "app/__init__.py": "",
            "app/views.py": """\
from django.views.generic import UpdateView
from rest_framework import viewsets


class Edit(UpdateView):
    pass


class Things(viewsets.ReadOnlyModelViewSet):
    def destroy(self, request, pk):
        ...
""",
        },
        NOTHING,
    )
    from backend_expert.django_web import http_methods

    project = result.project
    assert http_methods("app.views.Edit", project) == {"GET", "POST", "PUT"}
    assert http_methods("app.views.Things", project) == {"GET", "DELETE"}
