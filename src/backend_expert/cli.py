"""The `bex` command, shaped like ruff's: `bex check`, `bex rules`, `bex explain`.

Exit codes: 0 nothing found, 1 findings, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import traceback
from collections import Counter
from pathlib import Path

import click

from backend_expert import __version__
from backend_expert.advise import SCENARIOS
from backend_expert.config import Config, ConfigError, Selection, load_config, validate_selector
from backend_expert.findings import Confidence

FORMAT_NAMES = ("text", "concise", "json", "sarif", "github", "gitlab", "junit", "markdown")
SCENARIO_KEYS = [scenario.key for scenario in SCENARIOS]


def _selectors(values: tuple[str, ...], option: str) -> tuple[str, ...]:
    items = [item.strip() for value in values for item in value.split(",") if item.strip()]
    return tuple(validate_selector(item, f"--{option}") for item in items)


def _use_color() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


class _Group(click.Group):
    """Turns configuration errors and crashes into clear messages with exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"bex: error: {error}", err=True)
            sys.exit(2)
        except (
            click.exceptions.Exit,
            click.ClickException,
            click.Abort,
            SystemExit,
            KeyboardInterrupt,
        ):
            raise
        except Exception:
            click.echo("bex: internal error (please report it):", err=True)
            click.echo(traceback.format_exc(), err=True)
            sys.exit(2)


_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Read settings from this bex.toml or pyproject.toml.",
)

_jobs_option = click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes that check files, this one included (default: one per core).",
)
_no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Ignore and do not write the cache."
)


def _project_config(targets: list[Path], config_path: Path | None) -> tuple[Path, Config]:
    """The project root of the first target and its settings (or those of --config)."""
    from backend_expert.discover import find_root

    if config_path is not None and not config_path.is_file():
        raise ConfigError(f"--config {config_path}: no such file")
    root = find_root(Path(os.path.abspath(targets[0])))
    return root, load_config(root, config_path)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="bex")
def main() -> None:
    """bex: the Python backend expert.

    Reviews Django, DRF, FastAPI, Flask, SQLAlchemy, Pydantic and asyncio code
    with a model of the whole project, and explains every finding.

    \b
    Start with:
      bex check .              review the project in the current directory
      bex rules                list what bex knows
      bex explain BEX601       read why a finding matters and what to do
    """


