"""A password hashed with a fast general-purpose digest (MD5, SHA-1, SHA-2)."""

from __future__ import annotations

import ast
import re

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.security_support import word_set

FAST_HASHES = word_set("""md5 sha1 sha224 sha256 sha384 sha512 sha3_256 sha3_512 blake2b blake2s""")
PASSWORD = re.compile(r"(?:^|_)(?:password|passwd|pwd|passphrase|pass)(?:_|$)", re.IGNORECASE)
NOT_PASSWORD = re.compile(r"hash|digest|reset|length|policy|field|token|url|salt", re.IGNORECASE)


def _password_name(node: ast.AST) -> str | None:
    """The first password-named value inside `node` (`password`, `user.raw_password`...)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            name = child.id
        elif isinstance(child, ast.Attribute):
            name = child.attr
        elif isinstance(child, ast.Subscript) and isinstance(child.slice, ast.Constant):
            name = str(child.slice.value)
        else:
            continue
        if PASSWORD.search(name) and not NOT_PASSWORD.search(name):
            return name
    return None


class WeakPasswordHash(Rule):
    code = "BEX704"
    slug = "weak-password-hash"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 916
    security_severity = 7.5
    skip_tests = True
    summary = "A password hashed with MD5, SHA-1 or SHA-2 instead of a password hashing function"
    hint = (
        "Hash passwords with argon2 or bcrypt (pwdlib, passlib, argon2-cffi) or Django's "
        "`make_password()`."
    )
    explanation = Explanation(
        what=(
            "Flags `hashlib.md5/sha1/sha256/sha512/...()` (and `hashlib.new(name, ...)`, and "
            "`.update()` of such a hash object) when the data hashed is a value named like a "
            "password (`password`, `raw_password`, `user.passwd`, `data['password']`). Names "
            "such as `password_hash`, `reset_token` or `password_length` do not count, nor do "
            "classes named `*Hasher` (compatibility hashers that read legacy hashes)."
        ),
        why=(
            "General-purpose digests are built to be fast: a single GPU tries billions of "
            "SHA-256 guesses a second, so a leaked table of such hashes gives up most passwords "
            "in hours, salted or not. Password hashing functions (argon2, bcrypt, scrypt, "
            "PBKDF2 with many iterations) are slow and memory-hard on purpose and store their "
            "salt and cost with the hash."
        ),
        use_instead=(
            "`argon2-cffi`'s `PasswordHasher`, `pwdlib` or `passlib` with argon2/bcrypt, "
            "Django's `make_password()`/`check_password()`; for keys derived from passwords, "
            "`hashlib.scrypt()` or `hashlib.pbkdf2_hmac()` with a high iteration count."
        ),
        references=(
            "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html",
            "https://docs.djangoproject.com/en/stable/topics/auth/passwords/",
            "https://cwe.mitre.org/data/definitions/916.html",
        ),
    )
    fire = (
        Example(
            title="SHA-256 and MD5 over a password",
            code="""\
import hashlib


def store(user, password, salt):
    user.password_hash = hashlib.sha256((salt + password).encode()).hexdigest()  # flagged


def legacy_check(user, form):
    digest = hashlib.md5()
    digest.update(form["password"].encode())  # flagged
    return digest.hexdigest() == user.password_hash
""",
            fixed="""\
from pwdlib import PasswordHash

password_hash = PasswordHash.recommended()


def store(user, password):
    user.password_hash = password_hash.hash(password)


def legacy_check(user, form):
    return password_hash.verify(form["password"], user.password_hash)
""",
        ),
    )
    clean = (
        Example(
            title="digests of files and tokens, and a real password hash",
            code="""\
import hashlib

from django.contrib.auth.hashers import make_password


def fingerprint(content, reset_token):
    checksum = hashlib.sha256(content).hexdigest()
    token_digest = hashlib.sha256(reset_token.encode()).hexdigest()
    return checksum, token_digest


def store(user, password):
    user.password = make_password(password)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), b"salt", 600_000)
    return key
""",
        ),
    )

    @visit_call(FAST_HASHES, "new", "update")
    def check_hash(self, node: ast.Call, ctx: FileContext) -> None:
        klass = ctx.enclosing_class()
        if klass is not None and "Hasher" in klass.name:
            return  # a hasher for legacy hashes imported from another system, on purpose
        qualified = ctx.qualname(node.func) or ""
        module, _, name = qualified.rpartition(".")
        data: list[ast.AST] = []
        if module == "hashlib" and name in FAST_HASHES:
            data = list(node.args[:1]) + [kw.value for kw in node.keywords if kw.arg == "data"]
            algorithm = name
        elif qualified == "hashlib.new" and len(node.args) >= 2:
            data, algorithm = [node.args[1]], "hashlib.new"
        elif (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "update"
            and node.args
            and (algorithm := self._hash_object(node.func.value, ctx)) is not None
        ):
            data = [node.args[0]]
        else:
            return
        for value in data:
            found = _password_name(value)
            if found is not None:
                message = (
                    f"`{found}` is hashed with {algorithm}, a fast digest: a leaked hash is "
                    "cracked by brute force in hours. Use argon2 or bcrypt (pwdlib, passlib) "
                    "or Django's `make_password()`."
                )
                ctx.report(node, message, confidence=Confidence.HIGH)
                return

    @staticmethod
    def _hash_object(receiver: ast.AST, ctx: FileContext) -> str | None:
        """`digest` in `digest = hashlib.md5(); digest.update(...)` -> "md5"."""
        function = ctx.enclosing_function()
        if not isinstance(receiver, ast.Name) or function is None:
            return None
        for value in ctx.scope(function).values(receiver.id):
            if isinstance(value, ast.Call):
                qualified = ctx.qualname(value.func) or ""
                module, _, name = qualified.rpartition(".")
                if module == "hashlib" and name in FAST_HASHES:
                    return name
        return None
