"""`eval()` / `exec()` / `compile()` of text that is not a constant."""

from __future__ import annotations

from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation
from backend_expert.security_support import TaintSinkRule, last_name


class CodeInjection(TaintSinkRule):
    code = "BEX706"
    slug = "code-injection"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 95
    security_severity = 9.8
    skip_tests = True
    sink_does = "is run as Python code"
    summary = "`eval()` or `exec()` of text that is not a constant"
    report_unknown = True

    def accepts(self, call, argument, source, ctx) -> bool:  # type: ignore[override]
        """`eval(self.compiled)`: a code object compiled (and validated) elsewhere."""
        name = last_name(argument)
        return "compiled" not in name.lower() and name != "compile"

    hint = (
        "Parse data with `json.loads()` or `ast.literal_eval()`, and pick behaviour from a dict "
        "of allowed functions instead of running text."
    )
    explanation = Explanation(
        what=(
            "Flags the built-ins `eval()` and `exec()` when the code they get is not a "
            "constant (`compile()` alone only parses). Request data (a route parameter, `request.args`, `request.GET`, "
            "`request.json`...) gives high confidence, a parameter of a helper medium, and a "
            "value bex cannot trace low. Code objects compiled elsewhere (`eval(self.compiled)`, "
            "`exec(compile(...))`: the check belongs where the source is compiled), "
            "`ast.literal_eval()` and methods that happen to be "
            "called `eval` (`model.eval()`) are not these built-ins."
        ),
        why=(
            "The text runs with every right the process has: a caller who controls it can read "
            "files and environment secrets, open connections or start processes. Restricting "
            "`__builtins__` does not help: attribute walks such as `().__class__.__bases__` reach "
            "any class again."
        ),
        use_instead=(
            "For data, `json.loads()` or `ast.literal_eval()` (literals only). For a choice of "
            "behaviour, a dict that maps allowed names to functions. For arithmetic, a small "
            "expression parser over `ast` nodes you allow."
        ),
        references=(
            "https://docs.python.org/3/library/functions.html#eval",
            "https://docs.python.org/3/library/ast.html#ast.literal_eval",
            "https://cwe.mitre.org/data/definitions/95.html",
        ),
    )
    fire = (
        Example(
            title="a Flask query parameter evaluated",
            code="""\
from flask import Flask, request

app = Flask(__name__)


@app.route("/calc")
def calc():
    expression = request.args.get("expr", "0")
    return {"result": eval(expression)}  # flagged
""",
        ),
        Example(
            title="a helper that runs code it is given (medium confidence)",
            code="""\
def apply_rule(rule_source, context):
    exec(rule_source, {"ctx": context})  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="literal parsing and constant code",
            code="""\
import ast

from flask import Flask, request

app = Flask(__name__)


@app.route("/parse")
def parse():
    value = ast.literal_eval(request.args["value"])
    exec("import this")
    return {"value": value}
""",
        ),
        Example(
            title="a data migration reading values the project stored itself",
            files={
                "shop/migrations/0007_convert.py": """\
def forwards(apps, schema_editor):
    for row in apps.get_model("shop", "Setting").objects.all():
        row.value = eval(row.raw)
        row.save()
"""
            },
        ),
        Example(
            title="a method named eval",
            code="""\
def predict(model, batch):
    model.eval()
    return model(batch)
""",
        ),
    )