def entry() -> None:
    """The console script: `main`, then a hard exit once the output is flushed.

    A run leaves a project model of a few hundred thousand objects behind; freeing them
    one by one at interpreter shutdown costs about 0.3 s on a large project, for nothing.
    For the same reason the cycle collector stays off: after a large check its first pass
    would take 0.1 s to find garbage the exit drops anyway. The servers turn it back on.
    """
    gc.disable()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if not isinstance(done.code, int | None):
            print(done.code, file=sys.stderr)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`bex check | head`): nothing left to save.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--select",
    multiple=True,
    metavar="RULES",
    help="Check only these rules: codes (BEX601), code prefixes (BEX6), slugs (async-blocking-call) or packs (fastapi). Comma-separated; replaces the configured selection.",
)
@click.option(
    "--extend-select", multiple=True, metavar="RULES", help="Add rules to the configured selection."
)
@click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rules.")
@click.option(
    "--output-format",
    type=click.Choice(FORMAT_NAMES),
    default="text",
    show_default=True,
    help="How to print the findings.",
)
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings.")
@click.option(
    "--statistics",
    is_flag=True,
    help="Print the number of findings per rule instead of the findings.",
)
@click.option(
    "--min-confidence",
    type=click.Choice([c.value for c in Confidence]),
    default=None,
    help="Hide findings bex is less sure of than this.",
)
@_no_cache_option
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the cache lives (default: .bex_cache in the project root).",
)
@_config_option
@_jobs_option
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no warnings.")
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Report only findings this baseline file does not list (default: .bex-baseline.json in the project root, when present).",
)
@click.option("--no-baseline", is_flag=True, help="Report every finding, ignoring the baseline.")
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Apply exclude/extend-exclude to files named on the command line too (for pre-commit).",
)
@click.option(
    "--show-suppressed",
    is_flag=True,
    help="Also list the findings silenced by comments or per-file-ignores, with their reasons.",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes, then report what remains.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Also apply (with --fix) or count (without) fixes that may change behaviour.",
)
@click.option(
    "--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them."
)
@click.option("--fix-only", is_flag=True, help="Apply the fixes and report nothing else (exit 0).")
def check(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    exit_zero: bool,
    statistics: bool,
    min_confidence: str | None,
    no_cache: bool,
    cache_dir: Path | None,
    config_path: Path | None,
    jobs: int | None,
    quiet: bool,
    baseline_path: Path | None = None,
    no_baseline: bool = False,
    show_suppressed: bool = False,
    force_exclude: bool = False,
    fix: bool = False,
    unsafe_fixes: bool = False,
    diff: bool = False,
    fix_only: bool = False,
) -> None:
    """Review PATHS (files or directories; default: the current directory)."""
    from backend_expert.engine import run
    from backend_expert.report import formatter

    targets = list(paths) or [Path(".")]
    root, config = _project_config(targets, config_path)
    if select or extend_select or ignore:
        config.layers.append(
            Selection(
                select=_selectors(select, "select") or None,
                extend_select=_selectors(extend_select, "extend-select"),
                ignore=_selectors(ignore, "ignore"),
            )
        )
    if min_confidence:
        config.min_confidence = Confidence(min_confidence)
    if force_exclude and paths:
        from backend_expert.discover import is_excluded

        targets = [target for target in targets if not is_excluded(target, config)]
        if not targets:
            sys.exit(0)  # every file named is excluded: nothing to check
    result = run(targets, config, use_cache=not no_cache, cache_dir=cache_dir, jobs=jobs)
    fixed = None
    if fix or fix_only or diff:
        from backend_expert.fix_cli import apply_fixes

        fixed, result = apply_fixes(
            result,
            config,
            unsafe=unsafe_fixes,
            diff=diff,
            fix_only=fix_only,
            quiet=quiet,
            rerun=lambda: run(
                targets, config, use_cache=not no_cache, cache_dir=cache_dir, jobs=jobs
            ),
        )
    if not no_baseline:
        from backend_expert.baseline import apply, default_path

        apply(result, baseline_path or default_path(root), required=baseline_path is not None)
    if not quiet:
        for warning in result.warnings:
            click.echo(f"bex: warning: {warning}", err=True)
        if result.baselined and (statistics or output_format != "text"):
            click.echo(f"bex: {result.baselined} findings in the baseline not shown", err=True)
    if statistics:
        click.echo(_statistics(result.findings), nl=False)
    elif output_format == "sarif" and show_suppressed:
        from backend_expert.report.sarif import render_with_suppressed

        click.echo(render_with_suppressed(result), nl=False)
    else:
        click.echo(
            formatter(output_format)(result, _use_color() and output_format == "text"), nl=False
        )
        if show_suppressed:
            from backend_expert.report.suppressed import render as suppressed

            click.echo(suppressed(result), nl=False, err=output_format not in ("text", "concise"))
        if output_format == "text" and not quiet:
            from backend_expert.report.text import summary

            click.echo(summary(result, unsafe=unsafe_fixes, fixed=fixed))
    sys.exit(0 if exit_zero or not result.findings else 1)


def _statistics(findings) -> str:
    counts = Counter((f.code, f.slug) for f in findings)
    fixable = Counter(f.code for f in findings if f.fix is not None)
    lines = []
    for (code, slug), count in counts.most_common():
        mark = "[*]" if fixable[code] else "[ ]"
        lines.append(f"{count:>6}  {code:<7} {mark} {slug}")
    return "\n".join(lines) + ("\n" if lines else "")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--update",
    is_flag=True,
    help="Only drop entries whose finding is gone; never add new findings.",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The baseline file (default: .bex-baseline.json in the project root).",
)
@_config_option
@_no_cache_option
def baseline(
    paths: tuple[Path, ...],
    update: bool,
    baseline_path: Path | None,
    config_path: Path | None,
    no_cache: bool,
) -> None:
    """Accept the current findings of PATHS: `bex check` then reports only new ones."""
    from backend_expert.baseline import command

    targets = list(paths) or [Path(".")]
    _, config = _project_config(targets, config_path)
    click.echo(command(targets, config, baseline_path, update, use_cache=not no_cache), nl=False)


