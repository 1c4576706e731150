"""`@app.on_event(...)` / `app.add_event_handler(...)`: startup and shutdown belong in a lifespan."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Applicability, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.fastapi._lifespan import lifespan_fix
from backend_expert.web import is_app_object

EVENTS = ("startup", "shutdown")


def _has_lifespan(app: ast.AST, ctx: FileContext) -> bool:
    """True when the app object was built in this module with an explicit `lifespan=`."""
    if not isinstance(app, ast.Name):
        return False
    for stmt in ctx.source.tree.body if ctx.source.tree else ():
        if (
            isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == app.id for t in stmt.targets)
            and isinstance(stmt.value, ast.Call)
        ):
            return any(kw.arg == "lifespan" for kw in stmt.value.keywords)
    return False


class OnEvent(Rule):
    code = "BEX101"
    slug = "fastapi-on-event"
    pack = "fastapi"
    severity = Severity.WARNING
    category = "deprecation"
    frameworks = ("fastapi", "starlette")
    fix_applicability = Applicability.UNSAFE
    summary = "Startup/shutdown code registered with `on_event` instead of a lifespan handler"
    hint = "Move the startup and shutdown code into one `@asynccontextmanager` lifespan passed as `FastAPI(lifespan=...)`."
    explanation = Explanation(
        what=(
            'Flags `@app.on_event("startup")`, `@app.on_event("shutdown")` and '
            "`app.add_event_handler(...)` on FastAPI applications and `APIRouter`s, and on "
            "Starlette applications."
        ),
        why=(
            "Event handlers are deprecated. Starlette 1.0 removed them altogether (a plain "
            "Starlette app has neither `on_event` nor `add_event_handler` any more). FastAPI "
            "re-implemented `on_event` on its own side (0.128.3) so existing apps keep "
            "starting, but it stays deprecated and warns; on a FastAPI app with Starlette 1.x, "
            "`app.add_event_handler(...)` raises AttributeError (only the router keeps it). "
            "Handlers also fail silently: once the app is given `lifespan=`, FastAPI no "
            "longer runs the `on_event` handlers at all. A lifespan keeps setup and teardown "
            "of one resource in one function, so what is opened is visibly "
            "closed, and state can be handed to requests through `app.state` or the yielded dict."
        ),
        use_instead=(
            "Write one async context manager: the code before `yield` runs at startup, the code "
            "after it at shutdown, and pass it to `FastAPI(lifespan=...)`."
        ),
        fix_safety=(
            "Unsafe. The fix keeps the handler functions, removes their registrations and adds a "
            "`lifespan` that calls them in registration order, passed as `FastAPI(lifespan=...)`. "
            "It is offered only when every handler of the app is registered in that module; but "
            "once the app has a lifespan FastAPI ignores `on_event` handlers registered anywhere "
            "else (e.g. `add_event_handler` in another module, or on an included router), and "
            "shutdown code now runs only when startup completed."
        ),
        references=(
            "https://fastapi.tiangolo.com/advanced/events/",
            "https://www.starlette.io/lifespan/",
        ),
    )
    fire = (
        Example(
            title="startup and shutdown handlers on the app",
            code="""\
import httpx
from fastapi import FastAPI

app = FastAPI()
client = httpx.AsyncClient()


@app.on_event("startup")  # flagged
async def open_pool() -> None:
    app.state.ready = True


@app.on_event("shutdown")  # flagged
async def close_client() -> None:
    await client.aclose()
""",
            fixed="""\
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    await open_pool()
    yield
    await close_client()


app = FastAPI(lifespan=lifespan)
client = httpx.AsyncClient()


async def open_pool() -> None:
    app.state.ready = True


async def close_client() -> None:
    await client.aclose()
""",
        ),
        Example(
            title="a router and an app object imported from another module",
            files={
                "svc/__init__.py": "",
                "svc/main.py": "from fastapi import APIRouter, FastAPI\n\napp = FastAPI()\nrouter = APIRouter()\n",
                "svc/events.py": """\
from svc.main import app, router


def warm_cache() -> None:
    ...


app.add_event_handler("startup", warm_cache)  # flagged


@router.on_event("shutdown")  # flagged
def flush() -> None:
    ...
""",
            },
        ),
        Example(
            title="a handler that never runs because the app has a lifespan",
            code="""\
from fastapi import FastAPI

from .lifecycle import lifespan

app = FastAPI(lifespan=lifespan)


@app.on_event("startup")  # flagged
async def seed() -> None:
    ...
""",
        ),
    )
    clean = (
        Example(
            title="an `on_event` method of a class that is not a FastAPI/Starlette app",
            code="""\
import fastapi


class Bus:
    def on_event(self, name):
        return lambda fn: fn


bus = Bus()


@bus.on_event("startup")
def started() -> None:
    ...
""",
        ),
        Example(
            title="the lifespan handler itself",
            code="""\
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


app = FastAPI(lifespan=lifespan)
""",
        ),
    )

    @visit_call("on_event", "add_event_handler")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in (
            "on_event",
            "add_event_handler",
        ):
            return
        event = node.args[0] if node.args else None
        name = event.value if isinstance(event, ast.Constant) else None
        if name not in EVENTS or not is_app_object(func.value, ctx):
            return
        target = ast.unparse(func.value)
        if _has_lifespan(func.value, ctx):
            message = (
                f"This {name} handler never runs: `{target}` was created with `lifespan=`, and FastAPI "
                "then ignores `on_event` handlers. Move the code into the lifespan."
            )
        else:
            message = (
                f'`{target}.{func.attr}("{name}")` is deprecated (Starlette 1.0 removed event handlers; '
                "FastAPI keeps a deprecated copy). Move the code into a lifespan context manager."
            )
            fix = lifespan_fix(node, ctx)
            ctx.report(node, message, fix=fix)
            return
        ctx.report(node, message)
