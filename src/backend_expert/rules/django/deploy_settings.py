"""Settings a deployment must not ship with: the static twin of `manage.py check --deploy`."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.django_web import Deployment, Entry, web_model
from backend_expert.findings import Confidence, Severity
from backend_expert.index import _statements
from backend_expert.rules.base import Example, Explanation, Rule, visit

SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
# Settings a production module must turn on (Django's defaults are the insecure values).
PRODUCTION_FLAGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
)
THROWAWAY_WORDS = (
    "insecure",
    "dev",
    "test",
    "local",
    "dummy",
    "fake",
    "example",
    "change",
    "secret-key",
    "secret_key",
    "notsecret",
    "not-secret",
    "not_secret",
    "unsafe",
    "placeholder",
    "replace",
    "xxx",
    "sample",
    "default",
)


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


_NOT_LITERAL = object()


def _fallback_secret(text: str) -> str | None:
    """`os.environ.get("SECRET_KEY", "abc")`, `env("SECRET_KEY", default="abc")`: the default."""
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call) or not node.args:
        return None
    if not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return None
    default = node.args[1] if len(node.args) >= 2 else None
    default = next((k.value for k in node.keywords if k.arg == "default"), default)
    if isinstance(default, ast.Constant) and isinstance(default.value, str) and default.value:
        return default.value
    return None


def looks_throwaway(secret: str) -> bool:
    lowered = secret.lower()
    return (
        len(secret) < 20 or len(set(secret)) < 8 or any(word in lowered for word in THROWAWAY_WORDS)
    )


class DeploySettings(Rule):
    code = "BEX413"
    slug = "django-deploy-settings"
    pack = "django"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("django",)
    summary = "A settings module a deployment runs with is insecure (DEBUG, SECRET_KEY, hosts, middleware, HTTPS flags, CORS)"
    hint = (
        "Read DEBUG and SECRET_KEY from the environment, list the real host names, keep "
        "SecurityMiddleware and CsrfViewMiddleware, and turn on the HTTPS settings in production."
    )
    explanation = Explanation(
        what=(
            "Reads every settings module the way Django would load it (star imports such as "
            "`from .base import *` followed, later assignments, `+=` and `MIDDLEWARE.append()` "
            "applied) and reports what `manage.py check --deploy` would warn about, without "
            "running anything: `DEBUG = True` written as a literal; a literal `SECRET_KEY` (or "
            "an environment lookup that falls back to a literal key); `ALLOWED_HOSTS` containing "
            '`"*"`; a MIDDLEWARE list without `SecurityMiddleware`, or without '
            "`CsrfViewMiddleware` while sessions are on; `CORS_ALLOW_ALL_ORIGINS` together with "
            "`CORS_ALLOW_CREDENTIALS`; and, in a production settings module (named `prod`, "
            "`production`, `live`, `staging`...), `SESSION_COOKIE_SECURE`, `CSRF_COOKIE_SECURE`, "
            "`SECURE_SSL_REDIRECT` or `SECURE_HSTS_SECONDS` missing or turned off. A value is "
            "reported where it is written, and only when it is the one that takes effect: a "
            "`DEBUG = True` in `base.py` that `prod.py` overrides is not reported. Settings "
            "modules named for development or tests (`dev`, `local`, `test`, `ci`) get only the "
            "secret check, and only for a key that does not announce itself as a throwaway; "
            "values chosen under an `if`, read from the environment, or possibly replaced by an "
            "optional `local_settings` import are left alone."
        ),
        why=(
            "With DEBUG on, any error page shows settings, local variables and SQL to whoever "
            "triggered it. The secret key signs sessions, password-reset links and messages: "
            "whoever reads it from the repository can forge them. A wildcard host list lets a "
            "forged Host header poison password-reset emails and caches. Without "
            "SecurityMiddleware the HTTPS redirect, HSTS and nosniff settings do nothing, and "
            "without the CSRF middleware every form is open to cross-site requests. Cookies not "
            "marked secure are sent over plain HTTP on the first unencrypted request. A CORS "
            "configuration that allows every origin with credentials lets any web site call the "
            "API as the visitor."
        ),
        use_instead=(
            'Read secrets and switches from the environment (`SECRET_KEY = os.environ["SECRET_KEY"]`, '
            '`DEBUG = os.environ.get("DJANGO_DEBUG") == "1"`), keep development values in a '
            "`dev.py`, set `ALLOWED_HOSTS` to the real names, and in `prod.py` turn on "
            "`SESSION_COOKIE_SECURE`, `CSRF_COOKIE_SECURE`, `SECURE_SSL_REDIRECT` (or redirect at "
            "the proxy) and `SECURE_HSTS_SECONDS`. Run `manage.py check --deploy` in CI with the "
            "production settings."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/howto/deployment/checklist/",
            "https://docs.djangoproject.com/en/stable/ref/checks/#security",
            "https://github.com/adamchainz/django-cors-headers#cors_allow_credentials-bool",
        ),
    )
    fire = (
        Example(
            title="one settings.py with development values",
            dependencies=("django>=5.1",),
            code="""\
