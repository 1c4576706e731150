"""Security findings as a user reads them: CWE, security severity, confidence and where the
tainted value came from, in the text and JSON outputs, and `--min-confidence` filtering."""

from __future__ import annotations

import json

from click.testing import CliRunner

from backend_expert.cli import main

VIEWS = """\
import random
import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    subprocess.run(f"ping -c 1 {host}", shell=True, check=False)
    return "ok"


def run_job(command):
    subprocess.run(command + " --quiet", shell=True, check=False)


def helper(obj):
    return eval(obj.build())


def reset_token():
    token = str(random.getrandbits(64))
    return token
"""


def bex(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_json_carries_cwe_severity_confidence_and_source(write_project):
    root = write_project({"app.py": VIEWS, "requirements.txt": "flask\n"})
    result = bex("check", str(root), "--no-cache", "--output-format", "json", "--exit-zero")
    findings = json.loads(result.output)
    injections = sorted(
        (f for f in findings if f["slug"] in ("shell-injection", "code-injection")),
        key=lambda f: f["line"],
    )
    assert [(f["line"], f["slug"], f["confidence"]) for f in injections] == [
        (12, "shell-injection", "high"),
        (17, "shell-injection", "medium"),
        (21, "code-injection", "low"),
    ]
    first = injections[0]
    assert first["cwe"] == 78
    assert first["security_severity"] == 9.8
    assert first["source"] == "`request.args.get('host', '')` (line 11)"
    assert "line 11" in first["message"]
    [token] = [f for f in findings if f["slug"] == "insecure-random"]
    assert token["cwe"] == 338 and token["security_severity"] == 7.5


def test_text_output_shows_confidence_and_source(write_project):
    root = write_project({"app.py": VIEWS, "requirements.txt": "flask\n"})
    output = bex("check", str(root), "--no-cache", "--exit-zero").output
    assert "(medium confidence)" in output
    assert "(low confidence)" in output
    assert "source: `request.args.get('host', '')` (line 11)" in output


def test_min_confidence_hides_less_certain_findings(write_project):
    root = write_project({"app.py": VIEWS, "requirements.txt": "flask\n"})

    def lines(level: str) -> list[int]:
        result = bex(
            "check",
            str(root),
            "--no-cache",
            "--output-format",
            "json",
            "--exit-zero",
            "--select",
            "shell-injection,code-injection",
            "--min-confidence",
            level,
        )
        return sorted(f["line"] for f in json.loads(result.output))

    assert lines("low") == [12, 17, 21]
    assert lines("medium") == [12, 17]
    assert lines("high") == [12]
