"""The public data-flow API that security rules (and the Flask pack) call: `taint_of`,
`confidence_for`, `origin_note`, `tainted_argument`."""

from __future__ import annotations

import ast

import pytest

from backend_expert.dataflow import (
    Kind,
    confidence_for,
    origin_note,
    route_framework,
    taint_of,
    tainted_argument,
)
from backend_expert.findings import Confidence
from tests.test_dataflow import _contexts


def taints(code: str):
    return [taint_of(argument, ctx) for ctx, argument in _contexts(code)]


FLASK = "from flask import Flask, request\napp = Flask(__name__)\n"


@pytest.mark.parametrize(
    "expression",
    [
        "request.args['q']",
        "request.args.get('q')",
        "request.form['q']",
        "request.get_json()['q']",
        "request.json.get('q')",
        "request.files['f'].read()",
        "request.headers.get('X-Name')",
        "request.cookies['c']",
        "request.values['v']",
        "request.data",
    ],
)
def test_flask_request_attributes_are_request_data(expression: str) -> None:
    code = FLASK + f"@app.route('/')\ndef view():\n    sink({expression})\n"
    [source] = taints(code)
    assert source.kind == Kind.REQUEST
    assert source.line == 5


def test_value_followed_through_helpers_and_containers() -> None:
    code = FLASK + (
        "import os\nfrom pathlib import Path\nBASE = Path('/srv')\n"
        "@app.route('/')\ndef view():\n"
        "    name = request.args.get('name', '').strip()\n"  # line 7
        "    parts = []\n"
        "    parts.append(str(name))\n"
        "    sink(os.path.join('/srv', name))\n"
        "    sink(BASE / name)\n"
        "    sink(' '.join(parts))\n"
        "    sink({'k': name}['k'])\n"
        "    sink(f'<b>{name}</b>')\n"
        "    sink('%s' % (name,))\n"
    )
    found = taints(code)
    assert [s.kind for s in found] == [Kind.REQUEST] * 6
    assert origin_note(found[0]) == "from `request.args.get('name', '')` on line 8"


def test_django_drf_and_fastapi_sources() -> None:
    code = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n"
        "def django_view(request):\n    sink(request.GET['q'])\n    sink(request.body)\n"
        "    sink(request.META['HTTP_X'])\n"
        "def drf_view(self, request):\n    sink(request.query_params['q'])\n"
        "    sink(request.data['q'])\n"
        "@app.get('/x')\nasync def route(q: str, request: Request):\n    sink(q)\n"
        "    sink(await request.json())\n"
    )
    assert [s.kind for s in taints(code)] == [Kind.REQUEST] * 7


def test_constants_and_sanitised_values_are_not_tainted() -> None:
    code = FLASK + (
        "import html, shlex\nfrom werkzeug.utils import secure_filename\n"
        "@app.route('/')\ndef view():\n"
        "    sink('ls -l')\n    sink(html.escape(request.args['q']))\n"
        "    sink(shlex.quote(request.args['q']))\n"
        "    sink(secure_filename(request.args['q']))\n    sink(int(request.args['n']))\n"
    )
    assert all(not s.kind.tainted for s in taints(code))


def test_confidence_follows_the_kind() -> None:
    code = "def helper(cmd, other):\n    sink(cmd)\n    sink(other.run())\n    sink('x')\n"
    parameter, unknown, constant = taints(code)
    assert confidence_for(parameter) == Confidence.MEDIUM
    assert confidence_for(unknown) == Confidence.LOW
    assert confidence_for(unknown, unknown=False) is None
    assert confidence_for(constant) is None


def test_route_framework() -> None:
    code = FLASK + ("@app.route('/')\ndef view():\n    sink(1)\ndef helper():\n    sink(2)\n")
    assert [route_framework(ctx) for ctx, _ in _contexts(code)] == ["flask", None]


def test_tainted_argument_names_the_sink() -> None:
    code = FLASK + (
        "from flask import render_template_string, send_file\n"
        "@app.route('/')\ndef view():\n"
        "    sink(render_template_string(request.args['t']))\n"
        "    sink(send_file(request.args['p']))\n    sink(send_file('static/a.txt'))\n"
    )
    results = []
    for ctx, call in _contexts(code):
        assert isinstance(call, ast.Call)
        for slug in ("flask-ssti", "flask-send-file-path"):
            found = tainted_argument(call, ctx, slug)
            if found is not None:
                results.append((slug, found[2].kind))
    assert results == [
        ("flask-ssti", Kind.REQUEST),
        ("flask-send-file-path", Kind.REQUEST),
        ("flask-send-file-path", Kind.CONSTANT),
    ]
