"""A route that hands the raw request body (a dict from `request.json()`, a form, a `dict` body
parameter) to the rest of the program instead of validating it with a Pydantic model."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.nodes import own_nodes
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.web import (
    body_parameters,
    fastapi_route,
    free_form_body_parameters,
    parameter_marker,
    request_parameters,
    route_parameters,
)

# GraphQL and JSON-RPC endpoints receive a protocol envelope their engine validates.
PROTOCOL_PATHS = re.compile(r"graphql|rpc\b", re.IGNORECASE)
PARSED_READS = ("json", "form")  # `await request.json()` / `await request.form()`
RAW_READS = ("body", "stream")  # the exact bytes: webhooks and proxies need them
# A call whose name holds one of these verifies or handles a signed payload...
SIGNATURE_WORDS = ("signature", "construct_event", "compare_digest", "hmac")
# ...and so does one named like this that is given the request or a header (`verify_user(user)`
# is an authorisation check, `verify_webhook(request.headers, ...)` is not).
VERIFY_WORDS = ("verify", "signed")
PYDANTIC_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "sqlmodel.SQLModel"})
# Methods and functions that validate a dict into a typed object.
VALIDATOR_METHODS = frozenset(
    {"validate_python", "validate_json", "validate_strings", "parse_obj", "parse_raw", "validate"}
)
VALIDATOR_FUNCTIONS = frozenset({"parse_obj_as", "validate_call"})
# A function named like this parses or validates what it is given (`_parse_reason(form)`).
VALIDATOR_WORDS = ("parse", "validat", "clean")
# Calls that only look at a value, or write it to a log: not "passing it on".
INSPECTING_CALLS = frozenset(
    {
        "len",
        "bool",
        "isinstance",
        "type",
        "repr",
        "print",
        "id",
        "hash",
        "callable",
        "hasattr",
    }
)
LOG_RECEIVERS = ("log", "logger", "logging", "_log", "_logger", "LOG", "LOGGER", "structlog")
LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "msg", "bind"}
)
# Wrappers that keep the value raw: `dict(await request.form())`.
TRANSPARENT_CALLS = frozenset({"dict", "list", "MultiDict", "ImmutableMultiDict", "deepcopy"})


@dataclass
class _Uses:
    """How a raw value is used in the route's own body."""

    whole_only: bool = False  # count only uses of the whole value, not reads of its fields
    passed: ast.AST | None = None  # first use that hands it on, indexes it or stores it
    validated: bool = False


def _call_words(call: ast.Call) -> str:
    name = dotted(call.func)
    if name is None and isinstance(call.func, ast.Attribute):
        name = call.func.attr
    return (name or "").lower()


def _is_pydantic_class(node: ast.AST, ctx: FileContext) -> bool:
    name = ctx.qualname(node)
    return name is not None and ctx.project.is_subclass(name, PYDANTIC_BASES)


def _is_validator(call: ast.Call, ctx: FileContext) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if (
        name.startswith("model_validate")
        or name in VALIDATOR_METHODS
        or name in VALIDATOR_FUNCTIONS
        or any(word in name.lower() for word in VALIDATOR_WORDS)
    ):
        return True
    return _is_pydantic_class(func, ctx)


def _is_route_helper(call: ast.Call, ctx: FileContext) -> bool:
    """`_read_grant(form)`: a private function of the route's own module is part of the HTTP
    layer (its parsing split out), not the business logic the body must not reach raw."""
    func = call.func
    return (
        isinstance(func, ast.Name)
        and func.id.startswith("_")
        and func.id in ctx.facts.functions
        and func.id not in ctx.facts.imports
    )


