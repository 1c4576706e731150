"""A file opened, served or deleted at a path taken from the request."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import Kind, Source, taint_of
from backend_expert.dataflow.util import _short
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, visit_call
from backend_expert.security_support import TaintSinkRule, word_set

# `Path` methods that read, write or delete the file the path names.
PATH_METHODS = word_set(
    """read_text read_bytes write_text write_bytes open unlink rmdir touch iterdir"""
)
# Calls that show the function checks where the path ends up.
CONTAINMENT = frozenset({"is_relative_to", "relative_to", "commonpath", "commonprefix"})
NORMALISERS = frozenset({"resolve", "realpath", "abspath", "normpath"})


class PathTraversal(TaintSinkRule):
    code = "BEX710"
    slug = "path-traversal"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 22
    security_severity = 7.5
    skip_tests = True
    report_parameter = False
    report_unknown = False
    sink_does = "is opened as a file path"
    summary = "A file path built from request data, with no check that it stays in its folder"
    hint = (
        "Resolve the path and check it stays under the base folder "
        "(`path.resolve().is_relative_to(BASE)`), or keep only the file name "
        "(`secure_filename()`)."
    )
    explanation = Explanation(
        what=(
            "Flags `open()`, `os.remove()`, `shutil` copies and deletes, `FileResponse()`, "
            "`Path` methods (`read_text()`, `write_bytes()`, `unlink()`...) and an uploaded "
            "file's `.save()` when the path comes from the request: a route parameter, "
            "`request.args`, `request.GET`, an uploaded file's name... including through "
            "`os.path.join()`, `Path(...) / name` and string building. Functions that check "
            "containment (`is_relative_to()`, `relative_to()`, `os.path.commonpath()`, or "
            "`startswith()` after `resolve()`/`realpath()`/`abspath()` or next to a refusal of "
            "`..`) and names passed "
            "through `secure_filename()`, `os.path.basename()` or `safe_join()` are not "
            "reported. Flask's `send_file()` is left to `flask-send-file-path`."
        ),
        why=(
            "`../` segments and absolute paths walk out of the intended folder: "
            "`os.path.join('/srv/uploads', '/etc/passwd')` is `/etc/passwd`, and "
            "`../../app/settings.py` reads the configuration with its secrets. For writes and "
            "deletes the damage is worse: overwriting code or templates runs the attacker's code."
        ),
        use_instead=(
            "Keep only a safe file name (`werkzeug.utils.secure_filename()`, "
            "`os.path.basename()`), or resolve the joined path and refuse it unless it is "
            "inside the base folder; serve files with `send_from_directory()`, which does the "
            "check for you."
        ),
        references=(
            "https://owasp.org/www-community/attacks/Path_Traversal",
            "https://docs.python.org/3/library/pathlib.html#pathlib.PurePath.is_relative_to",
            "https://cwe.mitre.org/data/definitions/22.html",
        ),
    )
    fire = (
        Example(
            title="a FastAPI parameter joined to a folder, and a Flask upload saved by its name",
            code="""\
import os

from fastapi import FastAPI
from fastapi.responses import FileResponse
from flask import Flask, request

api = FastAPI()
app = Flask(__name__)
REPORTS = "/srv/reports"


@api.get("/reports/{name}")
def report(name: str):
    return FileResponse(os.path.join(REPORTS, name))  # flagged


@app.route("/upload", methods=["POST"])
def upload():
    upload = request.files["file"]
    upload.save(os.path.join("/srv/uploads", upload.filename))  # flagged
    with open(f"/srv/notes/{request.form['note']}.txt") as handle:  # flagged
        return handle.read()
""",
        ),
    )
    clean = (
        Example(
            title="a resolved path checked for containment, and a sanitised name",
            code="""\
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from werkzeug.utils import secure_filename

app = FastAPI()
BASE = Path("/srv/reports").resolve()


@app.get("/reports/{name}")
def report(name: str):
    path = (BASE / name).resolve()
    if not path.is_relative_to(BASE):
        raise HTTPException(404)
    return FileResponse(path)


@app.get("/notes/{name}")
def note(name: str):
    return (BASE / secure_filename(name)).read_text()


@app.get("/static")
def static():
    return FileResponse(BASE / "index.html")
""",
        ),
    )

    def accepts(self, call: ast.Call, argument: ast.AST, source: Source, ctx: FileContext) -> bool:
        return not _checks_containment(ctx)

    @visit_call(PATH_METHODS, "save")
    def check_methods(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr in PATH_METHODS and not node.args:
            target: ast.AST = func.value
        elif func.attr == "save" and node.args:
            if taint_of(func.value, ctx).kind != Kind.REQUEST:
                return  # only an uploaded file's `.save(path)`
            target = node.args[0]
        else:
            return
        if func.attr in PATH_METHODS and not _looks_like_path(target, ctx):
            return
        source = taint_of(target, ctx)
        if source.kind != Kind.REQUEST or _checks_containment(ctx):
            return
        self.report_sink(node, target, source, Confidence.HIGH, ctx)

    def report_sink(self, call, argument, source, confidence, ctx) -> None:  # type: ignore[override]
        message = (
            f"The path `{_short(argument, 50)}` given to `{_short(call.func, 40)}()` is built "
            f"from {source.origin}{f' (line {source.line})' if source.line else ''}: `../` or an "
            "absolute path reaches any file the server can read. Keep only the file name "
            "(`secure_filename()`) or resolve the path and check it stays under the base folder."
        )
        ctx.report(call, message, confidence=confidence, source=source.describe())


def _looks_like_path(node: ast.AST, ctx: FileContext) -> bool:
    """`Path(x)`, `BASE / x`: a receiver whose `.open()` is a file's."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return True
    if isinstance(node, ast.Call):
        return (ctx.qualname(node.func) or "").startswith(("pathlib.", "anyio.Path"))
    if isinstance(node, ast.Name):
        return (ctx.type_of(node) or "").startswith("pathlib.")
    return False


def _checks_containment(ctx: FileContext) -> bool:
    function = ctx.enclosing_function()
    if function is None:
        return False
    names = set()
    dots = False  # `".." in name`, `name.find(".")`: the function refuses parent segments
    for node in ctx.own_nodes(function):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        elif isinstance(node, ast.Constant) and node.value in ("..", "."):
            dots = True
    checked_prefix = "startswith" in names and (bool(names & NORMALISERS) or dots)
    return bool(names & CONTAINMENT) or checked_prefix
