"""`print()` in application modules of a web service, where output belongs in the logs."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Confidence, Severity
from backend_expert.rules.base import Example, Explanation, Rule, visit_call
from backend_expert.rules.python._places import in_cli_function, is_application_code, is_cli_module
from backend_expert.rules.python.env_config_scattered import _config_named

WEB_FRAMEWORKS = ("flask", "fastapi", "starlette", "django", "drf")


class PrintInAppCode(Rule):
    code = "BEX802"
    slug = "print-in-app-code"
    pack = "python"
    severity = Severity.INFO
    category = "maintainability"
    frameworks = WEB_FRAMEWORKS
    skip_tests = True
    summary = "`print()` in application code of a web service"
    hint = "Log it: `logger = logging.getLogger(__name__)` and `logger.info(...)` (or structlog)."
    explanation = Explanation(
        what=(
            "Flags `print(...)` in the modules of a Flask, FastAPI, Starlette or Django project. "
            "Not reported: tests, scripts and tooling folders (`scripts/`, `bin/`, `tools/`, "
            "`examples/`, `docs/`), management commands, migrations, `manage.py`, `setup.py`, "
            "`__main__.py`, `cli.py`, settings and config modules (they run before logging is set up), modules that use a CLI toolkit (click, typer, argparse) "
            "or have an `if __name__ == '__main__':` block, functions registered as commands or "
            "named `main`, prints to an explicit stream (`file=sys.stderr`) or flushed on purpose (`flush=True`, a "
            "console banner), prints under `if verbose:`/`if debug:`, and module-level prints of files at the project "
            "root (scripts). Other module-level prints (run at import) have low confidence."
        ),
        why=(
            "In a deployed service stdout is not a log: a print has no level, no timestamp, no "
            "logger name and no request context, cannot be filtered or silenced, and is "
            "interleaved by workers (and buffered, so it may appear late or never). Prints left "
            "over from debugging also leak data, such as tokens or personal data, into "
            "whatever collects the container output."
        ),
        use_instead=(
            "`logger = logging.getLogger(__name__)` at module level and `logger.debug(...)`/"
            "`logger.info(...)` (or `structlog.get_logger()`); configure handlers once at startup."
        ),
        references=("https://docs.python.org/3/howto/logging.html",),
    )
    fire = (
        Example(
            title="debug output left in a view",
            code="""\
from flask import Flask, request

app = Flask(__name__)


@app.post("/orders")
def create_order():
    payload = request.get_json()
    print("creating order", payload)  # flagged
    return {"ok": True}
""",
            fixed="""\
import logging

from flask import Flask, request

app = Flask(__name__)
logger = logging.getLogger(__name__)


@app.post("/orders")
def create_order():
    payload = request.get_json()
    logger.info("creating order %s", payload.get("id"))
    return {"ok": True}
""",
        ),
    )
    clean = (
        Example(
            title="near miss: a management command, a CLI module and a script",
            files={
                "shop/__init__.py": "import flask\n",
                "shop/management/commands/report.py": """\
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        print("done")
""",
                "shop/cli.py": "import click\n\n\n@click.command()\ndef seed():\n    print('seeded')\n",
                "scripts/export.py": "print('exported')\n",
                "shop/jobs.py": """\
import sys


def main():
    print("usage: jobs", file=sys.stderr)


if __name__ == "__main__":
    main()
""",
            },
        ),
    )

    @visit_call("print")
    def check_call(self, node: ast.Call, ctx: FileContext) -> None:
        func = node.func
        if not (isinstance(func, ast.Name) and func.id == "print"):
            return
        if ctx.qualname(func) != "builtins.print" or any(
            k.arg in ("file", "flush") for k in node.keywords
        ):
            return  # written to a chosen stream, or flushed: deliberate console output
        if any(
            isinstance(a, ast.If)
            and ("verbose" in (t := ast.unparse(a.test).lower()) or "debug" in t)
            for a in ctx.ancestors
        ):
            return  # output the caller asked for
        cached = getattr(ctx, "_bex802_app", None)
        if cached is None:
            cached = (
                is_application_code(ctx)
                and not is_cli_module(ctx)
                and not _config_named(ctx.module)  # runs before logging is configured
            )
            ctx._bex802_app = cached  # type: ignore[attr-defined]
        if not cached or in_cli_function(ctx):
            return
        function = ctx.enclosing_function()
        if function is None and "/" not in ctx.path:
            return  # module-level output of a file at the project root: a script
        if getattr(function, "name", "") in ("emit", "handleError", "__repr__", "__str__"):
            return  # inside a logging handler a print is the only safe output
        ctx.report(
            node,
            "`print()` in application code goes to stdout with no level, time or context; "
            "use a logger",
            confidence=Confidence.MEDIUM if function is not None else Confidence.LOW,
        )