def _is_inspection(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in INSPECTING_CALLS
    if isinstance(func, ast.Attribute) and func.attr in LOG_METHODS:
        head = dotted(func.value) or ""
        return head.split(".")[-1] in LOG_RECEIVERS or head.split(".")[0] in LOG_RECEIVERS
    return False


class _Body:
    """Parents of the route's own nodes, and how raw values flow through them."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.function = function
        self.parents: dict[int, ast.AST] = {}
        self.nodes: list[ast.AST] = []
        for node in own_nodes(function):
            self.nodes.append(node)
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        for child in ast.iter_child_nodes(function):
            self.parents[id(child)] = function

    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))

    def loads(self, name: str) -> list[ast.Name]:
        found = [
            n
            for n in self.nodes
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
        ]
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))

    def value_uses(self, value: ast.AST, ctx: FileContext, uses: _Uses, depth: int = 0) -> None:
        """Classify what happens to the value of expression `value`."""
        if depth > 4:
            return
        parent = self.parent(value)
        if isinstance(parent, ast.Await):
            value, parent = parent, self.parent(parent)
        if isinstance(parent, (ast.keyword, ast.Starred)):
            value, parent = parent, self.parent(parent)
        if isinstance(parent, ast.Call) and value is not parent.func:
            if _is_validator(parent, ctx):
                uses.validated = True
            elif _is_inspection(parent) or _is_route_helper(parent, ctx):
                return
            elif isinstance(parent.func, ast.Name) and parent.func.id in TRANSPARENT_CALLS:
                self.value_uses(parent, ctx, uses, depth + 1)
            else:
                uses.passed = uses.passed or parent
            return
        if isinstance(parent, (ast.Subscript, ast.Attribute)) and parent.value is value:
            use: ast.AST = parent
            if isinstance(parent, ast.Attribute):
                call = self.parent(parent)
                if isinstance(call, ast.Call) and call.func is parent:
                    if parent.attr == "copy":
                        self.value_uses(call, ctx, uses, depth + 1)
                        return
                    use = call  # `data.get("status")`
            if not uses.whole_only:
                uses.passed = uses.passed or use
            return
        if isinstance(parent, ast.Dict) and value in parent.values:
            uses.passed = uses.passed or parent  # `{**data}` or `{"payload": data}`
            return
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    self.name_uses(target.id, ctx, uses, depth + 1, exclude=target)
                elif isinstance(target, (ast.Attribute, ast.Subscript)):
                    uses.passed = uses.passed or parent  # stored on an object
        elif isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
            self.name_uses(parent.optional_vars.id, ctx, uses, depth + 1)

    def name_uses(
        self,
        name: str,
        ctx: FileContext,
        uses: _Uses,
        depth: int = 0,
        exclude: ast.AST | None = None,
    ) -> None:
        for load in self.loads(name):
            if load is not exclude:
                self.value_uses(load, ctx, uses, depth)

    def handles_raw_payload(self, requests: set[str], headers: set[str]) -> bool:
        """Verifies a signature, reads the exact body bytes (webhooks, proxies need them), or
        picks the parser by `Content-Type` (a body FastAPI's single declared model cannot cover)."""
        evidence = requests | headers
        for node in self.nodes:
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.lower() == "content-type"
            ):
                return True
            if not isinstance(node, ast.Call):
                continue
            words = _call_words(node)
            if any(word in words for word in SIGNATURE_WORDS):
                return True
            if any(word in words for word in VERIFY_WORDS) and any(
                isinstance(n, ast.Name) and n.id in evidence
                for argument in (*node.args, *(kw.value for kw in node.keywords))
                for n in ast.walk(argument)
            ):
                return True
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr in RAW_READS
                and isinstance(func.value, ast.Name)
                and func.value.id in requests
            ):
                return True
        return False


