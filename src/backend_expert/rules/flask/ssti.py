"""`render_template_string` fed with text that is not a constant: server-side template injection."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import confidence_for, origin_note, sink_names, tainted_argument
from backend_expert.dataflow.model import Kind
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call


class FlaskSsti(Rule):
    code = "BEX502"
    slug = "flask-ssti"
    pack = "flask"
    severity = Severity.ERROR
    category = "security"
    frameworks = ("flask",)
    cwe = 1336
    security_severity = 9.0
    summary = "Template source built from non-constant text in `render_template_string`"
    hint = (
        "Keep the template constant (a file with `render_template`) and pass the data as variables."
    )
    explanation = Explanation(
        what=(
            "Flags `render_template_string(x)` when the template source `x` is not a constant: "
            "request data (high confidence), a parameter of a helper (medium) or a value bex "
            "cannot trace (low). Where the value came from is shown with the finding."
        ),
        why=(
            "Jinja2 templates are code. When user text becomes part of the template source, "
            "`{{ ... }}` expressions in it are evaluated on the server: an attacker can read the "
            "configuration (`{{ config }}`, the secret key) and, by walking Python's object "
            "graph, execute commands. Escaping does not help, because the text is the template, "
            "not a value rendered into it."
        ),
        use_instead=(
            "`render_template('page.html', name=name)` or "
            "`render_template_string(CONSTANT_TEMPLATE, name=name)`: the template stays fixed and "
            "user data only ever arrives as variables, which Jinja2 autoescapes."
        ),
        references=(
            "https://flask.palletsprojects.com/en/stable/api/#flask.render_template_string",
            "https://portswigger.net/web-security/server-side-template-injection",
        ),
    )
    fire = (
        Example(
            title="a greeting page that formats request text into the template",
            code="""\
from flask import Flask, render_template_string, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    return render_template_string(f"<h1>Hello {name}</h1>")  # flagged
""",
            fixed="""\
from flask import Flask, render_template_string, request

app = Flask(__name__)
HELLO = "<h1>Hello {{ name }}</h1>"


@app.route("/hello")
def hello():
    return render_template_string(HELLO, name=request.args.get("name", ""))
""",
        ),
    )
    clean = (
        Example(
            title="near miss: a constant template with the data passed as variables",
            code="""\
from flask import Flask, render_template_string, request

app = Flask(__name__)
PAGE = "<h1>Hello {{ name }}</h1>"


@app.route("/hello")
def hello():
    inline = render_template_string("<p>{{ n }}</p>", n=1)
    return render_template_string(PAGE, name=request.args.get("name", "")) + inline
""",
        ),
    )

    @visit_call(sink_names("flask-ssti"))
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        found = tainted_argument(node, ctx, self.slug)
        if found is None:
            return
        _, argument, source = found
        confidence = confidence_for(source)
        if confidence is None:
            return
        what = "request data" if source.kind == Kind.REQUEST else "text that is not a constant"
        ctx.report(
            argument,
            f"`render_template_string` renders {what} ({origin_note(source)}) as a Jinja2 "
            "template: `{{ ... }}` in it runs on the server; keep the template constant and "
            "pass values as variables",
            confidence=confidence,
            source=source.origin,
        )
