"""A mutating route without authentication in an app whose other mutating routes have it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from backend_expert.findings import Confidence, Finding, Severity
from backend_expert.index import Project
from backend_expert.routes import route_inventory
from backend_expert.rules.base import Example, Explanation, Rule
from backend_expert.rules.project._common import application_anchor, project_finding

MIN_PROTECTED = 3
SHARE = 0.6  # "most": at least this share of the mutating routes carry auth
# Routes that are public by design, or authenticated by other means (signatures).
PUBLIC = re.compile(
    r"login|logout|sign_?in|sign_?up|register|token|password|reset|forgot|verify|confirm|"
    r"webhook|callback|oauth|health|public|unsubscribe|contact|feedback|invite|activate|refresh|"
    r"(?:^|[/_.\s-])(?:preview|search|lookup|validate|estimate)(?:$|[/_.\s-])",  # POST as a query
    re.IGNORECASE,
)
# Modules that receive calls from third parties (Slack, Telegram, payment providers), which
# authenticate by signature inside the handler rather than by user.
RECEIVERS = re.compile(r"webhook|integrations?/|plugins?/|callbacks?|hooks?/|bots?[/_.]")
HEAD = (
    "from typing import Annotated\n\nfrom fastapi import Depends, FastAPI\n\n"
    "from auth import get_current_user\n\napp = FastAPI()\n"
    "User = Annotated[dict, Depends(get_current_user)]\n"
)
AUTH = "def get_current_user():\n    return {}\n"


def _route(method: str, path: str, name: str, user: bool, mark: bool = False) -> str:
    parameter = "user: User" if user else ""
    flag = "  # flagged" if mark else ""
    return f"\n\n@app.{method}('{path}')\nasync def {name}({parameter}):{flag}\n    return {{}}\n"


FLASK_VIEWS = (
    "from flask import Blueprint\nfrom flask_login import login_required\n\nbp = Blueprint('blog', __name__)\n"
    + "".join(
        f"\n\n@bp.post('/{name}')\n@login_required\ndef {name}():\n    return ''\n"
        for name in ("publish", "edit", "remove")
    )
    + "\n\n@bp.post('/archive')\ndef archive():  # flagged\n    return ''\n"
)
DJANGO_VIEWS = (
    "from django.contrib.auth.decorators import login_required\n"
    "from django.views.decorators.http import require_POST\n"
    + "".join(
        f"\n\n@require_POST\n@login_required\ndef {name}(request):\n    return None\n"
        for name in ("checkout", "cancel", "refund")
    )
    + "\n\n@require_POST\ndef reorder(request):\n    return None\n"
)
DJANGO_URLS = (
    "from django.urls import path\n\nfrom shop import views\n\nurlpatterns = [\n"
    "    path('checkout/', views.checkout),\n    path('cancel/', views.cancel),\n"
    "    path('refund/', views.refund),\n    path('reorder/', views.reorder),  # flagged\n]\n"
)
PROTECTED = (
    _route("post", "/orders", "create_order", True)
    + _route("put", "/orders/{i}", "update_order", True)
    + _route("delete", "/orders/{i}", "delete_order", True)
)


class UnauthenticatedRoute(Rule):
    code = "BEX720"
    slug = "unauthenticated-route"
    pack = "security"
    severity = Severity.WARNING
    category = "security"
    cwe = 306
    security_severity = 6.5
    summary = "A route that changes data has no authentication while the app's others do"
    hint = "Add the app's auth dependency/decorator to this route, or document why it is public."
    explanation = Explanation(
        what=(
            "Looks at every POST/PUT/PATCH/DELETE route (FastAPI, Flask, Django and DRF views) "
            "and the auth evidence around it: `Security()`/`Depends()` on a user or auth "
            "dependency, router- and app-level `dependencies=`, Flask `login_required`-style "
            "decorators and `before_request` hooks, Django `login_required`, auth mixins, DRF "
            "`permission_classes` and default permissions, `LoginRequiredMiddleware`. When at "
            f"least {MIN_PROTECTED} mutating routes and {int(SHARE * 100)}% of them have auth, each "
            "one without it is reported; when none has any, the app is reported once, as info. "
            "Login, sign-up, token, password-reset, webhook and health routes are public by design "
            "and skipped."
        ),
        why=(
            "A write route without auth in an otherwise protected API is almost always a "
            "forgotten dependency: anyone who finds the URL can create, change or delete data "
            "(CWE-306). Consistency is the signal: the rest of the app shows what protection "
            "looks like."
        ),
        use_instead=(
            "The same protection as the neighbouring routes: `user: CurrentUser` or "
            "`dependencies=[Depends(get_current_user)]` on the router, `@login_required`, "
            "`permission_classes = [IsAuthenticated]`. A route that must stay public says so "
            "with `# noqa: BEX720` and a reason."
        ),
        references=(
            "https://cwe.mitre.org/data/definitions/306.html",
            "https://fastapi.tiangolo.com/tutorial/security/get-current-user/",
            "https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/",
        ),
    )
    fire = (
        Example(
            title="one write route forgot the user dependency",
            files={
                "auth.py": AUTH,
                "app.py": HEAD
                + PROTECTED
                + _route("post", "/orders/{i}/refund", "refund", False, True),
            },
        ),
    )
    fire = (
        *fire,
        Example(
            title="Flask: a write view without the decorator its neighbours carry",
            files={
                "blog/__init__.py": "",
                "blog/views.py": FLASK_VIEWS,
            },
        ),
        Example(
            title="Django: a POST view without login_required",
            files={
                "shop/__init__.py": "",
                "shop/views.py": DJANGO_VIEWS,
                "shop/urls.py": DJANGO_URLS,
            },
        ),
        Example(
            title="no route that changes data has any auth: reported once, as info",
            code="from fastapi import FastAPI\n\napp = FastAPI()  # flagged\n"
            + _route("post", "/a", "a", False)
            + _route("put", "/b", "b", False)
            + _route("delete", "/c", "c", False),
        ),
    )
    clean = (
        Example(
            title="near miss: the open route is a login",
            files={
                "auth.py": AUTH,
                "app.py": HEAD + PROTECTED + _route("post", "/login", "login", False),
            },
        ),
        Example(
            title="near miss: auth on the router",
            files={
                "auth.py": AUTH,
                "app.py": "from fastapi import APIRouter, Depends\n\nfrom auth import get_current_user\n\n"
                "app = APIRouter(dependencies=[Depends(get_current_user)])\n"
                + _route("post", "/a", "a", False)
                + _route("post", "/b", "b", False)
                + _route("delete", "/c", "c", False)
                + _route("patch", "/d", "d", False),
            },
        ),
        Example(
            title="near miss: read-only routes without auth",
            files={
                "auth.py": AUTH,
                "app.py": HEAD + PROTECTED + _route("get", "/orders", "orders", False),
            },
        ),
    )

    def check_project(self, project: Project) -> Iterator[Finding]:
        routes = [r for r in route_inventory(project) if r.mutating and not r.auth_unknown]
        considered = [
            r
            for r in routes
            if not PUBLIC.search(f"{r.path} {r.handler}") and not RECEIVERS.search(r.file)
        ]
        protected = [r for r in considered if r.auth]
        if not considered:
            return
        if not protected:
            if len(considered) >= MIN_PROTECTED:
                anchor = application_anchor(project) or (considered[0].file, considered[0].line)
                yield project_finding(
                    self,
                    anchor[0],
                    anchor[1],
                    f"None of the {len(considered)} routes that change data shows authentication "
                    "bex can see: check that the API is meant to be public",
                    severity=Severity.INFO,
                    confidence=Confidence.LOW,
                )
            return
        if len(protected) < MIN_PROTECTED or len(protected) / len(considered) < SHARE:
            return
        for route in considered:
            if route.auth is None:
                yield project_finding(
                    self,
                    route.file,
                    route.line,
                    f"{'/'.join(route.methods)} {route.path} changes data without authentication, "
                    f"while {len(protected)} of the app's {len(considered)} mutating routes have it",
                    confidence=Confidence.MEDIUM,
                )
