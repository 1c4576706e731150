"""A secret, token or signature compared with `==`, which leaks timing."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import Kind, taint_of
from backend_expert.edits import node_text, replace_node
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.fix_imports import ImportConflict, add_import
from backend_expert.rules.base import Example, Explanation, Rule, visit
from backend_expert.security_support import last_name, word_set, words

SECRET_WORDS = word_set(
    """token signature sig digest hexdigest hmac mac secret apikey otp nonce csrf passcode"""
)
# Words that make a name describe a token (its type, its length...) rather than hold it.
NOT_A_SECRET = word_set(
    """type kind name length len count id ids expires expiry expiration at scope scopes url
    header headers field version status format alg algorithm prefix"""
)


def secret_like(node: ast.AST) -> str | None:
    """The name when `node` reads as a secret value (`signature`, `token`, `x.hexdigest()`)."""
    name = last_name(node)
    parts = words(name)
    if not parts or parts[-1] in NOT_A_SECRET or NOT_A_SECRET.intersection(parts):
        return None
    if SECRET_WORDS.intersection(parts) or (parts[-1] == "key" and "api" in parts):
        return name
    return None


MAC_WORDS = frozenset({"signature", "sig", "digest", "hexdigest", "hmac", "mac"})
COMPUTED = frozenset({"expected", "computed", "calculated", "valid", "correct", "actual"})


def computed_mac(node: ast.AST, ctx: FileContext) -> bool:
    """`hmac.new(...).hexdigest()`, `expected_signature`: a MAC this code computed."""
    function = ctx.enclosing_function()
    if isinstance(node, ast.Name) and function is not None:
        values = ctx.scope(function).values(node.id)
        if len(values) == 1 and isinstance(values[0], ast.Call):
            node = values[0]
    if isinstance(node, ast.Call) and last_name(node) in ("hexdigest", "digest"):
        return True
    parts = words(last_name(node))
    return bool(COMPUTED.intersection(parts)) and bool(MAC_WORDS.intersection(parts))


def _model_column(node: ast.AST) -> bool:
    """`User.api_token`, `models.Token.hash`: a column in a query expression, not a value."""
    if not isinstance(node, ast.Attribute):
        return False
    owner = node.value
    name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
    return name[:1].isupper()


LOOKUPS = frozenset({"get", "filter", "filter_by", "where", "exists", "first"})


def _looked_up_before(node: ast.AST, ctx: FileContext) -> bool:
    """The value was already matched by a database lookup (`Project.objects.for_api_key(key)`,
    `.filter(token=key)`) earlier in the function: comparing it afterwards, to tell which of
    the matching columns it was, reveals nothing the lookup did not."""
    function = ctx.enclosing_function()
    if not isinstance(node, ast.Name) or function is None:
        return False
    for candidate in ctx.own_nodes(function):
        if not isinstance(candidate, ast.Call) or candidate.lineno >= node.lineno:
            continue
        chain = ast.unparse(candidate.func)
        if ".objects" not in chain and last_name(candidate) not in LOOKUPS:
            continue
        values = [*candidate.args, *(keyword.value for keyword in candidate.keywords)]
        if any(
            isinstance(sub, ast.Name) and sub.id == node.id for v in values for sub in ast.walk(v)
        ):
            return True
    return False


def _constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Call) and last_name(node) in ("len", "int", "bool", "type")
    )


class InsecureCompare(Rule):
    code = "BEX712"
    slug = "insecure-compare"
    pack = "security"
    severity = Severity.WARNING
    category = "security"
    cwe = 208
    security_severity = 5.9
    skip_tests = True
    fix_applicability = Applicability.UNSAFE
    summary = "A secret, token or signature compared with `==` instead of a constant-time compare"
    hint = "Compare secrets with `hmac.compare_digest(a, b)` (or `secrets.compare_digest`)."
    explanation = Explanation(
        what=(
            "Flags `==` and `!=` between a value named like a secret (`token`, `signature`, "
            "`digest`, `hexdigest()`, `api_key`, `otp`, `csrf`...) and a value from the "
            "request (high confidence), or between such a value and a MAC the code computed "
            "(medium: `expected_signature == signature`, `mac.hexdigest() == token`). Comparisons with constants, `None`, "
            "lengths, and names that describe a token (`token_type`, `signature_version`) "
            "are not flagged; `hmac.compare_digest()` and `secrets.compare_digest()` are the "
            "fix."
        ),
        why=(
            "`==` on strings stops at the first differing character, so an answer comes back "
            "slightly sooner the fewer leading characters match. Measured over many requests, "
            "that difference lets an attacker recover a webhook signature or an API key one "
            "character at a time. `compare_digest` takes the same time whatever the input."
        ),
        use_instead="`hmac.compare_digest(expected, received)`; both sides str or both bytes.",
        fix_safety=(
            "The fix is unsafe: `compare_digest` raises `TypeError` on `None` or on a str "
            "compared with bytes, where `==` returned False, and non-ASCII str are rejected."
        ),
        references=(
            "https://docs.python.org/3/library/hmac.html#hmac.compare_digest",
            "https://cwe.mitre.org/data/definitions/208.html",
        ),
    )
    fire = (
        Example(
            title="a webhook signature checked with `==` (unsafe fix)",
            code="""\
