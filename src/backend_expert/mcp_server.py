"""`bex mcp`: bex's review as tools a coding agent calls (Model Context Protocol).

Tools: check code (inline content under a virtual filename, or paths), explain a
rule, list rules, propose fixes as a unified diff (written only on request), and
review the project. Everything is confined to one root (see mcp_guard.py).
Under stdio, stdout is the protocol: nothing else may print there.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from backend_expert import __version__
from backend_expert.config import load_config
from backend_expert.findings import Finding
from backend_expert.mcp_guard import (
    Refused,
    check_content,
    check_paths,
    inside_only,
    real_root,
    resolve,
    virtual_name,
)
from backend_expert.mcp_models import (
    CheckResult,
    FileFix,
    FindingOut,
    FixProposal,
    ReviewResult,
    RuleExplanation,
    RuleInfo,
    RuleList,
)

INSTRUCTIONS = (
    "bex reviews Python backend code (Django, DRF, FastAPI, Flask, SQLAlchemy, Pydantic, "
    "asyncio) with a model of the whole project. Call `check` on the code you are about to "
    "change and again after changing it; call `explain_rule` for any finding you do not "
    "understand; `propose_fixes` returns a diff of the fixes bex is sure of."
)
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)


class BexTools:
    """The tools' behaviour, independent of the transport (and testable without one)."""

    def __init__(self, root: Path) -> None:
        self.root = real_root(root)
        self._warm = None
        self._lock = threading.Lock()

    def _config(self):
        config = load_config(self.root)
        config.root = self.root
        return config

    def _warm_project(self):
        from backend_expert.warm import WarmProject

        if self._warm is None:
            self._warm = WarmProject(self.root)
        return self._warm

    def _findings(
        self, content: str | None, filename: str, paths: list[str] | None
    ) -> tuple[list[Finding], int, list[str]]:
        """(findings, files checked, warnings) for inline content or paths."""
        if content is not None and paths:
            raise Refused("give `content` (with a `filename`) or `paths`, not both")
        if content is not None:
            check_content(content)
            rel = virtual_name(filename)
            with self._lock:
                findings = self._warm_project().check_text(rel, content, update=False)
            return findings, 1, []
        from backend_expert.discover import discover
        from backend_expert.engine import run

        targets = check_paths(self.root, paths or ["."])
        config = self._config()
        files, skipped = inside_only(self.root, discover(targets, config).files)
        if not files:
            return [], 0, skipped
        result = run(files, config)
        return result.findings, result.files, [*skipped, *result.warnings]

    def check(
        self,
        content: str | None = None,
        filename: str = "snippet.py",
        paths: list[str] | None = None,
        select: list[str] | None = None,
    ) -> CheckResult:
        findings, files, warnings = self._findings(content, filename, paths)
        if select:
            findings = _selected(findings, select)
        counts = Counter(f.severity.value for f in findings)
        return CheckResult(
            findings=[FindingOut.of(f) for f in findings],
            files_checked=files,
            counts=dict(counts),
            warnings=warnings,
        )

    def explain_rule(self, rule: str) -> RuleExplanation:
        from backend_expert.explain import explain
        from backend_expert.rules import rule_by_id

        found = rule_by_id(rule.strip())
        if found is None:
            raise Refused(f"no rule {rule!r}; call list_rules for the codes and slugs bex knows")
        return RuleExplanation(rule=RuleInfo.of(found), markdown=explain(found))

    def list_rules(self, pack: str | None = None) -> RuleList:
        from backend_expert.rules import PACKS, all_rules

        if pack and pack not in PACKS.values():
            raise Refused(
                f"unknown pack {pack!r}; packs are: {', '.join(sorted(set(PACKS.values())))}"
            )
        rules = [RuleInfo.of(rule) for rule in all_rules() if not pack or rule.pack == pack]
        return RuleList(rules=rules, count=len(rules))

    def propose_fixes(
        self,
        content: str | None = None,
        filename: str = "snippet.py",
        paths: list[str] | None = None,
        unsafe: bool = False,
        write: bool = False,
    ) -> FixProposal:
        try:
            from backend_expert import fix_files
            from backend_expert.fixes import applicable, fix_text
        except ImportError:
            raise Refused("this build of bex has no fix engine") from None
        if write and content is not None:
            raise Refused("write applies to paths only; inline content has no file to write")
        findings, _, _ = self._findings(content, filename, paths)
        by_path: dict[str, list[Finding]] = {}
        for finding in findings:
            by_path.setdefault(finding.path, []).append(finding)
        diff, files, remaining, errors = [], [], [], []
        for rel, found in sorted(by_path.items()):
            if not any(applicable(f.fix, unsafe) for f in found):
                remaining.extend(found)
                continue
            if content is not None:
                outcome = fix_text(rel, content, found, unsafe=unsafe, recheck=self._recheck(rel))
            else:  # read, fixed, verified and (when asked) written as `bex check --fix` does
                item = fix_files.fix_file(
                    resolve(self.root, rel), rel, self._recheck(rel), unsafe, write
                )
                if item.outcome is None or item.error:
                    errors.append(f"{rel}: not fixed: {item.error}")
                    remaining.extend(found)
                    continue
                outcome = item.outcome
            remaining.extend(outcome.remaining)
            if outcome.changed:
                diff.append(fix_files.unified_diff(rel, outcome.original, outcome.text))
                files.append(
                    FileFix(path=rel, applied=len(outcome.applied), failed=len(outcome.failed))
                )
        return FixProposal(
            diff="".join(diff),
            files=files,
            written=write and bool(files),
            remaining=[FindingOut.of(f) for f in remaining],
            warnings=errors,
        )

    def _recheck(self, rel: str):
        def recheck(text: str) -> list[Finding]:
            with self._lock:
                return self._warm_project().check_text(rel, text, update=False)

        return recheck

    def review_project(self) -> ReviewResult:
        from backend_expert.engine import run

        result = run([self.root], self._config())
        files = sorted({self.root / f.path for f in result.findings})
        kept, skipped = inside_only(self.root, files)
        inside = {path.relative_to(self.root).as_posix() for path in kept}
        findings = [f for f in result.findings if f.path in inside or f.path == "."]
        rank = {"error": 0, "warning": 1, "info": 2}
        top = sorted(
            findings, key=lambda f: (rank[f.severity.value], -f.confidence.rank, f.sort_key)
        )
        return ReviewResult(
            root=str(self.root),
            files=result.files,
            frameworks=sorted(result.project.frameworks),
            findings_by_pack=dict(Counter(f.pack for f in findings)),
            findings_by_severity=dict(Counter(f.severity.value for f in findings)),
            findings_by_rule=dict(Counter(f"{f.code} {f.slug}" for f in findings).most_common()),
            top_findings=[FindingOut.of(f) for f in top[:20]],
            report=_architecture_report(self.root),
            warnings=[*skipped, *result.warnings],
        )


