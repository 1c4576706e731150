"""The flask, async, python and testing packs on two fixture projects: exactly the expected
findings (near misses for every concept sit next to the mistakes), the Flask route inventory,
and fixes that leave valid code reading as intended."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.engine import run
from backend_expert.findings import Applicability, Finding
from backend_expert.fixes import apply_edits
from backend_expert.flask_web import flask_apps, flask_blueprints, flask_routes

FIXTURES = Path(__file__).parent / "fixtures"
PACKS = ("BEX5", "BEX6", "BEX8", "BEX9")


def _run(name: str):
    root = FIXTURES / name
    config = Config(root=root, layers=[Selection(select=PACKS)])
    return run([root], config, use_cache=False)


@pytest.fixture(scope="module")
def flask_result():
    return _run("flask_app")


@pytest.fixture(scope="module")
def asyncio_result():
    return _run("asyncio_service")


def _expected(name: str) -> set[str]:
    lines = (FIXTURES / name / "EXPECTED.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


@pytest.mark.parametrize("name", ["flask_app", "asyncio_service"])
def test_findings_match_the_expected_list_exactly(name, flask_result, asyncio_result):
    result = flask_result if name == "flask_app" else asyncio_result
    internal = [f for f in result.findings if f.slug == "internal-error"]
    assert not internal, internal
    got = {
        f"{f.path}:{f.line} {f.slug} {f.confidence.value}"
        for f in result.findings
        if f.code.startswith(PACKS)
    }
    expected = _expected(name)
    assert not (expected - got), f"missing: {sorted(expected - got)}"
    assert not (got - expected), f"unexpected: {sorted(got - expected)}"


def test_the_route_inventory_of_the_blog(flask_result):
    project = flask_result.project
    routes = {(r.rule, r.methods): r for r in flask_routes(project)}
    assert [a.name for a in flask_apps(project)] == ["blog.create_app.app"]
    assert {b.name for b in flask_blueprints(project)} == {
        "blog.api.api",
        "blog.auth.auth",
        "blog.posts.posts",
    }
    health = routes[("/health", ("GET",))]
    assert health.owner_kind == "app" and health.owner == "blog.create_app.app"
    promote = routes[("/users/<int:user_id>/promote", ("POST",))]
    assert promote.auth == ("flask_login.login_required", "blog.auth.admin_required")
    assert promote.mutating and promote.owner == "blog.auth.auth"
    comment = routes[("/posts/<int:post_id>/comments", ("POST",))]
    assert comment.mutating and comment.auth == ()
    view = routes[("/posts/<int:post_id>", ("GET", "PUT"))]
    assert view.view_class and view.handler == "blog.api.PostAPI"
    assert view.auth == ("flask_login.login_required",)  # the class-level `decorators`
    assert routes[("/login", ("GET", "POST"))].handler == "blog.auth.login"


def _apply(text: str, finding: Finding) -> str:
    assert finding.fix is not None
    return apply_edits(text, finding.fix.edits)


def _fixed(result, name: str, slug: str) -> list[tuple[Finding, str]]:
    found = [f for f in result.findings if f.slug == slug and f.fix is not None]
    assert found, f"no fix for {slug}"
    out = []
    for finding in found:
        after = _apply((FIXTURES / name / finding.path).read_text(), finding)
        ast.parse(after)
        out.append((finding, after))
    return out


def test_httpx_fix_passes_a_transport(flask_result, asyncio_result):
    ((finding, after),) = _fixed(flask_result, "flask_app", "httpx-app-shortcut")
    assert finding.fix.applicability is Applicability.SAFE
    assert "httpx.Client(transport=httpx.WSGITransport(app=app), base_url=" in after
    ((finding, after),) = _fixed(asyncio_result, "asyncio_service", "httpx-app-shortcut")
    assert "AsyncClient(transport=ASGITransport(app=app), base_url=" in after
    assert after.count("ASGITransport") == 3  # already imported: no second import


def test_async_test_fix_adds_the_marker(flask_result):
    ((_, after),) = _fixed(flask_result, "flask_app", "async-test-not-run")
    lines = after.splitlines()
    index = lines.index("async def test_async_health(app):")
    assert lines[index - 1] == "@pytest.mark.asyncio"


def test_get_event_loop_fix(asyncio_result):
    ((_, after),) = _fixed(asyncio_result, "asyncio_service", "async-get-event-loop")
    assert after.count("get_running_loop()") == 2 and "get_event_loop" not in after


def test_naive_datetime_fix_spells_the_zone_for_the_target(flask_result, asyncio_result):
    # requires-python >= 3.10 in the blog: `timezone.utc`, already imported there.
    ((finding, after),) = _fixed(flask_result, "flask_app", "naive-datetime")
    assert finding.fix.applicability is Applicability.UNSAFE
    assert "(datetime.now(timezone.utc) - self.created_at)" in after
    # requires-python >= 3.11 in the service: `UTC`, already imported there.
    ((finding, after),) = _fixed(asyncio_result, "asyncio_service", "naive-datetime")
    assert "datetime.fromtimestamp(response.json()['ts'], UTC)" in after


def test_pytest_configuration_is_read_from_every_file_pytest_reads(write_project):
    from backend_expert.engine import run as run_project

    test = "async def test_x():\n    assert True\n"
    cases = {
        "pytest.ini": ("[pytest]\nasyncio_mode = auto\n", False),
        "setup.cfg": ("[tool:pytest]\naddopts = --asyncio-mode=auto -q\n", False),
        "tox.ini": ("[pytest]\nasyncio_mode = strict\n", True),
    }
    for file, (content, fires) in cases.items():
        root = write_project({"tests/test_a.py": test, file: content, "app.py": "import pytest\n"})
        config = Config(root=root, layers=[Selection(select=("BEX902",))])
        found = [
            f for f in run_project([root], config, use_cache=False).findings if f.code == "BEX902"
        ]
        assert bool(found) is fires, file
        (root / file).unlink()


def test_a_changed_pytest_configuration_invalidates_cached_findings(write_project, tmp_path):
    from backend_expert.engine import run as run_project

    root = write_project({"tests/test_a.py": "async def test_x():\n    assert True\n"})
    config = Config(root=root, layers=[Selection(select=("BEX902",))])
    cache = tmp_path / "cache"
    first = run_project([root], config, cache_dir=cache)
    assert [f.code for f in first.findings] == ["BEX902"]
    (root / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    second = run_project([root], config, cache_dir=cache)
    assert second.findings == []


@pytest.mark.parametrize("code", ["BEX604", "BEX803", "BEX901", "BEX902"])
def test_the_fix_of_the_first_example_gives_its_fixed_code(code):
    from conftest import check_example

    from backend_expert.findings import Fix
    from backend_expert.rules import rule_by_id

    rule = rule_by_id(code)
    example = rule.fire[0]
    ((_, text),) = example.sources().items()
    findings = [f for f in check_example(rule, example).findings if f.code == code]
    assert findings and all(f.fix is not None for f in findings)
    edits = tuple(edit for f in findings for edit in f.fix.edits)
    after = _apply(text, dataclasses.replace(findings[0], fix=Fix("all", edits)))
    assert after.replace("  # flagged", "") == example.fixed


def test_routes_of_a_module_level_app_and_a_registration_helper():
    from backend_expert.engine import run_sources

    sources = {
        "shop/__init__.py": "",
        "shop/app.py": """\
