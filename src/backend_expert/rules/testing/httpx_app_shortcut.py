"""`httpx.AsyncClient(app=app)`: the `app=` shortcut was removed in httpx 0.28."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import replace_node
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

CLIENTS = {"httpx.AsyncClient": "ASGITransport", "httpx.Client": "WSGITransport"}


class HttpxAppShortcut(Rule):
    code = "BEX901"
    slug = "httpx-app-shortcut"
    pack = "testing"
    severity = Severity.ERROR
    category = "deprecation"
    fix_applicability = Applicability.SAFE
    requires_text = ("httpx",)  # the library it checks
    summary = "`httpx.AsyncClient(app=...)`/`Client(app=...)`: removed in httpx 0.28"
    hint = "Pass a transport: `AsyncClient(transport=ASGITransport(app=app), base_url=...)` (`WSGITransport` for a sync client)."
    explanation = Explanation(
        what=(
            "Flags `httpx.AsyncClient(app=...)` and `httpx.Client(app=...)`, the shortcut many "
            "FastAPI and Starlette testing guides (and older tutorials) still show."
        ),
        why=(
            "httpx deprecated the `app=` argument in 0.27 and removed it in 0.28: with a current "
            "httpx the client constructor raises `TypeError: unexpected keyword argument 'app'`, "
            "so every test built on the fixture errors before it starts. The explicit transport "
            "has worked since long before, on every version in use."
        ),
        use_instead=(
            "`AsyncClient(transport=ASGITransport(app=app), base_url='http://test')` for ASGI "
            "apps (FastAPI, Starlette); `Client(transport=WSGITransport(app=app))` for WSGI apps "
            "(Flask, Django)."
        ),
        fix_safety=(
            "Safe: the transport is exactly what the shortcut built internally; the fix adds "
            "the transport import when the client class was imported by name."
        ),
        references=(
            "https://www.python-httpx.org/advanced/transports/#asgi-transport",
            "https://github.com/encode/httpx/blob/master/CHANGELOG.md#0280-28th-november-2024",
        ),
    )
    fire = (
        Example(
            title="an async test client built with the removed shortcut",
            code="""\
import pytest
from httpx import AsyncClient

from app.main import app


@pytest.fixture
async def client():
    async with AsyncClient(app=app, base_url="http://test") as ac:  # flagged
        yield ac
""",
            fixed="""\
import pytest
from httpx import ASGITransport, AsyncClient

from app.main import app


@pytest.fixture
async def client():
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as ac:
        yield ac
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the explicit transport",
            code="""\
import httpx

from app.main import app


async def make_client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://test")
""",
        ),
    )

    @visit_call(CLIENTS)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        name = ctx.qualname(node.func)
        transport = CLIENTS.get(name or "")
        keyword = next((k for k in node.keywords if k.arg == "app"), None)
        if transport is None or keyword is None:
            return
        if any(k.arg == "transport" for k in node.keywords):
            return
        app = ast.unparse(keyword.value)
        func = node.func
        extra: tuple | None = ()
        if isinstance(func, ast.Attribute):
            spelled = f"{ast.unparse(func.value)}.{transport}"
        else:
            spelled = transport
            try:
                added = add_import(ctx.source, "httpx", transport)
            except ImportConflict:  # the name means something else here: no fix
                extra = None
            else:
                extra = (added,) if added else ()
        edit = replace_node(ctx, keyword, f"transport={spelled}(app={app})")
        fix = Fix(
            f"Use `transport={spelled}(app={app})`", (edit, *(extra or ())), Applicability.SAFE
        )
        ctx.report(
            node,
            f"`{ast.unparse(func)}(app=...)` was removed in httpx 0.28 (it raises TypeError); "
            f"pass `transport={spelled}(app={app})`",
            confidence=Confidence.HIGH,
            fix=fix if extra is not None else None,
        )
