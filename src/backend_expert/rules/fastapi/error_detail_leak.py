"""`HTTPException(detail=str(e))` for an unexpected error: internals sent to the client."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.fastapi_scope import per_request_role, top_function
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit

HTTP_EXCEPTIONS = frozenset(
    {
        "fastapi.HTTPException",
        "fastapi.exceptions.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)
RESPONSES = frozenset(
    {
        "fastapi.responses.JSONResponse",
        "starlette.responses.JSONResponse",
        "fastapi.responses.PlainTextResponse",
        "starlette.responses.PlainTextResponse",
        "fastapi.responses.HTMLResponse",
        "fastapi.responses.ORJSONResponse",
    }
)
# Exceptions whose text describes the server's internals (queries, hosts, paths, stack state).
BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
INTERNAL_PREFIXES = (
    "sqlalchemy.",
    "psycopg",
    "asyncpg.",
    "pymysql.",
    "sqlite3.",
    "redis.",
    "httpx.",
    "requests.",
    "aiohttp.",
    "botocore.",
    "boto3.",
    "openai.",
    "pymongo.",
    "builtins.OSError",
    "builtins.IOError",
    "builtins.ConnectionError",
    "builtins.RuntimeError",
    "builtins.KeyError",
    "builtins.AttributeError",
    "builtins.TypeError",
)
TRACEBACK_CALLS = frozenset({"traceback.format_exc", "traceback.format_exception"})


def _handler_types(handler: ast.ExceptHandler, ctx: FileContext) -> list[str]:
    if handler.type is None:
        return ["builtins.BaseException"]
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return [ctx.qualname(n) or "" for n in nodes]


class ErrorDetailLeak(Rule):
    code = "BEX108"
    slug = "fastapi-error-detail-leak"
    pack = "fastapi"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("fastapi",)
    skip_tests = True
    cwe = 209
    summary = "An unexpected exception's text (or a traceback) sent to the client"
    hint = (
        "Log the exception and return a generic message; keep `str(e)` for errors meant for users."
    )
    explanation = Explanation(
        what=(
            'Flags `HTTPException(detail=str(e))`, `detail=f"...{e}"`, `repr(e)` or '
            "`traceback.format_exc()`, and responses built from them in a route, when `e` is "
            "caught as `Exception` (or bare `except`), as a database, network or OS error, or "
            "when the status is 500 or above. Errors a project raises for its users "
            "(`ValueError`, its own exception classes) are left alone at 4xx."
        ),
        why=(
            "The message of an unexpected exception is written for developers: SQL statements "
            "and constraint names, host names and ports, file paths, library versions. Sent to "
            "the client it maps the system for an attacker (CWE-209), and the same text is "
            "useless to a legitimate caller, who cannot act on it."
        ),
        use_instead=(
            '`logger.exception("...")` and `raise HTTPException(500, detail="Internal '
            'error")` (or a correlation id the user can quote); translate the expected errors '
            "into specific 4xx messages."
        ),
        references=(
            "https://cwe.mitre.org/data/definitions/209.html",
            "https://fastapi.tiangolo.com/tutorial/handling-errors/",
        ),
    )
    security_severity = 4.3
    fire = (
        Example(
            title="a database error's text in the HTTP error and in a JSON body",
            code="""\
import traceback

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

app = FastAPI()


@app.post("/orders")
async def create_order() -> dict:
    try:
        return {"id": 1}
    except SQLAlchemyError as exc:
        raise HTTPException(status_code=400, detail=str(exc))  # flagged


