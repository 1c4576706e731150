"""Raw request payloads (`request.json`, `request.form[...]`) written to the database with no schema."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.flask_web import is_flask_handler
from backend_expert.nodes import own_nodes
from backend_expert.rules.base import Example, Explanation, Rule, visit

FLASK_REQUEST = frozenset({"flask.request", "flask.globals.request"})
PAYLOAD_ATTRIBUTES = frozenset({"json", "form", "values", "get_json"})
WRITE_METHODS = frozenset({"add", "add_all", "merge", "bulk_save_objects", "bulk_insert_mappings"})
# Calls and decorators that validate input: marshmallow, pydantic, WTForms, webargs, apiflask...
VALIDATING_CALLS = frozenset(
    {"load", "loads", "validate", "validate_on_submit", "model_validate", "parse_obj",
     "model_validate_json", "parse_raw", "is_valid", "deserialize", "validate_json"}
)  # fmt: skip
VALIDATING_WORDS = (
    "schema",
    "validat",
    "use_args",
    "use_kwargs",
    "input",
    "arguments",
    "expects_json",
    "form",
)


def _payload_read(node: ast.AST, ctx: FileContext) -> bool:
    """`request.json`, `request.form`, `request.values`, `request.get_json()` on Flask's request."""
    if isinstance(node, ast.Attribute) and node.attr in PAYLOAD_ATTRIBUTES:
        return ctx.qualname(node.value) in FLASK_REQUEST
    return False


