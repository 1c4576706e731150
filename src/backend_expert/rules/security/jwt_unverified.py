"""`jwt.decode()` that does not check the signature, or lets the token pick its algorithm."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call

DECODERS = frozenset({"jwt.decode", "jwt.api_jwt.decode", "jose.jwt.decode", "jwt.PyJWT.decode"})
ENCODERS = frozenset({"jwt.encode", "jose.jwt.encode", "jwt.api_jwt.encode"})
VERIFY_OPTIONS = frozenset({"verify_signature"})


class JwtUnverified(Rule):
    code = "BEX703"
    slug = "jwt-unverified"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 347
    security_severity = 8.1
    skip_tests = True
    requires_text = ("jwt", "jose")  # the libraries it checks
    summary = "A JWT decoded without checking its signature, or with the algorithm left open"
    hint = 'Decode with the key and an explicit list of algorithms: `jwt.decode(token, key, algorithms=["HS256"])`.'
    explanation = Explanation(
        what=(
            "Flags `jwt.decode()` (PyJWT and python-jose) called with "
            '`options={"verify_signature": False}`, with `verify=False` (PyJWT 1), with '
            '`"none"` among the `algorithms`, or with no `algorithms=` at all. A function that '
            "peeks at an unverified token and then decodes it again with verification is not "
            "flagged for the peek; `jwt.get_unverified_header()` is not flagged. Tokens issued "
            'with `jwt.encode(..., algorithm="none")` are flagged too.'
        ),
        why=(
            "The claims of a token whose signature is not checked are whatever the client "
            "wrote: `sub`, `role` and `exp` can be set to any user, any role, any date. Without "
            "a fixed algorithm list, older libraries let the token's header choose: `none` "
            "skips the signature, and HS256 with the server's public RSA key as the HMAC secret "
            "forges tokens (algorithm confusion). PyJWT 2 refuses to decode without "
            "`algorithms=`, so the call is also a crash waiting for the upgrade."
        ),
        use_instead=(
            "Pass the key and the algorithms you issue: "
            '`jwt.decode(token, key, algorithms=["RS256"], audience=...)`. To read a claim '
            "before you know the key (the issuer, a key id), use `jwt.get_unverified_header()` "
            "or decode unverified only to choose the key, then decode again verified."
        ),
        references=(
            "https://pyjwt.readthedocs.io/en/stable/api.html#jwt.decode",
            "https://pyjwt.readthedocs.io/en/stable/algorithms.html",
            "https://cwe.mitre.org/data/definitions/347.html",
        ),
    )
    fire = (
        Example(
            title="signature check switched off, and no algorithm list",
            code="""\
import jwt

from .config import PUBLIC_KEY


def current_user_id(token):
    claims = jwt.decode(token, options={"verify_signature": False})  # flagged
    return claims["sub"]


def read(token):
    return jwt.decode(token, PUBLIC_KEY)  # flagged


def legacy(token):
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256", "none"])  # flagged


def issue(claims):
    return jwt.encode(claims, None, algorithm="none")  # flagged
""",
            fixed="""\
import jwt

from .config import PUBLIC_KEY


def current_user_id(token):
    claims = jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"])
    return claims["sub"]


def read(token):
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"])


def legacy(token):
    return jwt.decode(token, PUBLIC_KEY, algorithms=["RS256"])


def issue(claims, private_key):
    return jwt.encode(claims, private_key, algorithm="RS256")
""",
        ),
    )
    clean = (
        Example(
            title="verified decoding, and a peek followed by a verified decode",
            code="""\
import jwt

from .keys import key_for


def read(token, key):
    return jwt.decode(token, key, algorithms=["HS256"], audience="api")


def read_federated(token):
    issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
    return jwt.decode(token, key_for(issuer), algorithms=["RS256"])
""",
        ),
    )

    @visit_call(DECODERS, ENCODERS)
    def check_decode(self, node: ast.Call, ctx: FileContext) -> None:
        if ctx.qualname(node.func) in ENCODERS:
            algorithm = next((kw.value for kw in node.keywords if kw.arg == "algorithm"), None)
            if isinstance(algorithm, ast.Constant) and str(algorithm.value).lower() == "none":
                ctx.report(
                    node,
                    'This token is issued with `algorithm="none"`: it carries no signature, so '
                    "anyone can forge one like it. Sign with HS256/RS256 and a key.",
                )
            return
        if ctx.qualname(node.func) not in DECODERS:
            return
        if any(keyword.arg is None for keyword in node.keywords):
            return  # `**kwargs`: the options are chosen elsewhere
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        problem = self._problem(node, keywords, ctx)
        if problem is None:
            return
        message, confidence = problem
        ctx.report(node, message, confidence=confidence)

    def _problem(
        self, node: ast.Call, keywords: dict[str | None, ast.AST], ctx: FileContext
    ) -> tuple[str, Confidence] | None:
        unverified = _disables_verification(keywords.get("options"), ctx) or _is_false(
            keywords.get("verify")
        )
        if unverified:
            if _verified_again(node, ctx):
                return None
            return (
                "This token is decoded without checking its signature: every claim in it "
                "(`sub`, roles, `exp`) is whatever the client wrote. Decode with the key and "
                "`algorithms=[...]`.",
                Confidence.HIGH,
            )
        algorithms = keywords.get("algorithms")
        if algorithms is None and len(node.args) < 3:
            return (
                "`jwt.decode()` without `algorithms=` lets the token's header choose how it "
                "is checked (`none`, or HS256 keyed with a public key) in older versions, and "
                "fails in PyJWT 2. Pass the algorithms you issue, e.g. "
                '`algorithms=["HS256"]`.',
                Confidence.MEDIUM,
            )
        if isinstance(algorithms, ast.List | ast.Tuple | ast.Set) and any(
            isinstance(e, ast.Constant) and str(e.value).lower() == "none" for e in algorithms.elts
        ):
            return (
                'The algorithms accepted include `"none"`: a token with no signature at all '
                "passes. Remove it from the list.",
                Confidence.HIGH,
            )
        return None


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _disables_verification(options: ast.AST | None, ctx: FileContext) -> bool:
    if isinstance(options, ast.Name):
        function = ctx.enclosing_function()
        if function is not None:
            values = ctx.scope(function).values(options.id)
            options = values[-1] if len(values) == 1 else None
    if not isinstance(options, ast.Dict):
        return False
    return any(
        isinstance(key, ast.Constant) and key.value in VERIFY_OPTIONS and _is_false(value)
        for key, value in zip(options.keys, options.values, strict=True)
    )


def _verified_again(node: ast.Call, ctx: FileContext) -> bool:
    """Another `jwt.decode()` in the same function that checks the signature."""
    function = ctx.enclosing_function()
    if function is None:
        return False
    for other in ctx.own_nodes(function):
        if other is node or not isinstance(other, ast.Call):
            continue
        if ctx.qualname(other.func) not in DECODERS:
            continue
        keywords = {kw.arg: kw.value for kw in other.keywords}
        if "algorithms" in keywords and not _disables_verification(keywords.get("options"), ctx):
            return True
    return False
