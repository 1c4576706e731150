"""`send_file` of a path that comes from the request: any file the process can read is served."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import confidence_for, origin_note, sink_names, tainted_argument
from backend_expert.dataflow.model import Kind
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call


class FlaskSendFilePath(Rule):
    code = "BEX503"
    slug = "flask-send-file-path"
    pack = "flask"
    severity = Severity.ERROR
    category = "security"
    frameworks = ("flask",)
    cwe = 22
    security_severity = 7.5
    summary = "`send_file` of a path built from request data (path traversal)"
    hint = "Serve user-chosen files with `send_from_directory(BASE_DIR, name)`, which refuses paths that leave the directory."
    explanation = Explanation(
        what=(
            "Flags `flask.send_file(path)` when `path` is derived from request data (URL "
            "parameters, query string, form, JSON), directly or through local variables and "
            "`os.path.join`/`Path` arithmetic. Paths checked in the function against a known set "
            "are not reported; `send_from_directory` is never reported."
        ),
        why=(
            "`send_file` opens whatever path it is given. A file name such as "
            "`../../etc/passwd` or an absolute path joined onto a base directory escapes it, "
            "and the response then carries configuration files, keys or source code."
        ),
        use_instead=(
            "`send_from_directory(UPLOAD_DIR, filename)` (it uses `werkzeug.security.safe_join` "
            "and answers 404 outside the directory), or look the file up by an id in the "
            "database and send the stored path."
        ),
        references=(
            "https://flask.palletsprojects.com/en/stable/api/#flask.send_from_directory",
            "https://owasp.org/www-community/attacks/Path_Traversal",
        ),
    )
    fire = (
        Example(
            title="a download route that joins the requested name onto a folder",
            code="""\
import os

from flask import Flask, request, send_file

app = Flask(__name__)


@app.route("/download")
def download():
    name = request.args["name"]
    return send_file(os.path.join("/srv/uploads", name))  # flagged
""",
            fixed="""\
from flask import Flask, request, send_from_directory

app = Flask(__name__)


@app.route("/download")
def download():
    return send_from_directory("/srv/uploads", request.args["name"])
""",
        ),
    )
    clean = (
        Example(
            title="near miss: send_from_directory, and a constant file",
            code="""\
from flask import Flask, request, send_file, send_from_directory

app = Flask(__name__)


@app.route("/download")
def download():
    return send_from_directory("/srv/uploads", request.args["name"])


@app.route("/logo")
def logo():
    return send_file("static/logo.png")
""",
        ),
        Example(
            title="near miss: a helper's parameter (the caller decides where the path comes from)",
            code="""\
from flask import send_file


def export(path):
    return send_file(path, as_attachment=True)
""",
        ),
    )

    @visit_call(sink_names("flask-send-file-path"))
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        found = tainted_argument(node, ctx, self.slug)
        if found is None:
            return
        _, argument, source = found
        if source.kind < Kind.REQUEST:  # a helper's parameter may well be a safe path
            return
        confidence = confidence_for(source)
        if confidence is None:
            return
        ctx.report(
            argument,
            f"`send_file` opens a path built {origin_note(source)}: `../` or an absolute path "
            "serves any file the server can read; use `send_from_directory`",
            confidence=confidence,
            source=source.origin,
        )
