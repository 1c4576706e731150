"""The architecture model: layers, import graph, route inventory, data model, project files."""

from __future__ import annotations

import pytest

from backend_expert.architecture import architecture, import_graph
from backend_expert.engine import run, run_sources
from backend_expert.layers import layer_by_name
from backend_expert.project_files import has_tests
from backend_expert.routes import route_inventory
from backend_expert.rules.project.python_eol import bounds


def _project(files: dict[str, str], dependencies: dict[str, str] | None = None):
    return run_sources(files, dependencies=dependencies).project


@pytest.mark.parametrize(
    ("path", "layer"),
    [
        ("app/routers/items.py", "routes"),
        ("shop/views.py", "routes"),
        ("app/services/orders.py", "services"),
        ("app/order_service.py", "services"),
        ("app/crud.py", "repositories"),
        ("app/models/__init__.py", "models"),
        ("app/schemas.py", "schemas"),
        ("shop/serializers.py", "schemas"),
        ("shop/settings/prod.py", "settings"),
        ("shop/tasks.py", "tasks"),
        ("shop/migrations/0001_initial.py", "other"),
        ("shop/admin.py", "other"),
        ("app/utils.py", None),
    ],
)
def test_layers_from_names(path, layer):
    assert layer_by_name(path) == layer


def test_layers_from_content_and_route_folders():
    project = _project(
        {
            "app/__init__.py": "",
            "app/routes/__init__.py": "",
            "app/routes/crud.py": "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/x')\nasync def x():\n    return 1\n",
            "app/lib/urls.py": "def absolute(path):\n    return 'https://x' + path\n",
            "app/things.py": "from pydantic import BaseModel\n\n\nclass Thing(BaseModel):\n    name: str\n",
        }
    )
    layers = architecture(project).layers
    assert layers["app.routes.crud"] == "routes"  # in a routes package, registers routes
    assert layers["app.lib.urls"] == "other"  # a link helper, not a URLconf
    assert layers["app.things"] == "schemas"  # by content


def test_from_package_import_points_at_the_module():
    project = _project(
        {
            "pkg/__init__.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
            "pkg/forms.py": "X = 1\n",
            "pkg/orders/__init__.py": "",
            "pkg/orders/forms.py": "from .. import forms\n\nY = forms.X\n",
        }
    )
    assert import_graph(project)["pkg.orders.forms"] == {"pkg.forms"}


def test_fastapi_routes_with_prefixes_and_auth():
    project = _project(
        {
            "app/__init__.py": "",
            "app/deps.py": "def get_current_user():\n    return 1\n",
            "app/items.py": (
                "from fastapi import APIRouter, Depends\n\nfrom app.deps import get_current_user\n\n"
                "router = APIRouter(prefix='/items')\n\n\n"
                "@router.get('/')\nasync def list_items():\n    return []\n\n\n"
                "@router.post('/', response_model=dict)\nasync def add(user=Depends(get_current_user)):\n    return {}\n"
            ),
            "app/main.py": "from fastapi import FastAPI\n\nfrom app.items import router\n\napp = FastAPI()\napp.include_router(router, prefix='/api')\n",
        }
    )
    routes = {(r.methods, r.path): r for r in route_inventory(project)}
    assert routes[(("GET",), "/api/items/")].auth is None
    added = routes[(("POST",), "/api/items/")]
    assert added.auth == "get_current_user" and added.response_model == "builtins.dict"
    assert added.mutating and added.framework == "fastapi"


def test_django_routes_with_include_prefixes_and_drf_router():
    project = _project(
        {
            "shop/__init__.py": "",
            "shop/settings.py": "INSTALLED_APPS = ['orders']\nROOT_URLCONF = 'shop.urls'\n",
            "shop/urls.py": "from django.urls import include, path\n\nurlpatterns = [path('orders/', include('orders.urls'))]\n",
            "orders/__init__.py": "",
            "orders/views.py": (
                "from django.contrib.auth.decorators import login_required\n"
                "from django.views.decorators.http import require_POST\n"
                "from rest_framework import viewsets\n\n\n"
                "@require_POST\n@login_required\ndef checkout(request):\n    return None\n\n\n"
                "class OrderViewSet(viewsets.ModelViewSet):\n    pass\n"
            ),
            "orders/urls.py": (
                "from django.urls import path\nfrom rest_framework.routers import DefaultRouter\n\n"
                "from orders import views\n\nrouter = DefaultRouter()\nrouter.register('api', views.OrderViewSet)\n"
                "urlpatterns = [path('checkout/', views.checkout)]\n"
            ),
        },
        dependencies={"django": "", "djangorestframework": ""},
    )
    routes = {r.path: r for r in route_inventory(project)}
    assert routes["orders/checkout/"].methods == ("POST",)
    assert routes["orders/checkout/"].auth == "login_required"
    viewset = routes["orders/api"]
    assert viewset.framework == "drf" and "DELETE" in viewset.methods and viewset.auth is None


def test_data_model_relations():
    project = _project(
        {
            "app/__init__.py": "",
            "app/models.py": (
                "from sqlalchemy import ForeignKey\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship\n\n\n"
                "class Base(DeclarativeBase):\n    pass\n\n\n"
                "class User(Base):\n    __tablename__ = 'users'\n    id: Mapped[int] = mapped_column(primary_key=True)\n\n\n"
                "class Post(Base):\n    __tablename__ = 'posts'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
                "    user_id: Mapped[int] = mapped_column(ForeignKey('users.id'))\n    user: Mapped[User] = relationship()\n"
            ),
        }
    )
    data = architecture(project).data
    assert data.orm == "sqlalchemy"
    assert set(data.models) == {"app.models.User", "app.models.Post"}
    assert ("app.models.Post", "user", "app.models.User", "relationship") in data.relations


def test_tests_are_found_on_disk_even_when_excluded(write_project):
    root = write_project(
        {"app/main.py": "X = 1\n", "tests/test_main.py": "def test_x():\n    assert True\n"},
        pyproject="[project]\nname = 'demo'\nrequires-python = '>=3.12'\n\n[tool.bex]\nextend-exclude = ['tests']\n",
    )
    result = run([root], use_cache=False)
    assert not any(f.is_test for f in result.project.modules.values())
    assert has_tests(result.project)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (">=3.8", (8, None)),
        (">=3.11,<4", (11, None)),
        ("^3.9", (9, None)),
        ("~=3.10", (10, None)),
        ("==3.9.*", (9, 9)),
        (">=3.6,<3.10", (6, 9)),
        (">3.7", (7, None)),
    ],
)
def test_requires_python_bounds(spec, expected):
    assert bounds(spec) == expected
