"""HTTPS requests made with certificate verification switched off."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call

HTTP_MODULES = ("requests.", "httpx.", "aiohttp.", "urllib3.")
CLIENT_TYPES = ("requests.", "httpx.", "aiohttp.")
HTTP_METHODS = frozenset(
    ["get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"]
)
OFF_KEYWORDS = {"verify": "verify=False", "ssl": "ssl=False", "verify_ssl": "verify_ssl=False"}
UNVERIFIED_CONTEXTS = frozenset({"ssl._create_unverified_context"})
NO_CERT_CHECK = frozenset(
    {"ssl.CERT_NONE", "ssl.CERT_OPTIONAL", "NONE", "CERT_NONE", "CERT_OPTIONAL"}
)


def _no_cert_check(node: ast.AST, ctx: FileContext) -> bool:
    """`ssl.CERT_NONE`, `ssl.CERT_OPTIONAL`, or urllib3's `"CERT_NONE"` / `"NONE"`."""
    if isinstance(node, ast.Constant):
        return node.value in NO_CERT_CHECK
    return ctx.qualname(node) in NO_CERT_CHECK


class TlsVerifyDisabled(Rule):
    code = "BEX708"
    slug = "tls-verify-disabled"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 295
    security_severity = 7.4
    skip_tests = True
    requires_text = (
        "verify",
        "cert_reqs",
        "_create_unverified_context",
        "ssl",
    )  # the keywords, attributes and function it looks for
    summary = "An HTTPS client call made with certificate verification switched off"
    hint = (
        'Leave verification on; for a private CA pass its bundle: `verify="/path/ca.pem"` '
        "(requests, httpx) or an `ssl.SSLContext` (aiohttp)."
    )
    explanation = Explanation(
        what=(
            "Flags `verify=False` on requests and httpx calls, sessions and clients "
            "(`requests.get(...)`, `httpx.Client(verify=False)`, `session.post(...)` on a "
            "known session), `ssl=False` / `verify_ssl=False` on aiohttp, `session.verify = "
            "False`, `ssl._create_unverified_context()`, `cert_reqs=ssl.CERT_NONE` (urllib3, "
            "`wrap_socket`) and `context.verify_mode = ssl.CERT_NONE`. A `verify=` given by a setting or "
            "variable is not flagged, nor are tests."
        ),
        why=(
            "Without certificate checks, anyone on the network path (a Wi-Fi hotspot, a "
            "compromised router, a cloud neighbour doing ARP spoofing) can present their own "
            "certificate, read the traffic and change it: API tokens, passwords and webhook "
            "payloads included. The switch usually goes in to get past a self-signed "
            "certificate in development and stays."
        ),
        use_instead=(
            "Keep the default. For an internal CA, point `verify=` at its bundle (or set "
            "`REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE`); make any opt-out a setting that defaults "
            "to verifying."
        ),
        references=(
            "https://requests.readthedocs.io/en/latest/user/advanced/#ssl-cert-verification",
            "https://www.python-httpx.org/advanced/ssl/",
            "https://docs.aiohttp.org/en/stable/client_advanced.html#ssl-control-for-tcp-sockets",
            "https://cwe.mitre.org/data/definitions/295.html",
        ),
    )
    fire = (
        Example(
            title="requests, httpx and aiohttp with verification off",
            code="""\
import ssl

import aiohttp
import httpx
import requests


def fetch(url):
    session = requests.Session()
    session.verify = False  # flagged
    context = ssl.create_default_context()
    context.verify_mode = ssl.CERT_NONE  # flagged
    requests.get(url, timeout=5, verify=False)  # flagged
    with httpx.Client(verify=False) as client:  # flagged
        return client.get(url)


async def fetch_async(url):
    async with aiohttp.ClientSession() as session:
        async with session.get(url, ssl=False) as response:  # flagged
            return await response.text()
""",
        ),
    )
    clean = (
        Example(
            title="a CA bundle, a setting, and `verify=False` on something that is not HTTP",
            code="""\
import requests

from .settings import VERIFY_TLS


def fetch(url, signer, token):
    requests.get(url, timeout=5, verify="/etc/ssl/internal-ca.pem")
    requests.get(url, timeout=5, verify=VERIFY_TLS)
    return signer.loads(token, verify=False)
""",
        ),
    )

    @visit_call(UNVERIFIED_CONTEXTS)
    def check_context(self, node: ast.Call, ctx: FileContext) -> None:
        if ctx.qualname(node.func) in UNVERIFIED_CONTEXTS:
            ctx.report(
                node,
                "`ssl._create_unverified_context()` accepts any certificate: the connection "
                "can be read and changed by anyone on the network path. Use "
                "`ssl.create_default_context()`.",
            )

    @visit(ast.Call)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        for keyword in node.keywords:
            if keyword.arg == "cert_reqs" and _no_cert_check(keyword.value, ctx):
                ctx.report(
                    keyword,
                    "`cert_reqs` without `CERT_REQUIRED` accepts connections whose certificate "
                    "is missing or invalid: anyone on the network path can read and change "
                    "this traffic. Use `ssl.CERT_REQUIRED` (the default).",
                )
                return
            if keyword.arg in OFF_KEYWORDS and _is_false(keyword.value):
                confidence = self._confidence(node, ctx.qualname(node.func) or "", ctx)
                if confidence is None:
                    return
                ctx.report(
                    keyword,
                    f"`{OFF_KEYWORDS[keyword.arg]}` turns off certificate checks: anyone on the "
                    "network path can read and change this traffic, credentials included. "
                    "Keep verification on, or pass the CA bundle of a private CA.",
                    confidence=confidence,
                )
                return

    @visit(ast.Assign)
    def check_assign(self, node: ast.Assign, ctx: FileContext) -> None:
        """`session.verify = False` / `client.verify = False`."""
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "verify_mode"
                and _no_cert_check(node.value, ctx)
            ):
                ctx.report(
                    node,
                    "`verify_mode = CERT_NONE` makes this SSL context accept any certificate: "
                    "anyone on the network path can read and change the traffic.",
                )
                return
        if not _is_false(node.value):
            return
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "verify":
                kind = ctx.type_of(target.value) or ""
                if kind.startswith(CLIENT_TYPES):
                    ctx.report(
                        node,
                        "`.verify = False` turns off certificate checks for every request of "
                        "this session: anyone on the network path can read and change them.",
                    )

    @staticmethod
    def _confidence(node: ast.Call, qualified: str, ctx: FileContext) -> Confidence | None:
        if qualified.startswith(HTTP_MODULES):
            return Confidence.HIGH
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in HTTP_METHODS:
            kind = ctx.type_of(func.value) or ""
            if kind.startswith(CLIENT_TYPES):
                return Confidence.HIGH
            name = func.value.id if isinstance(func.value, ast.Name) else ""
            if name in ("session", "client", "http", "s", "sess", "http_client"):
                return Confidence.MEDIUM
        return None


def _is_false(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
