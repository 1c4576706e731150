"""HTML marked safe or sent as a page after a value was pasted into it unescaped."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import (
    Kind,
    Source,
    route_framework,
    tainted_argument,
    text_of,
    worst,
)
from backend_expert.dataflow.util import _short
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, visit, visit_call
from backend_expert.security_support import TaintSinkRule

# Sinks that declare their text safe HTML (the rest are responses sent as text/html).
MARKERS = ("mark_safe", "Markup", "SafeString", "SafeText")


class CrossSiteScripting(TaintSinkRule):
    code = "BEX709"
    slug = "xss"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 79
    security_severity = 6.1
    skip_tests = True
    summary = "HTML marked safe or returned as a page with a value interpolated unescaped"
    hint = (
        "Let the template engine escape values, or build the HTML with `format_html()` / "
        '`Markup("...{}...").format(value)`, which escape each argument.'
    )
    explanation = Explanation(
        what=(
            "Flags `mark_safe()`, `SafeString()`, `Markup()` and responses sent as HTML "
            "(Django's `HttpResponse`, Starlette/FastAPI's `HTMLResponse`) whose text is "
            "request data, or is built with an f-string, `%`, `.format()`, `+` or `join` from "
            "values that are not constants. Request data gives high confidence; a helper's "
            "parameter interpolated into HTML marked safe gives low. "
            "Values bex cannot trace (a model field, a call result) are not reported: in "
            "real projects they are mostly code-controlled (colours, dates, rendered "
            "templates). Values passed "
            "through `escape()`, `conditional_escape()`, `format_html()`, `json_script()`, "
            "`render_to_string()` or `reverse()`, numbers, and responses with a non-HTML "
            "`content_type` are not reported. Also flags a Flask view that returns such HTML "
            "built from request data (Flask sends a returned string as text/html), and "
            "`format_html()` whose template is itself built by interpolation."
        ),
        why=(
            "Templates escape what they print; these calls switch that off for the whole "
            "string. A name, comment or URL parameter that contains `<script>` then runs in "
            "the browser of whoever views the page, with their session: it can read the page, "
            "act on the user's behalf or steal tokens kept in JavaScript."
        ),
        use_instead=(
            'Render a template, or use `format_html("<b>{}</b>", name)` in Django and '
            '`Markup("<b>{}</b>").format(name)` with MarkupSafe: the constant part stays HTML '
            "and every value is escaped. Escape by hand with `django.utils.html.escape()` / "
            "`markupsafe.escape()` only when nothing else fits."
        ),
        references=(
            "https://docs.djangoproject.com/en/stable/ref/utils/#django.utils.html.format_html",
            "https://markupsafe.palletsprojects.com/en/stable/escaping/",
            "https://cheatsheetseries.owasp.org/cheatsheets/Cross_Site_Scripting_Prevention_Cheat_Sheet.html",
            "https://cwe.mitre.org/data/definitions/79.html",
        ),
    )
    fire = (
        Example(
            title="a Django view echoing a query parameter, and a helper marking HTML safe",
            code="""\
from django.http import HttpResponse
from django.utils.safestring import mark_safe


def greet(request):
    name = request.GET.get("name", "")
    return HttpResponse(f"<h1>Hello {name}</h1>")  # flagged


def badge(user):
    return mark_safe('<span class="badge">%s</span>' % user.display_name)  # flagged
""",
            fixed="""\
from django.http import HttpResponse
from django.utils.html import format_html


def greet(request):
    return HttpResponse(format_html("<h1>Hello {}</h1>", request.GET.get("name", "")))


def badge(user):
    return format_html('<span class="badge">{}</span>', user.display_name)
""",
        ),
        Example(
            title="a Flask view returning HTML, and `format_html()` given an f-string",
            code="""\
from django.utils.html import format_html
from flask import Flask, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return f"<h1>Hello {name}</h1>"  # flagged


def link(url, label):
    return format_html(f'<a href="{url}">{label}</a>')  # flagged
""",
        ),
        Example(
            title="FastAPI `HTMLResponse` and MarkupSafe's `Markup()`",
            code="""\
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from markupsafe import Markup

app = FastAPI()


