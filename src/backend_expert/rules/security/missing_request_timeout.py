"""`requests` calls without a timeout wait forever on a server that never answers."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

FUNCTIONS = frozenset(
    f"requests.{name}"
    for name in ["get", "post", "put", "patch", "delete", "head", "options", "request"]
)
SESSION_METHODS = frozenset(["get", "post", "put", "patch", "delete", "head", "options", "request"])


class MissingRequestTimeout(Rule):
    code = "BEX715"
    slug = "missing-request-timeout"
    pack = "security"
    severity = Severity.WARNING
    category = "reliability"
    cwe = 400
    security_severity = 3.7
    skip_tests = True
    summary = "A `requests` call without `timeout=`, which can wait forever"
    hint = "Pass `timeout=` (seconds, or a `(connect, read)` pair) to every `requests` call."
    explanation = Explanation(
        what=(
            "Flags `requests.get/post/put/patch/delete/head/options/request()` and the same "
            "methods of a `requests.Session` bex can identify, when they have no `timeout=` "
            "(and no `**kwargs` that might carry one). httpx is not flagged: it has a default "
            "timeout."
        ),
        why=(
            "requests has no default timeout: if the other side accepts the connection and "
            "never answers, the call blocks forever. In a web worker that is one worker gone per "
            "hung call; a slow or hostile upstream then takes the whole service down, and a "
            "URL the user chooses lets anyone do it on purpose."
        ),
        use_instead=(
            "`requests.get(url, timeout=10)` or `timeout=(3.05, 27)` for separate connect and "
            "read limits; set it once in a wrapper or a `Session` subclass if every call "
            "needs the same one."
        ),
        references=(
            "https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",
            "https://cwe.mitre.org/data/definitions/400.html",
        ),
    )
    fire = (
        Example(
            title="module functions and a session without a timeout",
            code="""\
import requests


def notify(url, payload):
    requests.post(url, json=payload)  # flagged
    session = requests.Session()
    return session.get(url)  # flagged
""",
            fixed="""\
import requests


def notify(url, payload):
    requests.post(url, json=payload, timeout=10)
    session = requests.Session()
    return session.get(url, timeout=10)
""",
        ),
    )
    clean = (
        Example(
            title="timeouts given, forwarded keyword arguments, and httpx",
            code="""\
import httpx
import requests


def fetch(url, **kwargs):
    requests.get(url, timeout=5)
    requests.get(url, **kwargs)
    return httpx.get(url)
""",
        ),
    )

    @visit_call(FUNCTIONS, SESSION_METHODS)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        if any(kw.arg in ("timeout", None) for kw in node.keywords):
            return
        qualified = ctx.qualname(node.func)
        if qualified in FUNCTIONS:
            confidence = Confidence.HIGH
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_METHODS
            and (ctx.type_of(node.func.value) or "").startswith("requests.")
        ):
            confidence = Confidence.MEDIUM  # the session may be a subclass with a default
        else:
            return
        name = qualified or f"session.{node.func.attr}"  # type: ignore[union-attr]
        ctx.report(
            node,
            f"`{name}()` has no `timeout=`: requests waits forever on a server that accepts the "
            "connection and never answers, holding this worker. Pass `timeout=` in seconds.",
            confidence=confidence,
        )