DEBUG = True  # flagged
SECRET_KEY = "k3#9xq!vz@7u$m2p&w8r^t5y*e1o(i4a)s6d_f0g+h=j-l%c"  # flagged
ALLOWED_HOSTS = ["*"]  # flagged
ROOT_URLCONF = "shop.urls"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.sessions"]
MIDDLEWARE = [  # flagged
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
""",
            fixed="""\
import os

DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
""",
        ),
        Example(
            title="base/dev/prod split: the production module inherits what base.py left insecure",
            dependencies=("django>=5.1",),
            files={
                "shop/__init__.py": "",
                "shop/settings/__init__.py": "",
                "shop/settings/base.py": """\
import os

SECRET_KEY = os.environ.get("SECRET_KEY", "7w!r2m@x9q#v$e5u&t8y^p1o*i4a(s6d)f0g")  # flagged
DEBUG = False
INSTALLED_APPS = ["django.contrib.sessions", "corsheaders"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
CORS_ALLOW_ALL_ORIGINS = True  # flagged
CORS_ALLOW_CREDENTIALS = True
""",
                "shop/settings/dev.py": """\
from .base import *

DEBUG = True
SECRET_KEY = "django-insecure-dev-only"
""",
                "shop/settings/prod.py": """\
from .base import *  # flagged

SESSION_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 0  # flagged
""",
            },
        ),
    )
    clean = (
        Example(
            title="values read from the environment",
            dependencies=("django>=5.1",),
            code="""\
import os

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
""",
        ),
        Example(
            title="development and test modules keep their literal values",
            dependencies=("django>=5.1",),
            files={
                "proj/__init__.py": "",
                "proj/settings/__init__.py": "",
                "proj/settings/base.py": """\
import os

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
INSTALLED_APPS = ["django.contrib.auth"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
""",
                "proj/settings/local.py": """\
from .base import *

DEBUG = True
SECRET_KEY = "django-insecure-only-for-my-laptop"
ALLOWED_HOSTS = ["*"]
""",
                "proj/settings/test.py": """\
from .base import *

SECRET_KEY = "k3#9xq!vz@7u$m2p&w8r^t5y*e1o(i4a)s6d_f0g+h=j-l%c"
""",
            },
        ),
        Example(
            title="a literal in base.py that every deployment overrides",
            dependencies=("django>=5.1",),
            files={
                "proj/__init__.py": "",
                "proj/settings/__init__.py": "",
                "proj/settings/base.py": """\
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.auth"]
""",
                "proj/settings/production.py": """\
import os

from .base import *

DEBUG = False
ALLOWED_HOSTS = ["shop.example.com"]
SECRET_KEY = os.environ["SECRET_KEY"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = 31536000
""",
            },
        ),
        Example(
            title="DEBUG chosen under a condition, and an optional local override",
            dependencies=("django>=5.1",),
            code="""\
import os

INSTALLED_APPS = ["django.contrib.auth"]
if os.environ.get("CI"):
    DEBUG = True
else:
    DEBUG = False

ALLOWED_HOSTS = ["*"]

try:
    from .local_settings import *
except ImportError:
    pass
""",
        ),
        Example(
            title="an API without sessions needs no CSRF middleware; CORS without credentials",
            dependencies=("django>=5.1",),
            code="""\
import os

SECRET_KEY = os.environ["SECRET_KEY"]
INSTALLED_APPS = ["rest_framework", "corsheaders"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
]
CORS_ALLOW_ALL_ORIGINS = True
""",
        ),
        Example(
            title="a configuration file read by the settings, not a settings module",
            dependencies=("django>=5.1",),
            files={
                "netbox/__init__.py": "",
                "netbox/configuration_example.py": """\
ALLOWED_HOSTS = ["*"]
DEBUG = True
SECRET_KEY = "k3#9xq!vz@7u$m2p&w8r^t5y*e1o(i4a)s6d_f0g+h=j-l%c"
""",
            },
        ),
    )

    @visit(ast.Module)
    def check_module(self, node: ast.Module, ctx: FileContext) -> None:
        if ctx.is_test:
            return
        model = web_model(ctx.project)
        if ctx.module not in model.settings:
            return
        audiences = model.audiences(ctx.module)
        if not audiences:
            return
        statements = {stmt.lineno: stmt for stmt in _statements(node.body)}
        reported: set[tuple[int, str]] = set()

        def report(entry: Entry | None, key: str, message: str, confidence: Confidence) -> None:
            line = entry.op.line if entry is not None else 0
            if (line, key) in reported:
                return
            reported.add((line, key))
            target = statements.get(line, node) if entry is not None else _first_line(node)
            ctx.report(target, message, confidence=confidence)

        for deployment in audiences:
            self._check(deployment, ctx, model, report)

    def _check(self, deployment: Deployment, ctx: FileContext, model, report) -> None:
        here = ctx.module
        via = "" if deployment.module == here else f" (through `{deployment.module}`)"
        prod = deployment.kind == "prod"
        strong = Confidence.HIGH if prod else Confidence.MEDIUM

        def final(name: str) -> Entry | None:
            """The assignment of `name` in this file that takes effect, unconditionally."""
            base, later, uncertain = deployment.history(name)
            if base is None or later or uncertain or base.module != here:
                return None
            return base

        # SECRET_KEY: the only check development modules get.
        entry = final("SECRET_KEY")
        if entry is not None and deployment.kind != "test":
            value = _literal(entry.op.text)
            if isinstance(value, str) and value:
                if deployment.full:
                    report(
                        entry,
                        "secret",
                        f"SECRET_KEY is written in the source of a settings module a deployment "
                        f"uses{via}: whoever can read the repository can sign sessions and "
                        "password-reset links. Read it from the environment or a secrets store.",
                        Confidence.HIGH,
                    )
                elif not looks_throwaway(value):
                    report(
                        entry,
                        "secret",
                        "This development settings module holds a SECRET_KEY that looks real; "
                        "if it was ever used outside a laptop, rotate it, and keep real keys out "
                        "of the repository.",
                        Confidence.MEDIUM,
                    )
            elif deployment.full and (fallback := _fallback_secret(entry.op.text)):
                report(
                    entry,
                    "secret",
                    f"SECRET_KEY falls back to a key written in the source ({fallback[:12]!r}...) "
                    f"when the environment variable is missing{via}: a deployment that forgets "
                    "the variable runs with a public key. Fail instead of falling back.",
                    Confidence.MEDIUM,
                )
        if not deployment.full:
            return
        entry = final("DEBUG")
        if entry is not None and entry.op.text == "True":
            report(
                entry,
                "debug",
                f"DEBUG is hard-coded to True in settings a deployment runs with{via}: error pages "
                "would show settings, local variables and SQL to anyone. Read it from the "
                "environment and keep True in a development module.",
                strong,
            )
        entry = final("ALLOWED_HOSTS")
        if entry is not None:
            hosts = _literal(entry.op.text)
            if isinstance(hosts, (list, tuple)) and "*" in hosts:
                report(
                    entry,
                    "hosts",
                    f'ALLOWED_HOSTS accepts any host ("*"){via}: forged Host headers reach the '
                    "application and end up in password-reset links and cache keys. List the "
                    "real domain names.",
                    strong,
                )
        base, items = model.middleware(deployment)
        if base is not None and items is not None and base.module == here:
            if SECURITY_MIDDLEWARE not in items:
                report(
                    base,
                    "security-mw",
                    f"MIDDLEWARE has no SecurityMiddleware{via}: SECURE_SSL_REDIRECT, HSTS and "
                    "the nosniff/referrer headers do nothing without it. Put "
                    f'"{SECURITY_MIDDLEWARE}" first.',
                    strong,
                )
            if CSRF_MIDDLEWARE not in items and SESSION_MIDDLEWARE in items:
                report(
                    base,
                    "csrf-mw",
                    f"MIDDLEWARE uses sessions but has no CsrfViewMiddleware{via}: every form and "
                    "POST endpoint can be submitted from another site with the visitor's "
                    f'cookies. Add "{CSRF_MIDDLEWARE}".',
                    Confidence.HIGH,
                )
        allow_all = final("CORS_ALLOW_ALL_ORIGINS") or final("CORS_ORIGIN_ALLOW_ALL")
        credentials, later, uncertain = deployment.history("CORS_ALLOW_CREDENTIALS")
        if (
            allow_all is not None
            and allow_all.op.text == "True"
            and credentials is not None
            and credentials.op.text == "True"
            and not later
            and not uncertain
        ):
            report(
                allow_all,
                "cors",
                f"CORS allows every origin together with credentials{via}: django-cors-headers "
                "then echoes any Origin, so any web site can call the API with the visitor's "
                "cookies. List the trusted origins in CORS_ALLOWED_ORIGINS.",
                Confidence.HIGH,
            )
        if not prod:
            return
        missing = []
        for name in PRODUCTION_FLAGS:
            base, later, uncertain = deployment.history(name)
            if base is None and not later:
                missing.append(name)
            elif (
                base is not None
                and not later
                and not uncertain
                and base.module == here
                and _literal(base.op.text) in (False, 0, None)
            ):
                report(
                    base,
                    name,
                    f"{name} is turned off in a production settings module{via}. "
                    + _WHY_FLAG[name],
                    Confidence.HIGH,
                )
        if missing and deployment.module == here and not deployment.unknown_overrides():
            names = ", ".join(missing)
            why = " ".join(_WHY_FLAG[name].replace(" then", "") for name in missing)
            report(
                None,
                "missing",
                f"This production settings module never sets {names} (Django leaves "
                f"{'them' if len(missing) > 1 else 'it'} off). {why} Turn "
                f"{'them' if len(missing) > 1 else 'it'} on here.",
                Confidence.MEDIUM,
            )


_WHY_FLAG = {
    "SESSION_COOKIE_SECURE": "The session cookie is then sent over plain HTTP, where it can be stolen.",
    "CSRF_COOKIE_SECURE": "The CSRF cookie is then sent over plain HTTP.",
    "SECURE_SSL_REDIRECT": "Plain-HTTP requests are then served instead of redirected (unless the proxy redirects).",
    "SECURE_HSTS_SECONDS": "Browsers are then not told to refuse plain HTTP for this site.",
}


def _first_line(module: ast.Module) -> ast.AST:
    """Where a finding about the whole module is shown: its first star import (what it
    builds on), else its first statement."""
    for stmt in module.body:
        if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
            return stmt
    return module.body[0] if module.body else module