@app.get("/search", response_class=HTMLResponse)
def search(q: str):
    title = Markup("<em>" + q + "</em>")  # flagged
    return HTMLResponse(f"<p>Results for {q}</p>{title}")  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="escaped values, constant HTML and plain-text responses",
            code="""\
from django.http import HttpResponse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from markupsafe import Markup


def page(request):
    name = request.GET.get("name", "")
    header = mark_safe("<hr>")
    body = format_html("<p>{}</p>", name)
    safe = Markup("<b>{}</b>").format(name)
    return HttpResponse(f"{header}<p>{escape(name)}</p>{body}{safe}")


def export(request):
    return HttpResponse(request.GET["csv"], content_type="text/csv")


def count(items):
    return mark_safe(f"<b>{len(items)}</b>")
""",
        ),
    )

    @visit(ast.Return)
    def check_flask_return(self, node: ast.Return, ctx: FileContext) -> None:
        """A Flask view returning a str: Flask sends it as text/html."""
        if node.value is None or ctx.enclosing_function() is None:
            return
        if not ctx.project.uses("flask") or route_framework(ctx) != "flask":
            return
        found = _html_text(node.value, ctx)
        if found is None or found[0].kind != Kind.REQUEST:
            return
        source, confidence = found
        ctx.report(
            node,
            f"This Flask view returns HTML built from {source.origin}"
            f"{f' (line {source.line})' if source.line else ''}, unescaped; Flask sends a "
            "returned string as text/html, so a `<script>` in the value runs in the browser. "
            "Render a template or escape the value with `markupsafe.escape()`.",
            confidence=confidence,
            source=source.describe(),
        )

    @visit_call("format_html")
    def check_format_html(self, node: ast.Call, ctx: FileContext) -> None:
        """`format_html(f"...{x}")`: the value is pasted in before `format_html` can escape it."""
        if ctx.qualname(node.func) != "django.utils.html.format_html" or not node.args:
            return
        found = (
            _html_text(node.args[0], ctx) if not isinstance(node.args[0], ast.Constant) else None
        )
        if found is None:
            return
        source, confidence = found
        ctx.report(
            node,
            f"The template of `format_html()` is already built from {source.origin}: that value "
            "is not escaped. Keep the first argument constant and pass values as the other "
            'arguments: `format_html("<b>{}</b>", value)`.',
            confidence=confidence,
            source=source.describe(),
        )

    def on_call(self, node: ast.Call, ctx: FileContext) -> None:
        found = tainted_argument(node, ctx, self.slug)
        if found is None:
            return
        _sink, argument, source = found
        if not source.kind.tainted or _not_html(node):
            return
        name = (ctx.qualname(node.func) or "").rpartition(".")[2]
        marker = name in MARKERS
        if source.kind == Kind.REQUEST:
            confidence = Confidence.HIGH
        else:
            text = text_of(argument, ctx)
            holes = text.tainted_holes() if text is not None else []
            if not holes or "<" not in text.constant_text:  # type: ignore[union-attr]
                return  # not HTML assembled here: `mark_safe(markdown(x))` is that code's call
            source = worst(hole.source for hole in holes)
            if source.kind == Kind.UNKNOWN or not marker:
                return  # model fields, rendered templates, error helpers: mostly safe
            confidence = Confidence.LOW
        what = "marks as safe HTML" if marker else "sends as an HTML page"
        message = (
            f"`{_short(node.func, 30)}()` {what} text built from {source.origin}"
            f"{f' (line {source.line})' if source.line else ''}, unescaped: a `<script>` in "
            "the value runs in the reader's browser. Build the HTML with `format_html()` / "
            '`Markup("...{}").format(...)` or a template, which escape each value.'
        )
        ctx.report(node, message, confidence=confidence, source=source.describe())


def _html_text(node: ast.AST, ctx: FileContext) -> tuple[Source, Confidence] | None:
    """(worst source, confidence) when `node` is HTML assembled here from a tainted value."""
    text = text_of(node, ctx)
    if text is None or "<" not in text.constant_text:
        return None
    holes = text.tainted_holes()
    if not holes:
        return None
    source = worst(hole.source for hole in holes)
    if source.kind == Kind.REQUEST:
        return source, Confidence.HIGH
    if source.kind == Kind.PARAMETER:
        return source, Confidence.MEDIUM
    return None


def _not_html(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg in ("content_type", "media_type", "mimetype"):
            value = keyword.value
            return isinstance(value, ast.Constant) and "html" not in str(value.value)
    return False