@main.command()
@click.option(
    "--pack", multiple=True, help="Only rules of this pack (fastapi, django, security, ...)."
)
@click.option(
    "--output-format",
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
def rules(pack: tuple[str, ...], output_format: str) -> None:
    """List every rule bex knows, with its code, slug, pack, severity and fix."""
    from backend_expert.explain import rules_json, rules_markdown, rules_text
    from backend_expert.rules import PACKS, all_rules

    unknown = [p for p in pack if p not in PACKS.values()]
    if unknown:
        packs = ", ".join(sorted(set(PACKS.values())))
        raise ConfigError(f"unknown pack {unknown[0]!r}; packs are: {packs}")
    selected = [rule for rule in all_rules() if not pack or rule.pack in pack]
    render = {"json": rules_json, "markdown": rules_markdown, "text": rules_text}[output_format]
    click.echo(render(selected), nl=False)


@main.command()
@click.argument("rule_id", metavar="SLUG|CODE", required=False)
@click.option(
    "--all", "everything", is_flag=True, help="Explain every rule (Markdown, as in docs/rules.md)."
)
def explain(rule_id: str | None, everything: bool) -> None:
    """Explain a rule: what it flags, why, an example, what to write instead."""
    from backend_expert.explain import explain as render
    from backend_expert.explain import explain_all
    from backend_expert.rules import rule_by_id

    if everything:
        click.echo(explain_all(), nl=False)
        return
    if rule_id is None:
        raise click.UsageError("give a rule code or slug (see `bex rules`), or --all")
    rule = rule_by_id(rule_id)
    if rule is None:
        validate_selector(rule_id, "bex explain")  # raises with suggestions
        raise ConfigError(f"{rule_id!r} names a group of rules, not one rule; see `bex rules`")
    text = render(rule)
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text, nl=False)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
    help="Markdown (the seeds' report sections) or one self-contained HTML page with charts.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@_no_cache_option
@_jobs_option
def review(
    path: Path | None, output_format: str, output: Path | None, no_cache: bool, jobs: int | None
) -> None:
    """Write the expert's review of PATH (default: the current directory).

    Runs every rule, builds the project model (layers, imports, routes, models) and
    reports the stack, the top problems with the code to change, the layering, the
    routes without auth and what to test.
    """
    from backend_expert.review.command import run_review

    text = run_review(path or Path("."), output_format, use_cache=not no_cache, jobs=jobs)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ConfigError(f"cannot write {output}: {error.strerror}") from None
        click.echo(f"bex: review written to {output}", err=True)


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--scenario",
    type=click.Choice(SCENARIO_KEYS),
    default=None,
    help="The decision matrix row that fits the project best.",
)
@click.option(
    "--framework", type=click.Choice(["fastapi", "flask", "django", "none"]), default=None
)
@click.option("--async/--sync", "async_support", default=None, help="Use async/await patterns.")
@click.option(
    "--database",
    type=click.Choice(["postgresql", "mysql", "mongodb", "redis", "sqlite", "none"]),
    default=None,
)
@click.option(
    "--orm",
    type=click.Choice(["sqlalchemy", "django-orm", "tortoise", "mongoengine", "none"]),
    default=None,
)
@click.option(
    "--api-style", type=click.Choice(["rest", "graphql", "grpc", "websocket"]), default=None
)
@click.option(
    "--testing",
    "testing_framework",
    type=click.Choice(["pytest", "unittest", "both"]),
    default=None,
)
@click.option("--no-input", is_flag=True, help="Never ask questions, even on a terminal.")
def advise(path: Path | None, scenario: str | None, no_input: bool, **choices: object) -> None:
    """Recommend a stack (framework, async, database, ORM, API style, tests) with reasons.

    Inside an existing project (PATH, default: the current directory when it holds
    Python code) it also says what the project uses and where it departs from the
    recommendation. Asks for the missing choices when run on a terminal.
    """
    from backend_expert.advise_command import run_advise

    interactive = not no_input and sys.stdin.isatty() and sys.stdout.isatty()
    click.echo(run_advise(path, scenario, choices, interactive), nl=False)


