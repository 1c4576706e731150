"""pickle, marshal, shelve and unsafe YAML loading of data that may come from outside."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import Kind, taint_of
from backend_expert.dataflow.util import _short
from backend_expert.edits import node_text, replace_node
from backend_expert.findings import Applicability, Confidence, Fix, Severity
from backend_expert.rules.base import Example, Explanation, visit_call
from backend_expert.security_support import TaintSinkRule

YAML_LOADS = frozenset({"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all"})
UNSAFE_LOADERS = frozenset(
    {"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader"}  # FullLoader refuses python/ tags
)


class InsecureDeserialization(TaintSinkRule):
    code = "BEX705"
    slug = "insecure-deserialization"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 502
    security_severity = 9.8
    skip_tests = True
    fix_applicability = Applicability.UNSAFE
    sink_does = "is deserialised"
    report_parameter = False  # pickles of a cache, a file or a queue the project writes itself
    report_unknown = False
    summary = "pickle, marshal, shelve or an unsafe YAML loader reading data that is not a constant"
    hint = (
        "Exchange data as JSON (or validate it with a schema); load YAML with `yaml.safe_load()`."
    )
    explanation = Explanation(
        what=(
            "Flags `pickle.loads()`/`load()` (and `dill`, `jsonpickle.decode()`, "
            "`pandas.read_pickle()`, `joblib.load()`), `marshal.loads()` and `shelve.open()` on "
            "request data (a pickle of the project's own cache or files is left alone: bex "
            "cannot tell who else writes there). Also flags `yaml.load()` and "
            "`yaml.load_all()` without a safe loader (`SafeLoader`, `CSafeLoader`, `BaseLoader`) "
            "and `yaml.unsafe_load()`, whatever the data. `yaml.safe_load()` is never flagged."
        ),
        why=(
            "Unpickling runs code: a pickle names any callable and the arguments to call it "
            "with, so whoever writes the bytes runs commands on the server. PyYAML's full "
            "loader builds arbitrary Python objects from tags such as `!!python/object/apply`, "
            "which is the same hole. A cache or queue that an attacker can write to (an exposed "
            "Redis, a shared bucket) turns a data leak into remote code execution."
        ),
        use_instead=(
            "Use JSON (`json.loads()`, a Pydantic model) for data that crosses a trust "
            "boundary, sign what you must pickle (`hmac`, `itsdangerous`) and verify before "
            "loading, and read YAML with `yaml.safe_load()`."
        ),
        fix_safety=(
            "For YAML the fix is `yaml.safe_load(...)`. It is unsafe: documents that use custom "
            "tags or build Python objects stop loading."
        ),
        references=(
            "https://docs.python.org/3/library/pickle.html",
            "https://pyyaml.org/wiki/PyYAMLDocumentation",
            "https://cwe.mitre.org/data/definitions/502.html",
        ),
    )
    fire = (
        Example(
            title="a pickled cookie and an unsafe YAML upload",
            code="""\
import pickle

import yaml
from flask import Flask, request

app = Flask(__name__)


@app.route("/prefs")
def prefs():
    data = pickle.loads(bytes.fromhex(request.cookies["prefs"]))  # flagged
    config = yaml.load(request.files["config"].read(), Loader=yaml.Loader)  # flagged
    return {"prefs": data, "config": config}
""",
            fixed="""\
    config = yaml.safe_load(request.files["config"].read())
""",
        ),
        Example(
            title="`yaml.load()` without a loader (unsafe fix: `safe_load`)",
            code="""\
import yaml


def read_settings(path):
    with open(path) as handle:
        return yaml.load(handle)  # flagged
""",
            fixed="""\
import yaml


def read_settings(path):
    with open(path) as handle:
        return yaml.safe_load(handle)
""",
        ),
    )
    clean = (
        Example(
            title="safe YAML loading and JSON",
            code="""\
import json

import yaml


def read(path, text):
    with open(path) as handle:
        settings = yaml.safe_load(handle)
    other = yaml.load(text, Loader=yaml.SafeLoader)
    return settings, other, json.loads(text)
""",
        ),
    )

    def report_sink(self, call, argument, source, confidence, ctx) -> None:  # type: ignore[override]
        if source.kind != Kind.REQUEST:
            confidence = Confidence.LOW
        message = (
            f"`{_short(call.func, 30)}()` deserialises `{_short(argument, 40)}`, which comes "
            f"from {source.origin}{f' on line {source.line}' if source.line else ''}; "
            "whoever can write those bytes can run code in this process. Use JSON or a "
            "schema for data from outside, or sign the data and check the signature first."
        )
        ctx.report(call, message, confidence=confidence, source=source.describe())

    @visit_call(YAML_LOADS)
    def check_yaml(self, node: ast.Call, ctx: FileContext) -> None:
        qualified = ctx.qualname(node.func)
        if qualified not in YAML_LOADS or not node.args:
            return
        loader = next((kw.value for kw in node.keywords if kw.arg == "Loader"), None)
        if loader is None and len(node.args) > 1:
            loader = node.args[1]
        if qualified.startswith("yaml.load") and loader is not None:
            name = loader.attr if isinstance(loader, ast.Attribute) else getattr(loader, "id", "")
            if name not in UNSAFE_LOADERS:
                return  # a safe loader, or a custom one bex cannot judge
        data = node.args[0]
        source = taint_of(data, ctx)
        if source.kind == Kind.CONSTANT:
            return
        confidence = Confidence.HIGH if source.kind == Kind.REQUEST else Confidence.MEDIUM
        many = qualified.endswith("_all")
        fix = self._yaml_fix(node, data, many, ctx)
        origin = f"; the data comes from {source.origin}" if source.kind.tainted else ""
        message = (
            f"`{_short(node.func, 30)}()` without a safe loader builds any Python object the "
            f"document names (`!!python/object/apply` runs code){origin}. Use "
            f"`yaml.safe_load{'_all' if many else ''}()`."
        )
        ctx.report(node, message, confidence=confidence, fix=fix, source=source.describe())

    @staticmethod
    def _yaml_fix(node: ast.Call, data: ast.AST, many: bool, ctx: FileContext) -> Fix | None:
        func = node.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return None
        if any(kw.arg is None for kw in node.keywords) or len(node.args) > 2:
            return None
        name = "safe_load_all" if many else "safe_load"
        text = f"{func.value.id}.{name}({node_text(ctx, data)})"
        return Fix(f"Use `yaml.{name}()`", (replace_node(ctx, node, text),), Applicability.UNSAFE)
