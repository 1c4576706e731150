"""Tokens, passwords and codes drawn from `random`, which is predictable."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.security_support import is_dev_path, word_set, words

RANDOM_FUNCTIONS = word_set(
    """random randint randrange choice choices sample getrandbits shuffle uniform randbytes"""
)
SECRET_WORDS = word_set(
    """token tokens password passwd pwd secret otp nonce salt apikey passcode pin csrf session
    sessionid"""
)
CODE_QUALIFIERS = word_set(
    """verification verify reset otp auth confirm confirmation activation invite invitation
    login security recovery sms email"""
)
NOT_SECRET = frozenset({"type", "length", "len", "count", "name", "expiry", "url", "field"})


def _secret_name(name: str) -> bool:
    """`token`, `reset_code`, `generate_api_key`, `make_password`, `otp`."""
    parts = words(name)
    if not parts or NOT_SECRET.intersection(parts):
        return False
    if SECRET_WORDS.intersection(parts):
        return True
    if "key" in parts and {"api", "secret", "access", "private", "signing"} & set(parts):
        return True
    return "code" in parts and bool(CODE_QUALIFIERS.intersection(parts))


class InsecureRandom(Rule):
    code = "BEX713"
    slug = "insecure-random"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 338
    security_severity = 7.5
    skip_tests = True
    summary = "A token, password or code generated with `random` instead of `secrets`"
    hint = "Use `secrets.token_urlsafe()`, `secrets.token_hex()` or `secrets.choice()`."
    explanation = Explanation(
        what=(
            "Flags calls to the `random` module (`random.choice()`, `randint()`, "
            "`choices()`, `getrandbits()`...) whose result is stored in, returned by or passed "
            "as something named like a secret: a token, password, OTP, PIN, nonce, salt, API "
            "key, session id or a verification/reset code. Random values for other uses "
            "(sampling, jitter, test data, colours) and `random.SystemRandom()` are not "
            "flagged, nor are tests, factories and fixtures."
        ),
        why=(
            "`random` is a Mersenne Twister: fast and statistically good, but fully "
            "predictable. After observing about 624 outputs (or guessing the seed), an "
            "attacker computes every past and future value, so password-reset tokens, OTPs "
            "and invitation codes made with it can be forged."
        ),
        use_instead=(
            "The `secrets` module: `secrets.token_urlsafe(32)` for tokens, "
            '`secrets.choice(alphabet)` in a loop for passwords, `f"{secrets.randbelow(10**6):06d}"` '
            "for a six-digit code."
        ),
        references=(
            "https://docs.python.org/3/library/secrets.html",
            "https://docs.python.org/3/library/random.html",
            "https://cwe.mitre.org/data/definitions/338.html",
        ),
    )
    fire = (
        Example(
            title="a reset token and a one-time code from `random`",
            code="""\
import random
import string


def create_reset_token(user):
    token = "".join(random.choices(string.ascii_letters + string.digits, k=32))  # flagged
    user.reset_token = token


def generate_otp():
    return str(random.randint(100000, 999999))  # flagged
""",
            fixed="""\
import secrets


def create_reset_token(user):
    user.reset_token = secrets.token_urlsafe(32)


def generate_otp():
    return f"{secrets.randbelow(10**6):06d}"
""",
        ),
    )
    clean = (
        Example(
            title="`secrets`, and `random` for things that are not secrets",
            code="""\
import random
import secrets


def new_token():
    return secrets.token_urlsafe(32)


def backoff(attempt):
    delay = random.uniform(0, 2**attempt)
    colour = random.choice(["red", "green"])
    return delay, colour


def make_password():
    rng = random.SystemRandom()
    return "".join(rng.choice("abcdef0123456789") for _ in range(16))
""",
        ),
        Example(
            title="a test factory",
            files={
                "factories.py": """\
import random


def random_password():
    return str(random.randint(0, 10**8))
"""
            },
        ),
    )

    @visit_call(RANDOM_FUNCTIONS)
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        qualified = ctx.qualname(node.func) or ""
        module, _, name = qualified.rpartition(".")
        if module != "random" or name not in RANDOM_FUNCTIONS:
            return
        if is_dev_path(ctx.path) or _is_fixture_module(ctx.path):
            return
        target = self._target(ctx)
        if target is None:
            return
        what, confidence = target
        ctx.report(
            node,
            f"`random.{name}()` makes {what}; `random` is predictable once a few hundred "
            "outputs are seen, so the value can be guessed. Use the `secrets` module.",
            confidence=confidence,
        )

    @staticmethod
    def _target(ctx: FileContext) -> tuple[str, Confidence] | None:
        """What the random value ends up in, when that reads as a secret."""
        for parent in reversed(ctx.ancestors):
            if isinstance(parent, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                for target in targets:
                    name = getattr(target, "id", None) or getattr(target, "attr", None) or ""
                    if _secret_name(name):
                        return f"`{name}`", Confidence.HIGH
                return None
            if isinstance(parent, ast.keyword) and parent.arg and _secret_name(parent.arg):
                return f"`{parent.arg}=`", Confidence.HIGH
            if isinstance(parent, ast.Return):
                function = ctx.enclosing_function()
                label = getattr(function, "name", "")
                if label and _secret_name(label):
                    return f"the result of `{label}()`", Confidence.MEDIUM
                return None
            if isinstance(parent, ast.stmt):
                return None
        return None


def _is_fixture_module(path: str) -> bool:
    lowered = path.lower()
    return any(part in lowered for part in ("factor", "fixture", "seed", "fake", "mock"))
