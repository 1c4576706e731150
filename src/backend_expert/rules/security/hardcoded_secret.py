"""A secret key, password or token written into the source as a literal."""

from __future__ import annotations

import ast
import functools
import re

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.index import dotted
from backend_expert.rules.base import Example, Explanation, Rule, visit, visit_call
from backend_expert.security_support import is_dev_path, word_set, words

# Names whose value signs or unlocks something (after splitting into lower-case words).
STRONG = frozenset({"secret", "secrets", "jwt"})
STRONG_OR_PASSWORD = STRONG | {"password", "passwd", "pwd", "passphrase"}
SECRET_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "passphrase", "token", "apikey", "credentials"}
)
KEY_QUALIFIERS = frozenset({"api", "secret", "private", "access", "signing", "encryption", "jwt"})
# Words that make the name describe a secret (its field, URL, length...) rather than hold one.
NOT_A_VALUE = word_set(
    """url uri urls endpoint header headers field fields name names path file filename prefix
    suffix type types pattern regex re env var variable param params hint label message msg
    cookie expire expires expiry expiration lifetime ttl algorithm algorithms alg length len min
    max id ids reset validator validators hasher hashers backend backends class template format
    mode policy timeout age count scope scopes kind location store storage source description help
    placeholder title text error errors route view setting settings attr attribute column col
    table model form widget input required enabled version session lookup method methods
    delimiter separator char chars characters display verbose charset alphabet censor changed
    code codes fmt salt"""
)
PLACEHOLDER = re.compile(
    r"^(?:<.*>|\{.*\}|\$\{?\w+\}?|%\(?\w*\)?s|\*+|x+|\.+|-+|none|null|todo|fixme|dummy|"
    r"your[-_ ].*|.*[-_ ]here|test.*|fake.*|example.*|sample.*|placeholder|redacted|hidden|"
    r"secret|password|token|changeme|dummy.*|.*dummy)$",
    re.IGNORECASE,
)
ENV_CALLS = frozenset({"os.getenv", "os.environ.get", "environ.get"})


@functools.lru_cache(maxsize=4096)  # asked of every assignment target of a project
def secret_name(name: str) -> bool:
    """`SECRET_KEY`, `db_password`, `GITHUB_TOKEN`, `stripeApiKey`; not `PASSWORD_FIELD`."""
    parts = words(name)
    if not parts or NOT_A_VALUE.intersection(parts):
        return False
    if SECRET_WORDS.intersection(parts):
        return True
    return "key" in parts and bool(KEY_QUALIFIERS.intersection(parts))


def looks_secret(value: object, name: str) -> bool:
    """A literal that could be a real secret: not empty, not a placeholder or a sentence."""
    if not isinstance(value, str | bytes):
        return False
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    text = text.strip()
    if len(text) < 6 or " " in text or PLACEHOLDER.match(text):
        return False
    if text.startswith(("http://", "https://", "/", "./", "sha256$", "pbkdf2_", "argon2")):
        return False
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", text):
        return False  # the name of an environment variable or a setting
    if "{" in text or (":" in text and re.fullmatch(r"[a-z0-9_.:-]+", text)):
        return False  # a template or a namespaced identifier (`cache:token:{id}`)
    if re.fullmatch(r"[a-z]+(?:[_.][a-z]+)+", text):
        return False  # `"google_tokens"`, `"ca.crt"`: the name of a key, a field, a file
    if set(words(text)) <= set(words(name)):
        return False  # `INVALID_TOKEN = "invalid_token"`: a code, not a secret
    if set(words(name)) & STRONG_OR_PASSWORD:
        return True
    # tokens, API keys, credentials: only values that look generated
    has_digit = any(c.isdigit() for c in text)
    return len(text) >= 20 or (has_digit and any(c.isalpha() for c in text))


