"""CORS that lets any origin make requests with the user's cookies."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.security_support import is_dev_path

STARLETTE_CORS = frozenset(
    {"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"}
)
FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.cross_origin"})
DJANGO_ALL = ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
WILDCARD_REGEXES = frozenset({".*", "^.*$", ".+", "^.+$", "^https?://.*$", "https?://.*"})


def _wildcard(node: ast.AST | None) -> bool:
    """`"*"`, `["*"]`, `(".*",)`."""
    if isinstance(node, ast.Constant):
        return node.value == "*" or node.value in WILDCARD_REGEXES
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(_wildcard(element) for element in node.elts)
    return False


def _true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _is_cors_middleware(node: ast.AST, ctx: FileContext) -> bool:
    # The spelled name first: asking every call of a project for its qualified name is costly.
    return ctx.spelled_name(node) == "CORSMiddleware" and ctx.qualname(node) in STARLETTE_CORS


def _keywords(call: ast.Call, ctx: FileContext) -> dict[str | None, ast.AST]:
    return {kw.arg: _module_value(kw.value, ctx) for kw in call.keywords if kw.arg}


def _module_value(node: ast.AST, ctx: FileContext) -> ast.AST:
    """`origins` -> `["*"]` when the module binds the name once to a literal."""
    if not isinstance(node, ast.Name) or ctx.source.tree is None:
        return node
    values = [
        stmt.value
        for stmt in ctx.source.tree.body
        if isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
    ]
    return values[0] if len(values) == 1 else node


class CorsWildcardCredentials(Rule):
    code = "BEX711"
    slug = "cors-wildcard-credentials"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 942
    security_severity = 6.5
    skip_tests = True
    requires_text = ("CORS", "cross_origin")  # flask-cors, `CORSMiddleware`, `CORS_*` settings
    summary = "CORS allows every origin and sends credentials"
    hint = "List the origins that may call the API; keep credentials only for those."
    explanation = Explanation(
        what=(
            'Flags Starlette/FastAPI\'s `CORSMiddleware` with `allow_origins=["*"]` (or an '
            "`allow_origin_regex` that matches everything) and `allow_credentials=True`; "
            "flask-cors's `CORS()` / `@cross_origin()` with `supports_credentials=True` and no "
            'origins or `"*"`; and Django settings that set `CORS_ALLOW_ALL_ORIGINS = True` '
            "(or the old `CORS_ORIGIN_ALLOW_ALL`) with `CORS_ALLOW_CREDENTIALS = True`. "
            "Development settings and tests are not flagged."
        ),
        why=(
            "Browsers refuse a literal `*` with credentials, so these libraries answer with "
            "the caller's own origin instead, which is the same as trusting every site: a page "
            "on any domain the user visits can call the API with the user's cookies and read "
            "the answers (profile data, CSRF tokens, API keys)."
        ),
        use_instead=(
            'List the front-end origins (`allow_origins=["https://app.example.com"]`, '
            "`CORS_ALLOWED_ORIGINS`), or drop credentials for a public API that authenticates "
            "with bearer tokens."
        ),
        references=(
            "https://www.starlette.io/middleware/#corsmiddleware",
            "https://flask-cors.readthedocs.io/en/latest/api.html",
            "https://github.com/adamchainz/django-cors-headers#cors_allow_all_origins-bool",
            "https://cwe.mitre.org/data/definitions/942.html",
        ),
    )
    fire = (
        Example(
            title="FastAPI and flask-cors",
            code="""\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from flask import Flask
from flask_cors import CORS

app = FastAPI()
ORIGINS = ["*"]
app.add_middleware(  # flagged
    CORSMiddleware, allow_origins=ORIGINS, allow_credentials=True, allow_methods=["*"]
)

flask_app = Flask(__name__)
CORS(flask_app, supports_credentials=True)  # flagged
""",
        ),
        Example(
            title="Django settings with django-cors-headers",
            files={
                "shop/settings.py": """\
CORS_ALLOW_ALL_ORIGINS = True  # flagged
CORS_ALLOW_CREDENTIALS = True
"""
            },
        ),
    )
    clean = (
        Example(
            title="listed origins with credentials, and a wildcard without them",
            code="""\
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()
app.add_middleware(
    CORSMiddleware, allow_origins=["https://app.example.com"], allow_credentials=True
)
public = FastAPI()
public.add_middleware(CORSMiddleware, allow_origins=["*"])
""",
        ),
        Example(
            title="development settings",
            files={
                "shop/settings/dev.py": "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True\n"
            },
        ),
    )

    @visit_call(FLASK_CORS)
    def check_flask_cors(self, node: ast.Call, ctx: FileContext) -> None:
        if not node.keywords or ctx.qualname(node.func) not in FLASK_CORS:
            return  # credentials are only ever allowed by a keyword
        keywords = _keywords(node, ctx)
        origins = keywords.get("origins")
        if _true(keywords.get("supports_credentials")) and (origins is None or _wildcard(origins)):
            self._report(node, "flask-cors", ctx)

    @visit(ast.Call)
    def check_middleware(self, node: ast.Call, ctx: FileContext) -> None:
        """`CORSMiddleware(app, ...)`, or the class handed to `add_middleware()`/`Middleware()`."""
        if not node.keywords:
            return
        middleware = node.args[0] if node.args else None
        if not _is_cors_middleware(node.func, ctx) and not (
            middleware is not None and _is_cors_middleware(middleware, ctx)
        ):
            return
        keywords = _keywords(node, ctx)
        wildcard = _wildcard(keywords.get("allow_origins")) or _wildcard(
            keywords.get("allow_origin_regex")
        )
        if wildcard and _true(keywords.get("allow_credentials")):
            self._report(node, "`CORSMiddleware`", ctx)

    @visit(ast.Module)
    def check_settings(self, node: ast.Module, ctx: FileContext) -> None:
        if is_dev_path(ctx.path):
            return
        values: dict[str, ast.Assign] = {}
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name) and _true(stmt.value):
                    values[target.id] = stmt
        if "CORS_ALLOW_CREDENTIALS" not in values:
            return
        for name in DJANGO_ALL:
            if name in values:
                self._report(values[name], f"`{name}` with `CORS_ALLOW_CREDENTIALS`", ctx)
                return

    def _report(self, node: ast.AST, what: str, ctx: FileContext) -> None:
        ctx.report(
            node,
            f"{what} allows every origin and sends credentials: the library answers with the "
            "caller's origin, so a page on any site can call this API with the user's cookies "
            "and read the responses. List the allowed origins instead.",
        )