def _selected(findings: list[Finding], selectors: list[str]) -> list[Finding]:
    """The findings of the selected rules (validated as `--select` is: typos are refused)."""
    from backend_expert.config import ConfigError, validate_selector
    from backend_expert.suppress import _selects

    try:
        chosen = [validate_selector(item.strip(), "select") for item in selectors if item.strip()]
    except ConfigError as error:
        raise Refused(str(error)) from None
    return [f for f in findings if any(_selects(s, f) for s in chosen)]


def _architecture_report(root: Path) -> str:
    """`bex review`'s Markdown report, when this build has the review package."""
    try:
        from backend_expert.review.command import run_review
    except ImportError:
        return ""
    try:
        return run_review(root, "markdown")
    except Exception as error:  # the summary above still stands
        return f"(the architecture review failed: {type(error).__name__}: {error})"


def _call(method, *args):
    """Run a tool; a refusal or a configuration error becomes a tool error the agent reads."""
    from backend_expert.config import ConfigError

    try:
        return method(*args)
    except (Refused, ConfigError) as refusal:
        raise ToolError(str(refusal)) from None


def create_server(root: Path) -> MCPServer:
    tools = BexTools(root)
    server = MCPServer("bex", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=READ_ONLY)
    def check(
        content: str | None = None,
        filename: str = "snippet.py",
        paths: list[str] | None = None,
        select: list[str] | None = None,
    ) -> CheckResult:
        """Review Python code with bex. Give `content` (the code) with a `filename` relative to
        the project root (it is checked as if it were that file, with the project's model), or
        `paths` (files or directories under the root; default: the whole project). `select`
        keeps only some rules: codes (BEX601), code prefixes (BEX6), slugs or packs (django)."""
        return _call(tools.check, content, filename, paths, select)

    @server.tool(annotations=READ_ONLY)
    def explain_rule(rule: str) -> RuleExplanation:
        """Explain a bex rule (code like BEX601, or slug): what it flags, why, and what to write instead."""
        return _call(tools.explain_rule, rule)

    @server.tool(annotations=READ_ONLY)
    def list_rules(pack: str | None = None) -> RuleList:
        """List bex's rules (optionally of one pack: fastapi, django, sqlalchemy, security, ...)."""
        return _call(tools.list_rules, pack)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=True, idempotent_hint=True
        )
    )
    def propose_fixes(
        content: str | None = None,
        filename: str = "snippet.py",
        paths: list[str] | None = None,
        unsafe: bool = False,
        write: bool = False,
    ) -> FixProposal:
        """Propose bex's fixes as a unified diff, for `content` or `paths` (as in `check`).
        Safe fixes only unless `unsafe`; files are changed only when `write` is true."""
        return _call(tools.propose_fixes, content, filename, paths, unsafe, write)

    @server.tool(annotations=READ_ONLY)
    def review_project() -> ReviewResult:
        """Review the whole project: frameworks found, findings by pack, severity and rule, the most
        important findings, and the architecture report when available."""
        return _call(tools.review_project)

    return server


def serve(root: Path, *, http: bool = False, port: int = 8765) -> None:
    server = create_server(root)
    if http:
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