class HardcodedSecret(Rule):
    code = "BEX702"
    slug = "hardcoded-secret"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 798
    security_severity = 7.5
    skip_tests = True
    summary = "A secret key, password or token written in the source as a literal"
    hint = "Read the secret from the environment or a secret store at start-up, with no default."
    explanation = Explanation(
        what=(
            "Flags string literals assigned to names that hold secrets (`SECRET_KEY`, "
            "`JWT_SECRET`, `*_PASSWORD`, `*_TOKEN`, `api_key`, `private_key`...), to "
            "`app.secret_key`, to `app.config[...]` keys of that kind, and literal fallbacks of "
            'environment lookups (`os.getenv("SECRET_KEY", "...")`). Not flagged: tests '
            "and modules for development (`settings/dev.py`, `local_settings.py`, examples, "
            'docs), empty strings and placeholders (`"<your-key>"`, `"changeme"`, '
            '`"xxx"`), sentences, URLs, names of environment variables, already-hashed '
            "passwords, and names that describe a secret rather than hold one "
            "(`PASSWORD_FIELD`, `TOKEN_URL`, `SECRET_KEY_LENGTH`) or whose value names a "
            'key or a file (`"google_tokens"`, `"ca.crt"`), and enum members. Tokens and '
            "API keys count only when the value looks generated (digits and letters, or long). "
            "Defaults of pydantic-settings fields and environment fallbacks are medium "
            "confidence."
        ),
        why=(
            "A secret in the source is in every clone, every fork, every CI log and every image "
            "layer, and stays in the Git history after it is removed. Django's `SECRET_KEY` or a "
            "JWT signing key in the repository lets anyone forge sessions, password-reset links "
            "and tokens for any user; a database password or API token opens the service itself. "
            "A literal fallback of an environment lookup ends up in production the day the "
            "variable is missing."
        ),
        use_instead=(
            'Read secrets from the environment (`os.environ["SECRET_KEY"]`, pydantic-settings, '
            "django-environ) or a secret manager, fail at start-up when they are missing, and "
            "rotate any secret that was committed."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/settings/#secret-key",
            "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html",
            "https://cwe.mitre.org/data/definitions/798.html",
        ),
    )
    fire = (
        Example(
            title="Django settings and a Flask app with literal secrets",
            code="""\
import os

from flask import Flask

SECRET_KEY = "django-insecure-7f#k2l!x9q@w3e$r5t^y"  # flagged
STRIPE_API_KEY = "sk_live_51HxQ2bKz8Jd93kLmN0pQ"  # flagged
DATABASE_PASSWORD = os.getenv("DATABASE_PASSWORD", "s3cr3t-pa55")  # flagged

app = Flask(__name__)
app.secret_key = "b8f4e2a1c9d7"  # flagged
app.config["JWT_SECRET_KEY"] = "super-secret-jwt-key"  # flagged
""",
            fixed="""\
import os

from flask import Flask

SECRET_KEY = os.environ["SECRET_KEY"]
STRIPE_API_KEY = os.environ["STRIPE_API_KEY"]
DATABASE_PASSWORD = os.environ["DATABASE_PASSWORD"]

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
app.config["JWT_SECRET_KEY"] = os.environ["JWT_SECRET_KEY"]
""",
        ),
        Example(
            title="a settings class with a literal token",
            code="""\
class Settings:
    github_token: str = "ghp_1a2b3c4d5e6f7g8h9i0j"  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="environment lookups, placeholders and names that describe secrets",
            code="""\
import os

SECRET_KEY = os.environ["SECRET_KEY"]
API_TOKEN = os.getenv("API_TOKEN")
EMAIL_PASSWORD = ""
AWS_SECRET_ACCESS_KEY = "<your-secret-key>"
PASSWORD_RESET_TIMEOUT = 3600
TOKEN_URL = "https://auth.example.com/oauth/token"
SECRET_KEY_ENV = "DJANGO_SECRET_KEY"
PASSWORD_HELP = "Use at least 12 characters."
AUTH_TOKEN_HEADER = "X-Auth-Token"
""",
        ),
        Example(
            title="development settings",
            files={"config/settings/dev.py": 'SECRET_KEY = "dev-only-not-secret-1234"\n'},
        ),
    )

    @visit(ast.Assign, ast.AnnAssign)
    def check_assign(self, node: ast.Assign | ast.AnnAssign, ctx: FileContext) -> None:
        if node.value is None or ctx.enclosing_function() is not None:
            return
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        name = next(
            (n for t in targets if (n := _target_name(t)) is not None and secret_name(n)), None
        )
        if name is None or is_dev_path(ctx.path):
            return
        klass = ctx.enclosing_class()
        bases = {(dotted(b) or "").rpartition(".")[2] for b in klass.bases} if klass else set()
        if any(base.endswith(("Enum", "Choices")) for base in bases):
            return  # enum members name kinds of secrets, they do not hold them
        self._check_value(node.value, name, node, ctx)

    @visit_call("update")
    def check_config_update(self, node: ast.Call, ctx: FileContext) -> None:
        """`app.config.update(SECRET_KEY="...")`."""
        func = node.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "update"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "config"
        ):
            return
        if is_dev_path(ctx.path):
            return
        for keyword in node.keywords:
            if keyword.arg and secret_name(keyword.arg):
                self._check_value(keyword.value, keyword.arg, keyword.value, ctx)

    def _check_value(self, value: ast.AST, name: str, node: ast.AST, ctx: FileContext) -> None:
        klass = ctx.enclosing_class()
        # a field of a pydantic-settings class: a default the environment overrides
        fallback = klass is not None and any(
            (dotted(b) or "").endswith("Settings") for b in klass.bases
        )
        if isinstance(value, ast.Call) and ctx.qualname(value.func) in ENV_CALLS:
            if len(value.args) < 2:
                return
            value, fallback = value.args[1], True
        if not isinstance(value, ast.Constant) or not looks_secret(value.value, name):
            return
        strong = bool(STRONG.intersection(words(name))) or name.lower() == "secret_key"
        confidence = Confidence.HIGH if strong and not fallback else Confidence.MEDIUM
        what = "a literal fallback for" if fallback else "a literal value for"
        message = (
            f"`{name}` has {what} a secret in the source: anyone with the code (or its Git "
            "history) has it. Read it from the environment or a secret store with no default, "
            "and rotate the committed value."
        )
        ctx.report(node, message, confidence=confidence)


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript):
        key = target.slice
        holder = target.value
        if (
            isinstance(key, ast.Constant)
            and isinstance(key.value, str)
            and isinstance(holder, ast.Attribute)
            and holder.attr in ("config", "settings", "environ")
        ):
            return key.value
    return None
