"""Where code runs: application modules versus scripts, CLIs, migrations and tooling.

print-in-app-code, naive-datetime and env-config-scattered speak only of application code; a
one-off script, a management command or a migration has other rules.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.check import FileContext

SCRIPT_DIRS = frozenset(
    {"scripts", "script", "bin", "tools", "tooling", "examples", "example", "docs", "doc",
     "benchmarks", "bench", "management", "commands", "migrations", "alembic", "versions",
     "devtools", "dev", "hack", "ci", "deploy", "deployment", "docker", "fixtures", "demo",
     "demos", "samples", "sample", "notebooks", "cookbook", "playground", "sandbox",
     "utils_scripts", "cli", "setup", "seed", "seeds", "e2e", "locust", "loadtest",
     "terraform", "infra", "infrastructure", "ops", "lambdas", "sdk"}
)  # fmt: skip
SCRIPT_FILES = frozenset(
    {"manage.py", "setup.py", "conftest.py", "noxfile.py", "fabfile.py",
     "__main__.py", "cli.py", "wsgi.py", "asgi.py", "gunicorn.conf.py", "gunicorn_config.py",
     "env.py", "run.py", "console.py", "commands.py", "shell.py", "script.py"}
)  # fmt: skip
CLI_MODULES = ("click", "typer", "argparse", "fire", "docopt", "flask_script", "rich")


def is_script_path(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        name in SCRIPT_FILES
        or (len(parts) == 1 and name in ("tasks.py", "server.py"))
        or name.startswith(("cli_", "run_", "script_", "manage_", "setup_", "seed_"))
        or any(part in SCRIPT_DIRS or part.startswith(("script", "tool")) for part in parts[:-1])
    )


def is_cli_module(ctx: FileContext) -> bool:
    """The module imports a CLI toolkit, or runs code under `if __name__ == "__main__":`."""
    if any(m.partition(".")[0] in CLI_MODULES for m in ctx.facts.imported_modules):
        return True
    tree = ctx.source.tree
    return tree is not None and any(
        isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test) for stmt in tree.body
    )


def in_cli_function(ctx: FileContext) -> bool:
    """Inside a function registered as a CLI command (`@click.command`, `@app.cli.command`...),
    a `main()`, or a `__main__` block."""
    for node in ctx.ancestors:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name in ("main", "cli", "run", "command") or node.name.startswith("cmd_"):
                return True
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                text = ast.unparse(target)
                if "command" in text or "cli" in text or "group" in text or "task" in text:
                    return True
        if isinstance(node, ast.ClassDef) and any(
            "Command" in ast.unparse(base) for base in node.bases
        ):
            return True
    return False


def is_application_code(ctx: FileContext) -> bool:
    return not (ctx.is_test or is_script_path(ctx.path))