import hashlib
import hmac

from flask import Flask, abort, request

app = Flask(__name__)
SECRET = b"from-the-vault"


@app.route("/webhook", methods=["POST"])
def webhook():
    expected = hmac.new(SECRET, request.data, hashlib.sha256).hexdigest()
    if request.headers.get("X-Signature") != expected:  # flagged
        abort(403)
    return "ok"


def verify(payload, signature):
    expected_signature = hmac.new(SECRET, payload, hashlib.sha256).hexdigest()
    return expected_signature == signature  # flagged
""",
            fixed="""\
import hashlib
import hmac

from flask import Flask, abort, request

app = Flask(__name__)
SECRET = b"from-the-vault"


@app.route("/webhook", methods=["POST"])
def webhook():
    expected = hmac.new(SECRET, request.data, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(request.headers.get("X-Signature"), expected):
        abort(403)
    return "ok"


def verify(payload, signature):
    expected_signature = hmac.new(SECRET, payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected_signature, signature)
""",
        ),
    )
    clean = (
        Example(
            title="`compare_digest`, constants, None and token metadata",
            code="""\
import hmac


def check(token, expected_token, header):
    if token is None or token == "":
        return False
    if header.token_type == "Bearer" and len(token) == 40:
        return hmac.compare_digest(token, expected_token)
    return False
""",
        ),
        Example(
            title="two digests this code computed: a cache check, not a secret",
            code="""\
def unchanged(facts, old):
    return facts.digest() == old.digest()
""",
        ),
        Example(
            title="the key was already matched by the database lookup",
            code="""\
from django.http import HttpResponseForbidden

from .models import Project


def authorize(request):
    api_key = request.headers["X-Api-Key"]
    project = Project.objects.for_api_key(api_key)
    read_only = api_key == project.api_key_readonly
    if read_only and request.method != "GET":
        return HttpResponseForbidden()
    return None
""",
        ),
    )

    @visit(ast.Compare)
    def check_compare(self, node: ast.Compare, ctx: FileContext) -> None:
        if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
            return
        left, right = node.left, node.comparators[0]
        if _constant(left) or _constant(right) or _model_column(left) or _model_column(right):
            return
        secrets = [secret_like(left), secret_like(right)]
        macs = [computed_mac(left, ctx), computed_mac(right, ctx)]
        if (not any(secrets) and not any(macs)) or all(macs):
            return  # no secret here, or two values this code computed (cache digests...)
        sources = [taint_of(side, ctx).kind for side in (left, right)]
        if sources == [Kind.REQUEST, Kind.REQUEST]:
            return  # both sides come from the client (double-submit CSRF): nothing to learn
        if Kind.REQUEST in sources:
            requested = left if sources[0] is Kind.REQUEST else right
            if _looked_up_before(requested, ctx):
                return
            confidence = Confidence.HIGH
        elif any(secrets) and any(macs):
            confidence = Confidence.MEDIUM
        else:
            return
        name = next((s for s in secrets if s), None) or last_name(left if macs[0] else right)
        fix = self._fix(node, left, right, ctx)
        ctx.report(
            node,
            f"`{name}` is compared with `{'==' if isinstance(node.ops[0], ast.Eq) else '!='}`, "
            "which returns sooner the fewer leading characters match: timing reveals the "
            "secret bit by bit. Use `hmac.compare_digest()`.",
            confidence=confidence,
            fix=fix,
        )

    @staticmethod
    def _fix(node: ast.Compare, left: ast.AST, right: ast.AST, ctx: FileContext) -> Fix | None:
        call = f"hmac.compare_digest({node_text(ctx, left)}, {node_text(ctx, right)})"
        if isinstance(node.ops[0], ast.NotEq):
            call = f"not {call}"
        parent = ctx.parent()
        if isinstance(parent, ast.BoolOp | ast.UnaryOp | ast.BinOp | ast.Compare):
            call = f"({call})"
        edits = [replace_node(ctx, node, call)]
        try:
            added = add_import(ctx.source, "hmac")
        except ImportConflict:  # `hmac` means something else here: no fix
            return None
        if added is not None:
            edits.insert(0, added)
        return Fix("Use `hmac.compare_digest()`", tuple(edits), Applicability.UNSAFE)