def _is_parsed_read(node: ast.AST, requests: set[str]) -> bool:
    """`request.json()` / `request.form()` on a `Request` parameter."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in PARSED_READS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in requests
        and not node.args
    )


def _reads_parsed_body(function: ast.AST, requests: set[str]) -> bool:
    return any(_is_parsed_read(node, requests) for node in ast.walk(function))


def _raw_bytes_parameter(
    function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> bool:
    for arg, _default in route_parameters(function):
        if ctx.inference.annotation_type(arg.annotation) == "builtins.bytes":
            return True
    return False


def _has_model_body(function: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    for arg, default in route_parameters(function):
        kind = ctx.inference.annotation_type(arg.annotation)
        if kind is None or not ctx.project.is_subclass(kind, PYDANTIC_BASES):
            continue
        marker = parameter_marker(arg, default, ctx)
        if marker is None or marker[0] in ("body", "form"):
            return True
    return False


def _describe(node: ast.AST) -> str:
    text = ast.unparse(node).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


class RawRequestBody(Rule):
    code = "BEX102"
    slug = "fastapi-raw-request-body"
    pack = "fastapi"
    severity = Severity.WARNING
    category = "validation"
    frameworks = ("fastapi",)
    skip_tests = True
    summary = "Route passes the raw request body on instead of validating it with a Pydantic model"
    hint = (
        "Declare the body as a Pydantic v2 model parameter (`payload: ItemCreate`) and pass the "
        "model on; FastAPI then validates it and documents it."
    )
    explanation = Explanation(
        what=(
            "Flags FastAPI routes that read the body themselves with `await request.json()` "
            "(any use of the result: passed to a call, indexed, stored) or `await request.form()` "
            "(the whole form handed on or stored), and routes whose only body parameter is a "
            "schemaless `dict`, `Dict[str, Any]`, `Mapping` or `Any = Body()` that is used the "
            "same way. Left alone: webhooks (raw bytes read, a signature verified), routes that "
            "choose the parser by `Content-Type`, GraphQL/JSON-RPC endpoints, data validated with "
            "`Model.model_validate(...)` or a parse/validate helper, data handed only to private "
            "helpers of the route's module, form fields read and converted one by one (manual "
            "validation in HTML form handlers), and a free-form field beside typed body fields."
        ),
        why=(
            "Whatever the client sent reaches the business logic unchecked: missing keys become "
            "`KeyError`s deep in a service (a 500 instead of a 422), wrong types are stored, and "
            "extra keys can set fields the client should not control when the dict is spread into "
            "a model (`User(**payload)`). The endpoint also documents no request schema, so "
            "clients and generated SDKs cannot know what to send. Validating at the boundary "
            "keeps every layer behind the route working with typed, trusted values."
        ),
        use_instead=(
            "Describe the body with a Pydantic v2 model and declare it as the parameter; for forms "
            "use `Annotated[Model, Form()]`. When the route must read the body by hand, validate "
            "it first with `Model.model_validate(data)` and pass the model on. A dict that comes from "
            "`Depends()`, or is only checked (`len(payload)`) or logged, is not flagged."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/body/",
            "https://fastapi.tiangolo.com/tutorial/request-form-models/",
            "https://docs.pydantic.dev/latest/concepts/models/#validating-data",
        ),
    )
    fire = (
        Example(
            title="the JSON body read by hand and handed to a service",
            code="""\
from fastapi import APIRouter, Request

from .services import orders

router = APIRouter()


@router.post("/orders")
async def create_order(request: Request):
    data = await request.json()  # flagged
    return await orders.create(customer=data["customer"], lines=data["lines"])
""",
            fixed="""\
from fastapi import APIRouter
from pydantic import BaseModel, Field

from .services import orders

router = APIRouter()


class OrderLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0)


class OrderCreate(BaseModel):
    customer: str
    lines: list[OrderLine]


@router.post("/orders")
async def create_order(order: OrderCreate):
    return await orders.create(customer=order.customer, lines=order.lines)
""",
        ),
        Example(
            title="a `dict` body spread into an ORM model",
            code="""\
from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import Session

from .db import SessionLocal
from .models import User

app = FastAPI()


@app.post("/users")
def create_user(payload: dict[str, Any]):  # flagged
    with SessionLocal() as session:
        user = User(**payload)
        session.add(user)
        session.commit()
        return {"id": user.id}
""",
            fixed="""\
from fastapi import FastAPI
from pydantic import BaseModel, EmailStr

from .db import SessionLocal
from .models import User

app = FastAPI()


class UserCreate(BaseModel):
    email: EmailStr
    name: str


@app.post("/users")
def create_user(payload: UserCreate):
    with SessionLocal() as session:
        user = User(**payload.model_dump())
        session.add(user)
        session.commit()
        return {"id": user.id}
""",
        ),
        Example(
            title="an authorisation check named `verify_*` does not make the route a webhook",
            code="""\
from fastapi import Depends, FastAPI, Request

from .auth import current_user, verify_admin
from .settings_store import save_settings

app = FastAPI()


@app.put("/admin/settings")
async def put_settings(request: Request, user=Depends(current_user)):
    verify_admin(user)
    await save_settings(await request.json())  # flagged
""",
        ),
        Example(
            title="a form read raw in a route on a router defined in another module",
            files={
                "shop/__init__.py": "",
                "shop/routing.py": "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/shop')\n",
                "shop/views.py": """\
from fastapi import Body, Request

from shop.routing import router
from shop import service


@router.post("/contact")
async def contact(request: Request):
    form = await request.form()  # flagged
    await service.send_message(**form)
    return {"ok": True}


@router.patch("/profile")
async def patch_profile(changes: dict = Body(...)):  # flagged
    await service.update_profile(**changes)
""",
            },
        ),
    )
    clean = (
        Example(
            title="a webhook that verifies the signature over the raw bytes before parsing",
            code="""\
import hashlib
import hmac
import json

from fastapi import FastAPI, HTTPException, Request