@app.get("/report")
async def report():
    try:
        return {"rows": []}
    except Exception as e:
        return JSONResponse({"error": f"failed: {e}", "trace": traceback.format_exc()}, 500)  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="near miss: logged exception, and a user-facing validation message",
            code="""\
import logging

from fastapi import FastAPI, HTTPException

app = FastAPI()
logger = logging.getLogger(__name__)


@app.post("/import")
async def import_rows(text: str) -> dict:
    try:
        rows = [int(part) for part in text.split(",")]
    except ValueError as e:
        raise HTTPException(status_code=422, detail=str(e))
    except Exception as e:
        logger.exception("import failed: %s", e)
        raise HTTPException(status_code=500, detail="Internal error")
    return {"rows": rows}
""",
        ),
    )

    @visit(ast.ExceptHandler)
    def check_handler(self, node: ast.ExceptHandler, ctx: FileContext) -> None:
        if ctx.is_test:
            return
        types = _handler_types(node, ctx)
        broad = any(t in BROAD or t.startswith(INTERNAL_PREFIXES) for t in types)
        name = node.name
        for inner in _walk(node.body):
            if isinstance(inner, ast.Call):
                self._check_call(inner, name, broad, ctx)
            elif isinstance(inner, ast.Return) and inner.value is not None and broad:
                self._check_return(inner, name, ctx)

    def _check_call(self, call: ast.Call, name: str | None, broad: bool, ctx: FileContext):
        callee = ctx.qualname(call.func)
        if callee in HTTP_EXCEPTIONS:
            status = call.args[0] if call.args else None
            detail = call.args[1] if len(call.args) > 1 else None
            for kw in call.keywords:
                if kw.arg == "status_code":
                    status = kw.value
                elif kw.arg == "detail":
                    detail = kw.value
            server = (
                isinstance(status, ast.Constant)
                and isinstance(status.value, int)
                and status.value >= 500
            )
            if server or "HTTP_5" in (ast.unparse(status) if status is not None else ""):
                server = True
            if detail is not None and (broad or server) and _leaks(detail, name, ctx):
                ctx.report(call, self._message(detail, "the HTTP error detail"))
        elif callee in RESPONSES and broad:
            content = (
                call.args[0]
                if call.args
                else next((kw.value for kw in call.keywords if kw.arg == "content"), None)
            )
            if content is not None and _leaks(content, name, ctx):
                ctx.report(call, self._message(content, "the response body"))

    def _check_return(self, node: ast.Return, name: str | None, ctx: FileContext) -> None:
        if not isinstance(node.value, (ast.Dict, ast.JoinedStr, ast.Call)):
            return
        if isinstance(node.value, ast.Call) and ctx.qualname(node.value.func) in RESPONSES:
            return  # reported as a response call
        if per_request_role(top_function(ctx), ctx) != "route":
            return
        if _leaks(node.value, name, ctx):
            ctx.report(node, self._message(node.value, "the route's response"))

    @staticmethod
    def _message(node: ast.AST, where: str) -> str:
        return (
            f"The exception's text goes into {where}: internal details (queries, hosts, paths) "
            "reach the client; log it and send a generic message"
        )


def _leaks(node: ast.AST, name: str | None, ctx: FileContext) -> bool:
    """True when `node` embeds `str(e)`, `repr(e)`, `f"{e}"`, `e.args` or a traceback."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call):
            callee = ctx.qualname(inner.func)
            if callee in TRACEBACK_CALLS:
                return True
            if (
                callee in ("builtins.str", "builtins.repr")
                and len(inner.args) == 1
                and _is_name(inner.args[0], name)
            ):
                return True
        elif (isinstance(inner, ast.FormattedValue) and _is_name(inner.value, name)) or (
            isinstance(inner, ast.Attribute)
            and inner.attr == "args"
            and _is_name(inner.value, name)
        ):
            return True
    return False


def _is_name(node: ast.AST, name: str | None) -> bool:
    return name is not None and isinstance(node, ast.Name) and node.id == name


def _walk(body: list[ast.stmt]):
    """The nodes of a handler's body, not of nested handlers or functions (checked on their own)."""
    stack: list[ast.AST] = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(
                child, (ast.ExceptHandler, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            ):
                stack.append(child)