@main.command()
@click.argument("name", required=False)
@click.option("--framework", type=click.Choice(["fastapi", "django", "flask"]))
@click.option("--async/--no-async", "use_async", default=None, help="async views and drivers")
@click.option("--database", type=click.Choice(["sqlite", "postgresql", "mysql"]))
@click.option("--orm", type=click.Choice(["sqlalchemy", "django-orm", "none"]))
@click.option("--api-style", type=click.Choice(["rest", "graphql"]))
@click.option("--testing", type=click.Choice(["pytest"]), default="pytest", show_default=True)
@click.option(
    "-d",
    "--directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to write the project (default: ./NAME).",
)
@click.option(
    "--update",
    "update_path",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Instead of creating, move a project made by `bex new` to this version's template.",
)
def new(name, framework, use_async, database, orm, api_style, testing, directory, update_path):
    """Create a new service that passes its own tests and `bex check`.

    \b
    Defaults follow the decision matrix (`bex new NAME` = FastAPI, async, PostgreSQL,
    SQLAlchemy 2.0, REST, pytest); in a terminal, missing choices are asked for.
    """
    from backend_expert.scaffold.generate import ScaffoldError, generate, update
    from backend_expert.scaffold.prompt import ask_missing

    try:
        if update_path is not None:
            update(update_path)
            click.echo(f"updated {update_path} to the bex {__version__} template")
            return
        if name is None:
            raise click.UsageError("give the new project's NAME (or --update PATH)")
        choices = ask_missing(
            name,
            framework=framework,
            use_async=use_async,
            database=database,
            orm=orm,
            api_style=api_style,
            testing=testing,
            interactive=sys.stdin.isatty() and sys.stdout.isatty(),
        )
        target = generate(choices, directory or Path(name))
    except ScaffoldError as error:
        raise ConfigError(str(error)) from None
    click.echo(f"created {target} ({choices.summary()})")
    click.echo(
        f"next: cd {target} && python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest -q"
    )


def _needs_extra(extra: str, error: ImportError, modules: tuple[str, ...]) -> ConfigError:
    """A clear message when an optional dependency of a command is not installed."""
    missing = (error.name or "").partition(".")[0]
    if missing not in modules:
        raise error
    return ConfigError(
        f"`bex {extra}` needs the optional `{missing}` package: "
        f"pip install 'backend-expert[{extra}]'"
    )


@main.command()
@click.option("--no-cache", is_flag=True, help="Build the project model without the cache.")
def lsp(no_cache: bool) -> None:
    """Run the language server (LSP over stdio) for editors."""
    try:
        from backend_expert.lsp import serve
    except ImportError as error:
        raise _needs_extra("lsp", error, ("pygls", "lsprotocol")) from None
    gc.enable()  # a server lives long: it needs the cycle collector `entry` turned off
    serve(use_cache=not no_cache)


@main.command("mcp")
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=".",
    show_default=True,
    help="The project root: the only tree the tools may read or write.",
)
@click.option("--http", is_flag=True, help="Serve streamable HTTP on 127.0.0.1 instead of stdio.")
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
def mcp_command(root: Path, http: bool, port: int) -> None:
    """Run the MCP server (tools for coding agents) over stdio, or HTTP on loopback."""
    try:
        from backend_expert.mcp_server import serve
    except ImportError as error:
        raise _needs_extra("mcp", error, ("mcp", "pydantic")) from None
    gc.enable()  # a server lives long: it needs the cycle collector `entry` turned off
    serve(root, http=http, port=port)


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    default=".",
    show_default=True,
    help="The project to write .claude/skills/bex-review/SKILL.md and .claude/agents/bex-reviewer.md in.",
)
@click.option("--force", is_flag=True, help="Replace the files if they exist.")
def skill(directory: Path, force: bool) -> None:
    """Write an agent skill and a reviewer agent that teach coding agents to use bex."""
    from backend_expert.skill import write_skill

    for path in write_skill(directory, main, force=force):
        click.echo(f"wrote {path}")