from flask import Flask, request
from flask_jwt_extended import jwt_required

app = Flask(__name__)


@app.route("/orders", methods=["GET", "POST"])
@jwt_required()
def orders():
    return {}


@app.delete("/orders/<int:order_id>")
def delete_order(order_id):
    return {}
""",
        "shop/admin.py": """\
from flask import Blueprint
from flask.views import MethodView

from shop.helpers import register_view

admin = Blueprint("admin", __name__)


@admin.before_request
def require_admin_login():
    ...


class Users(MethodView):
    def get(self):
        return []

    def post(self):
        return {}


register_view(admin, routes=["/users", "/people"], view_func=Users.as_view("users"))
""",
        "shop/helpers.py": """\
def register_view(bp, routes, view_func):
    for route in routes:
        bp.add_url_rule(route, view_func=view_func)
""",
    }
    project = run_sources(sources).project
    routes = {(r.rule, r.methods): r for r in flask_routes(project)}
    assert set(routes) == {
        ("/orders", ("GET", "POST")),
        ("/orders/<int:order_id>", ("DELETE",)),
        ("/users", ("GET", "POST")),
        ("/people", ("GET", "POST")),
    }
    assert routes[("/orders", ("GET", "POST"))].auth == ("flask_jwt_extended.jwt_required",)
    assert routes[("/orders/<int:order_id>", ("DELETE",))].owner == "shop.app.app"
    assert routes[("/users", ("GET", "POST"))].owner_kind == "blueprint"
    (admin,) = flask_blueprints(project)
    assert admin.guards == ("shop.admin.require_admin_login",)