from .config import WEBHOOK_SECRET
from .billing import handle_event

app = FastAPI()


@app.post("/webhooks/billing")
async def billing_webhook(request: Request):
    raw = await request.body()
    expected = hmac.new(WEBHOOK_SECRET, raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("x-signature", "")):
        raise HTTPException(status_code=400)
    event = json.loads(raw)
    await handle_event(event["type"], event["data"])
""",
        ),
        Example(
            title="a Stripe-style webhook that builds the event from the signed payload",
            code="""\
import stripe
from fastapi import APIRouter, Request

router = APIRouter()


@router.post("/stripe")
async def stripe_webhook(request: Request):
    event = stripe.Webhook.construct_event(
        await request.body(), request.headers["stripe-signature"], "whsec_..."
    )
    data = await request.json()
    return {"type": event["type"], "seen": data["id"]}
""",
        ),
        Example(
            title="a webhook whose signature check is delegated to a helper given the request",
            code="""\
from fastapi import APIRouter, Request

from .billing import handle_paypal_event
from .paypal import verify_paypal_webhook

router = APIRouter()


@router.post("/callbacks/paypal")
async def paypal_callback(request: Request):
    await verify_paypal_webhook(request)
    event = await request.json()
    await handle_paypal_event(event["event_type"], event["resource"])
    return {"ok": True}
""",
        ),
        Example(
            title="the body is a Pydantic model; a `dict` comes from a dependency",
            code="""\
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from .services import items

app = FastAPI()


class ItemCreate(BaseModel):
    name: str


def pagination(page: int = 1, size: int = 50) -> dict:
    return {"page": page, "size": size}


@app.post("/items")
async def create_item(item: ItemCreate):
    return await items.create(item)


@app.get("/items")
async def list_items(paging: dict = Depends(pagination)) -> dict:
    return await items.list(**paging)
""",
        ),
        Example(
            title="a dict body that is only checked and logged, and a bare `Any` (a query parameter)",
            code="""\
import logging
from typing import Any

from fastapi import FastAPI, HTTPException

app = FastAPI()
logger = logging.getLogger(__name__)


@app.post("/ping")
async def ping(payload: dict):
    if len(payload) > 100:
        raise HTTPException(status_code=413)
    logger.info("ping %s", payload)
    return {"keys": len(payload)}


@app.get("/search")
async def search(q: Any = None):
    return await run_search(q)
""",
        ),
        Example(
            title="the form is read by hand but validated with the model before use",
            code="""\
from fastapi import APIRouter, Request
from pydantic import BaseModel

from .service import save_ticket

router = APIRouter()


class TicketForm(BaseModel):
    subject: str
    body: str


@router.api_route("/tickets/new", methods=["GET", "POST"])
async def new_ticket(request: Request):
    if request.method == "POST":
        data = await request.form()
        ticket = TicketForm.model_validate(dict(data))
        await save_ticket(ticket)
    return {"form": "ticket"}
""",
        ),
        Example(
            title="an HTML form handler that reads and converts its fields one by one",
            code="""\
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from .service import set_review_threshold

router = APIRouter()


@router.api_route("/orgs/{org_id}/approve", methods=["GET", "POST"])
async def approve(org_id: int, request: Request):
    error = None
    if request.method == "POST":
        data = await request.form()
        reason = str(data.get("reason", "")).strip()
        try:
            threshold = int(float(str(data.get("threshold", "250"))) * 100)
        except ValueError:
            threshold = None
        if not reason or threshold is None:
            error = "A reason and a numeric threshold are required."
        else:
            await set_review_threshold(org_id, threshold, reason)
            return RedirectResponse(f"/orgs/{org_id}", status_code=303)
    return HTMLResponse(f"<form method=post>{error or ''}</form>")
""",
        ),
        Example(
            title="an OAuth token endpoint that parses the form in private helpers of its module",
            code="""\
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


def _form_str(form, key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) and value else None


async def _exchange_code(request: Request, form) -> JSONResponse:
    code = _form_str(form, "code")
    return JSONResponse({"access_token": code})


@router.post("/oauth/token")
async def token(request: Request) -> JSONResponse:
    form = await request.form()
    if _form_str(form, "grant_type") == "authorization_code":
        return await _exchange_code(request, form)
    return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
""",
        ),
        Example(
            title="one route that accepts JSON or multipart and picks the parser by Content-Type",
            code="""\
from fastapi import FastAPI, Request

from .datasets import create_dataset

