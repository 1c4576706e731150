"""An HTTP client (`httpx.AsyncClient()`, `aiohttp.ClientSession()`...) built for every request."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.fastapi_scope import (
    LIFESPAN_DECORATORS,
    decorator_names,
    is_cached,
    per_request_role,
    top_function,
)
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

CLIENTS = frozenset(
    {
        "httpx.AsyncClient",
        "httpx.Client",
        "aiohttp.ClientSession",
        "aiohttp.client.ClientSession",
        "requests.Session",
    }
)
ROLES = {
    "route": "this route",
    "dependency": "this dependency (it runs for every request that uses it)",
    "callee": "a function a route calls on every request",
}


class ClientPerRequest(Rule):
    code = "BEX106"
    slug = "fastapi-client-per-request"
    pack = "fastapi"
    severity = Severity.WARNING
    category = "performance"
    frameworks = ("fastapi",)
    skip_tests = True
    summary = "An HTTP client session created for every request"
    hint = "Create the client once in the lifespan (or at module level) and reuse it."
    explanation = Explanation(
        what=(
            "Flags `httpx.AsyncClient()`, `httpx.Client()`, `aiohttp.ClientSession()` and "
            "`requests.Session()` built inside a FastAPI route, inside a dependency, or inside "
            "a project function a route calls directly. Clients made in the lifespan, at module "
            "level, in `@lru_cache` factories or in tests are not reported."
        ),
        why=(
            "A client owns a connection pool. Building one per request throws the pool away "
            "each time: every call pays DNS, TCP and TLS handshakes again, keep-alive never "
            "helps, and under load the process opens sockets faster than the old ones close "
            "(`TIME_WAIT` pile-ups, file descriptor exhaustion). aiohttp's and httpx's own "
            "documentation ask for one long-lived session per application."
        ),
        use_instead=(
            "Open the client in the lifespan (`app.state.http = httpx.AsyncClient()`, closed "
            "after `yield`) and hand it to routes with a dependency, or keep one module-level "
            "client closed at shutdown."
        ),
        references=(
            "https://www.python-httpx.org/advanced/clients/#why-use-a-client",
            "https://docs.aiohttp.org/en/stable/client_quickstart.html#make-a-request",
        ),
    )
    fire = (
        Example(
            title="a client opened inside the route, and inside a helper the route calls",
            files={
                "svc/__init__.py": "",
                "svc/weather.py": """\
import httpx


async def forecast(city: str) -> dict:
    async with httpx.AsyncClient(timeout=5) as client:  # flagged
        response = await client.get(f"https://api.example.com/{city}")
        return response.json()
""",
                "svc/api.py": """\
import aiohttp
from fastapi import APIRouter

from svc.weather import forecast

router = APIRouter(prefix="/weather")


@router.get("/{city}")
async def weather(city: str) -> dict:
    async with aiohttp.ClientSession() as session:  # flagged
        await session.get("https://status.example.com")
    return await forecast(city)
""",
            },
        ),
    )
    clean = (
        Example(
            title="near miss: a client created in the lifespan and at module level",
            code="""\
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

shared = httpx.AsyncClient()


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.http = httpx.AsyncClient()
    yield
    await app.state.http.aclose()


app = FastAPI(lifespan=lifespan)


@app.get("/ping")
async def ping(request: Request) -> dict:
    await request.app.state.http.get("https://example.com")
    return {"ok": True}


def cli_sync() -> None:
    with httpx.Client() as client:
        client.get("https://example.com")
""",
        ),
    )

    @visit_call(CLIENTS)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        if ctx.qualname(node.func) not in CLIENTS:
            return
        function = top_function(ctx)
        role = per_request_role(function, ctx)
        if role is None or is_cached(function, ctx):
            return
        if decorator_names(function, ctx) & LIFESPAN_DECORATORS and role != "dependency":
            return
        name = ast.unparse(node.func)
        ctx.report(
            node,
            f"`{name}()` is created in {ROLES[role]}: a new connection pool per request; "
            "create it once (lifespan or module level) and reuse it",
        )