def _validates(function: ast.AST, ctx: FileContext) -> bool:
    for decorator in getattr(function, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = (ctx.qualname(target) or ast.unparse(target)).lower()
        if any(word in name for word in VALIDATING_WORDS):
            return True
    for node in own_nodes(function):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            lowered = name.lower()
            if name in VALIDATING_CALLS or "schema" in lowered or "validat" in lowered:
                return True
            if name.endswith("Form") or name.endswith("Schema"):
                return True
    return False


class FlaskUnvalidatedInput(Rule):
    code = "BEX504"
    slug = "flask-unvalidated-input"
    pack = "flask"
    severity = Severity.WARNING
    category = "security"
    frameworks = ("flask",)
    skip_tests = True
    cwe = 20
    summary = "Request payload written to the database without a validating schema"
    hint = "Load the payload through a schema (marshmallow `Schema().load`, a pydantic model, a WTForms form) and build the row from the validated data."
    explanation = Explanation(
        what=(
            "In a Flask route or a method of a class-based view, flags `request.json`, `request.get_json()`, `request.form` and "
            "`request.values` when what is read ends up in a model constructor or on a model "
            "attribute, or is handed to `session.add(...)`, in a function that adds rows to a "
            "session and validates nothing: no marshmallow `load`, pydantic `model_validate`, "
            "WTForms `validate_on_submit`, no `*Schema`/`*Form` class, no validating decorator "
            "(webargs `use_args`, flask-pydantic `validate`, APIFlask `input`). Spreading the "
            "whole payload into a model (`Model(**data)`) has high confidence; single fields "
            "medium."
        ),
        why=(
            "A raw payload carries whatever the client sent: wrong types (a string where an "
            "integer belongs), missing keys that fail later with a 500, huge strings, and extra "
            "keys. Spread into a model, extra keys set columns the form never offered, such as "
            "`is_admin` or `owner_id` (mass assignment). A schema states what is accepted, "
            "rejects the rest with a 400, and documents the API."
        ),
        use_instead=(
            "`data = ItemSchema().load(request.get_json())` (marshmallow), "
            "`data = ItemIn.model_validate(request.get_json())` (pydantic), or a WTForms/"
            "Flask-WTF form with `form.validate_on_submit()`; then build the row from `data`."
        ),
        references=(
            "https://marshmallow.readthedocs.io/en/stable/quickstart.html#validation",
            "https://flask-wtf.readthedocs.io/en/stable/quickstart.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Mass_Assignment_Cheat_Sheet.html",
        ),
    )
    fire = (
        Example(
            title="the JSON body spread into a model, and form fields copied onto a row",
            code="""\
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80))


@app.post("/users")
def create_user():
    data = request.get_json()  # flagged
    user = User(**data)
    db.session.add(user)
    db.session.commit()
    return {"id": user.id}, 201


@app.post("/users/<int:user_id>")
def rename_user(user_id):
    user = db.session.get(User, user_id)
    user.name = request.form["name"]  # flagged
    db.session.add(user)
    db.session.commit()
    return {"id": user.id}
""",
            fixed="""\
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import Schema, fields

app = Flask(__name__)
db = SQLAlchemy(app)


class UserIn(Schema):
    name = fields.String(required=True)


@app.post("/users")
def create_user():
    data = UserIn().load(request.get_json())
    user = User(**data)
    db.session.add(user)
    db.session.commit()
    return {"id": user.id}, 201
""",
        ),
    )
    clean = (
        Example(
            title="near miss: the payload validated by a schema, a form, or pydantic",
            code="""\
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from pydantic import BaseModel

from .forms import ItemForm
from .schemas import UserSchema

app = Flask(__name__)
db = SQLAlchemy(app)


class ItemIn(BaseModel):
    name: str


@app.post("/users")
def create_user():
    data = UserSchema().load(request.get_json())
    db.session.add(User(**data))
    db.session.commit()


@app.post("/items")
def create_item():
    item = ItemIn.model_validate(request.json)
    db.session.add(Item(name=item.name))
    db.session.commit()


@app.route("/items/new", methods=["POST"])
def new_item():
    form = ItemForm(request.form)
    if form.validate_on_submit():
        db.session.add(Item(name=form.name.data))
        db.session.commit()
""",
        ),
        Example(
            title="near miss: the payload read but nothing written to the database",
            code="""\
from flask import Flask, request

app = Flask(__name__)


@app.post("/echo")
def echo():
    return {"you_sent": request.get_json()}
""",
        ),
    )

    @visit(ast.FunctionDef, ast.AsyncFunctionDef)
    def check_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
    ) -> None:
        if not is_flask_handler(node, ctx):
            return
        nodes = list(own_nodes(node))
        if not any(
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in WRITE_METHODS
            for n in nodes
        ):
            return
        reads = [n for n in nodes if _payload_read(n, ctx)]
        if not reads or _validates(node, ctx):
            return
        tainted = self._tainted_names(nodes, ctx)
        reported: set[int] = set()
        for sink, spread in self._sinks(nodes, tainted, ctx):
            read = next((r for r in reads if _contains(sink, r)), None)
            if read is None:
                read = next(
                    (r for r in reads if id(r) in tainted.get(_first_name(sink, tainted), ())), None
                )
            if read is None or read.lineno in reported:
                continue
            reported.add(read.lineno)
            what = "spread into a model" if spread else "written to a model"
            shown = ast.unparse(read) + ("(...)" if read.attr == "get_json" else "")
            ctx.report(
                read,
                f"`{shown}` is {what} without validation: wrong types and extra "
                "keys reach the database; load it through a schema first",
                confidence=Confidence.HIGH if spread else Confidence.MEDIUM,
            )

    @staticmethod
    def _tainted_names(nodes: list[ast.AST], ctx: FileContext) -> dict[str, set[int]]:
        """Local names bound from a payload read (name -> ids of the reads), followed through assignments."""
        tainted: dict[str, set[int]] = {}
        assigns = [n for n in nodes if isinstance(n, ast.Assign)]
        for _ in range(3):
            for assign in assigns:
                reads = {id(r) for r in ast.walk(assign.value) if _payload_read(r, ctx)}
                for inner in ast.walk(assign.value):
                    if isinstance(inner, ast.Name) and inner.id in tainted:
                        reads |= tainted[inner.id]
                if not reads:
                    continue
                for target in assign.targets:
                    if isinstance(target, ast.Name):
                        tainted.setdefault(target.id, set()).update(reads)
        return tainted

    @staticmethod
    def _sinks(nodes: list[ast.AST], tainted: dict[str, set[int]], ctx: FileContext):
        """(expression that reaches the database, spread?) pairs."""

        def carries(expr: ast.AST) -> bool:
            return any(
                (isinstance(n, ast.Name) and n.id in tainted) or _payload_read(n, ctx)
                for n in ast.walk(expr)
            )

        for node in nodes:
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                model_like = name[:1].isupper() and not name.isupper()
                for keyword in node.keywords:
                    if keyword.arg is None and model_like and carries(keyword.value):
                        yield keyword.value, True
                    elif keyword.arg is not None and model_like and carries(keyword.value):
                        yield keyword.value, False
                if name in WRITE_METHODS:
                    for arg in node.args:
                        if carries(arg) and not isinstance(arg, ast.Name):
                            yield arg, False
            elif (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Attribute) for t in node.targets)
                and carries(node.value)
            ):
                yield node.value, False


def _contains(tree: ast.AST, node: ast.AST) -> bool:
    return any(inner is node for inner in ast.walk(tree))


def _first_name(expr: ast.AST, tainted: dict[str, set[int]]) -> str:
    return next((n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and n.id in tainted), "")
