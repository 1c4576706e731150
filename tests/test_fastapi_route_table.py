"""The FastAPI route table (`fastapi_routes(project)`): paths joined across files, dependencies
followed through aliases, nesting and router levels, and an honest `auth` (None when unknown)."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.engine import run_sources
from backend_expert.fastapi_routes import auth_named, dependency_functions, fastapi_routes

FILES = {
    "svc/__init__.py": "",
    "svc/security.py": """\
from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordRequestForm

api_key = APIKeyHeader(name="X-Key")


def check_key(key: str = Security(api_key)) -> str:
    return key


def login_form(form: OAuth2PasswordRequestForm = Depends()) -> str:
    return form.username
""",
    "svc/routes.py": """\
from fastapi import APIRouter, Depends
from thirdparty.auth import magic
from svc.security import check_key, login_form

router = APIRouter(prefix="/v1")
orphan = APIRouter(prefix="/orphan")
keyed = APIRouter(dependencies=[Depends(check_key)])


@router.post("/login")
def login(user: str = Depends(login_form)) -> dict:
    return {}


@router.get("/magic")
def magic_route(x=Depends(magic)) -> dict:
    return {}


@keyed.get("/stats")
def stats() -> dict:
    return {}


@orphan.get("/lost")
def lost() -> dict:
    return {}
""",
    "svc/main.py": """\
from fastapi import FastAPI
from svc.routes import keyed, router

app = FastAPI()
app.include_router(router, prefix="/api")
app.include_router(keyed, prefix="/internal")
""",
}


def _routes():
    config = Config(root=Path("."), layers=[Selection(select=("core",))])
    result = run_sources(FILES, config, {})
    return result.project, {r.path: r for r in fastapi_routes(result.project)}


def test_paths_are_joined_across_files_and_auth_is_judged():
    project, routes = _routes()
    assert set(routes) == {"/api/v1/login", "/api/v1/magic", "/internal/stats", "/orphan/lost"}
    assert routes["/api/v1/login"].auth is False  # the login form is not a guard
    assert routes["/api/v1/magic"].auth is None  # a third-party dependency: unknown
    assert routes["/internal/stats"].auth is True  # router-level Security(APIKeyHeader)
    lost = routes["/orphan/lost"]
    assert not lost.mounted and lost.auth is None
    assert routes["/api/v1/login"].methods == ("POST",)
    assert routes["/internal/stats"].handler == "svc.routes.stats"
    assert {"svc.security.check_key", "svc.security.api_key"} <= dependency_functions(project)


def test_auth_names():
    assert auth_named("get_current_active_user")
    assert auth_named("require_admin")
    assert auth_named("verify_api_key")
    assert auth_named("Authenticator")
    assert auth_named("WebUserAuthorizer")
    assert not auth_named("get_author")
    assert not auth_named("get_db")
    assert not auth_named("get_current_time")
    assert not auth_named("OAuth2PasswordRequestForm")
