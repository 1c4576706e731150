"""The FastAPI, Pydantic and SQLAlchemy rules on two fixture services (an async SQLAlchemy 2.0 +
Pydantic v2 one, and a legacy sync one with Pydantic v1 idioms): exactly the expected findings,
the route table, and fixes that leave every file parseable."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.engine import run
from backend_expert.fastapi_routes import fastapi_routes
from backend_expert.fixes import apply_edits, fix_text

FIXTURES = Path(__file__).parent / "fixtures"
CODES = (
    *(f"BEX10{n}" for n in range(1, 10)),
    *(f"BEX20{n}" for n in range(1, 6)),
    *(f"BEX3{n:02d}" for n in range(1, 12)),
)
SERVICES = ("fastapi_async_service", "fastapi_legacy_service")


@pytest.fixture(scope="module", params=SERVICES)
def service(request):
    root = FIXTURES / request.param
    config = Config(root=root, layers=[Selection(select=CODES)])
    return root, run([root], config, use_cache=False)


def _expected(root: Path) -> set[str]:
    lines = (root / "EXPECTED-findings.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_findings_match_the_expected_list_exactly(service):
    root, result = service
    internal = [f for f in result.findings if f.slug == "internal-error"]
    assert not internal, internal
    got = {f"{f.path}:{f.line} {f.slug}" for f in result.findings if f.code in CODES}
    expected = _expected(root)
    assert not (expected - got), f"missing: {sorted(expected - got)}"
    assert not (got - expected), f"unexpected: {sorted(got - expected)}"


def _apply(text: str, edits) -> str:
    return apply_edits(text, set(edits))


def test_each_fix_leaves_the_file_parseable(service):
    root, result = service
    fixed = [f for f in result.findings if f.fix is not None and f.code.startswith("BEX1")]
    fixed += [f for f in result.findings if f.fix is not None and f.code.startswith("BEX2")]
    assert fixed
    for finding in fixed:
        text = (root / finding.path).read_text()
        ast.parse(_apply(text, finding.fix.edits))


def test_async_service_route_table():
    root = FIXTURES / "fastapi_async_service"
    result = run([root], Config(root=root, layers=[Selection(select=("core",))]), use_cache=False)
    routes = {(r.method, r.path): r for r in fastapi_routes(result.project)}
    assert routes[("GET", "/api/users/me")].auth is True
    assert routes[("GET", "/api/users/me")].response_model == "app.schemas.UserOut"
    assert routes[("GET", "/api/users/{user_id}/export")].auth is True  # via get_current_admin
    assert routes[("GET", "/api/posts/")].auth is False
    assert routes[("POST", "/api/posts/")].handler == "app.api.posts.create_post"
    assert routes[("POST", "/api/webhooks/payments")].auth is False
    assert routes[("GET", "/healthz")].mounted
    assert "app.deps.get_current_admin" in routes[("DELETE", "/api/admin/comments")].dependencies
    assert len(routes) == 14


def test_legacy_service_fixes_port_schemas_to_v2():
    root = FIXTURES / "fastapi_legacy_service"
    config = Config(root=root, layers=[Selection(select=("BEX201", "BEX202"))])
    result = run([root], config, use_cache=False)
    findings = [f for f in result.findings if f.path == "app/schemas.py"]
    text = (root / "app/schemas.py").read_text()
    after = fix_text("app/schemas.py", text, findings, unsafe=True, config=config).text
    ast.parse(after)
    assert "model_config = ConfigDict(from_attributes=True)" in after
    assert 'model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)' in after
    assert '@model_validator(mode="before")\n    @classmethod' in after
    assert "def passwords_match(cls, value, values)" in after  # needs a human: no fix