app = FastAPI()


@app.post("/datasets/upload")
async def upload_dataset(request: Request):
    if request.headers.get("content-type", "").startswith("application/json"):
        payload = await request.json()
        return await create_dataset(payload["name"], payload["rows"])
    async with request.form() as form:
        return await create_dataset(str(form["name"]), await form["file"].read())
""",
        ),
        Example(
            title="a GraphQL endpoint hands the envelope to its engine; labels with typed values",
            code="""\
from fastapi import Body, FastAPI, Request

from .graphql import schema
from .services import labels as label_service

app = FastAPI()


@app.post("/graphql")
async def graphql(request: Request):
    data = await request.json()
    result = await schema.execute(data["query"], variable_values=data.get("variables"))
    return {"data": result.data}


@app.put("/things/{thing_id}/labels")
async def set_labels(thing_id: int, labels: dict[str, str] = Body()):
    return await label_service.replace(thing_id, labels)
""",
        ),
        Example(
            title="a free-form field beside typed body fields (the body itself has a schema)",
            code="""\
from uuid import UUID

from fastapi import Body, FastAPI

from .workflows import run_workflow

app = FastAPI()


@app.post("/workflows/invoke")
async def invoke(
    workflow_id: UUID = Body(...),
    stream: bool = Body(False),
    inputs: dict | None = Body(None, description="values for the workflow's own input nodes"),
):
    return await run_workflow(workflow_id, inputs or {}, stream=stream)
""",
        ),
        Example(
            title="the JSON body is only echoed back, and a helper that is not a route",
            code="""\
from fastapi import FastAPI, Request

from .services import orders

app = FastAPI()


@app.post("/echo")
async def echo(request: Request):
    return await request.json()


async def read_order(request: Request):
    data = await request.json()
    return await orders.create(data)
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_route(self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> None:
        route = fastapi_route(node, ctx)
        if route is None or (route.path and PROTOCOL_PATHS.search(route.path)):
            return
        requests = request_parameters(node, ctx)
        free_form = free_form_body_parameters(node, ctx)
        if free_form and set(body_parameters(node, ctx)) - set(free_form):
            # Typed fields beside it: the body has a schema and the dict is one open field of it,
            # like a `dict[str, Any]` field of a model (workflow inputs, tool settings).
            free_form = {}
        if not (free_form or (requests and _reads_parsed_body(node, requests))):
            return
        if _raw_bytes_parameter(node, ctx):
            return
        body = _Body(node)
        headers = {
            arg.arg
            for arg, default in route_parameters(node)
            if (marker := parameter_marker(arg, default, ctx)) and marker[0] == "header"
        }
        if body.handles_raw_payload(requests, headers):
            return
        for name, arg in free_form.items():
            uses = _Uses()
            body.name_uses(name, ctx, uses)
            if uses.passed is None or uses.validated:
                continue
            annotation = ast.unparse(arg.annotation) if arg.annotation else "dict"
            ctx.report(
                arg,
                f"Body parameter `{name}: {annotation}` takes any JSON object, and the route uses "
                f"it unvalidated (`{_describe(uses.passed)}`). Declare a Pydantic v2 model for "
                "the body instead so FastAPI validates and documents it.",
            )
        if not requests or _has_model_body(node, ctx):
            return
        for call in body.nodes:
            if not (
                _is_parsed_read(call, requests)
                and isinstance(body.parent(call), (ast.Await, ast.withitem))
            ):
                continue
            # A form is a flat map of strings: fields read one by one and converted is manual
            # validation (HTML form handlers do it to re-render errors instead of answering 422);
            # only the whole form handed on counts.
            uses = _Uses(whole_only=call.func.attr == "form")
            body.value_uses(call, ctx, uses)
            if uses.passed is None or uses.validated:
                continue
            read = f"{call.func.value.id}.{call.func.attr}()"
            what = "JSON body" if call.func.attr == "json" else "form"
            target = "a Pydantic v2 model parameter" + (
                "" if call.func.attr == "json" else " (`Annotated[Model, Form()]`)"
            )
            ctx.report(
                body.parent(call) if isinstance(body.parent(call), ast.Await) else call,
                f"`await {read}` reads the {what} unvalidated and the route uses it as is "
                f"(`{_describe(uses.passed)}`). Declare {target}, or validate it with "
                "`Model.model_validate(...)` before passing it on.",
                confidence=Confidence.HIGH if call.func.attr == "json" else Confidence.MEDIUM,
            )
