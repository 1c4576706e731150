"""`bex lsp`: findings in the editor as you type, with explanations and fixes.

Modelled on ruff's server: each diagnostic carries the rule code and a link to its
documentation; hover shows the rule's explanation; quick fixes come from the
finding's fix (safe ones preferred), an "Ignore for this line" action writes a
`# bex: ignore[slug]` comment, and `source.fixAll.bex` applies every safe fix.
The project model stays warm (warm.py): a keystroke re-checks one document.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from backend_expert import __version__, lsp_watch
from backend_expert.engine import run_sources
from backend_expert.findings import Applicability, Finding, Severity
from backend_expert.ignore_comment import ignore_edit
from backend_expert.rules import rule_by_id
from backend_expert.warm import Workspace

FIX_ALL = "source.fixAll.bex"
SEVERITY = {
    Severity.ERROR: lsp.DiagnosticSeverity.Error,
    Severity.WARNING: lsp.DiagnosticSeverity.Warning,
    Severity.INFO: lsp.DiagnosticSeverity.Information,
}
DEBOUNCE_SECONDS = 0.1  # typing: check once the keystrokes pause
_CODE_WORD = re.compile(r"BEX\d{3}|[a-z][a-z0-9]*(?:-[a-z0-9]+)+")

log = logging.getLogger("bex.lsp")


class BexLanguageServer(LanguageServer):
    """Keeps the warm projects and the latest findings of every open document."""

    def __init__(self, *, use_cache: bool = True) -> None:
        super().__init__("bex", __version__)
        self.projects = Workspace(use_cache=use_cache)
        self.findings: dict[str, list[Finding]] = {}
        self.generation: dict[str, int] = {}

    def _target(self, uri: str):
        """(warm project, relative path) for a file bex should check, else (None, None)."""
        path = to_fs_path(uri)
        if path is None or not path.endswith((".py", ".pyi")):
            return None, None
        project = self.projects.project_for(Path(path))
        rel = project.relative(Path(path))
        if rel is None or project.excluded(Path(path)):
            return None, None
        return project, rel

    async def build_with_progress(self, uri: str) -> None:
        """Build a project's model on first use, showing progress when the client can."""
        path = to_fs_path(uri)
        if path is None or self.projects.known(Path(path)):
            return
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            return  # built by the check itself
        token = f"bex-model-{uuid.uuid4()}"
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client declined: build without progress
            return
        title = "bex: building the project model"
        self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title))
        await asyncio.sleep(0)  # let the notification go out before the work
        try:
            project = self.projects.project_for(Path(path))
            message = f"{len(project.facts)} modules"
        except Exception as error:  # reported when the document is checked
            message = f"failed: {error}"
        self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=message))

    def check_document(self, uri: str, *, project_level: bool = True) -> list[Finding]:
        document = self.workspace.get_text_document(uri)
        findings: list[Finding] = []
        if to_fs_path(uri) is None:  # an unsaved buffer: checked on its own
            if document.language_id in (None, "python"):
                found = run_sources({"untitled.py": document.source}).findings
                findings = [f for f in found if f.path == "untitled.py"]
        else:
            project, rel = self._target(uri)
            if project is not None:
                findings = project.check_text(rel, document.source, project_level=project_level)
        self.findings[uri] = findings
        return findings

    def publish(self, uri: str, *, project_level: bool = True) -> None:
        try:
            findings = self.check_document(uri, project_level=project_level)
        except Exception:  # never take the editor down: say it in the log, clear the document
            log.exception("bex could not check %s", uri)
            findings = []
        document = self.workspace.get_text_document(uri)
        diagnostics = [self.diagnostic(document.lines, f) for f in findings]
        params = lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=diagnostics, version=document.version
        )
        self.text_document_publish_diagnostics(params)

    # --- conversions -------------------------------------------------------------------------

    def position(self, lines, line: int, column: int) -> lsp.Position:
        """1-based line and character column to the client's position units."""
        codec = self.workspace.position_codec
        return codec.position_to_client_units(
            lines, lsp.Position(max(line - 1, 0), max(column - 1, 0))
        )

    def range_of(self, lines, finding: Finding) -> lsp.Range:
        return lsp.Range(
            start=self.position(lines, finding.line, finding.column),
            end=self.position(lines, finding.end_line, finding.end_column),
        )

    def diagnostic(self, lines, finding: Finding) -> lsp.Diagnostic:
        return lsp.Diagnostic(
            range=self.range_of(lines, finding),
            message=finding.message,
            severity=SEVERITY[finding.severity],
            code=finding.code,
            code_description=lsp.CodeDescription(href=finding.docs) if finding.docs else None,
            source="bex",
            data={"slug": finding.slug, "fixable": finding.fix is not None},
        )


def _overlaps(finding: Finding, server_range) -> bool:
    """Whether a finding's lines meet the (0-based) range the client asks about."""
    return (
        finding.line - 1 <= server_range.end.line
        and finding.end_line - 1 >= server_range.start.line
    )


def _covers(finding: Finding, line: int, character: int) -> bool:
    start, end = (
        (finding.line - 1, finding.column - 1),
        (finding.end_line - 1, finding.end_column - 1),
    )
    return start <= (line, character) <= end


def _word_at(line: str, character: int) -> str | None:
    for match in _CODE_WORD.finditer(line):
        if match.start() <= character <= match.end():
            return match.group()
    return None


def hover(ls: BexLanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    """The explanation of the rule under the cursor: a finding's, or a code in a comment."""
    from backend_expert.explain import explain

    server = ls
    document = server.workspace.get_text_document(params.text_document.uri)
    lines = document.lines
    where = server.workspace.position_codec.position_from_client_units(lines, params.position)
    rule = None
    for finding in server.findings.get(params.text_document.uri, ()):
        if _covers(finding, where.line, where.character):
            rule = rule_by_id(finding.code)
            break
    if rule is None and where.line < len(lines):
        text = lines[where.line]
        hash_at = text.find("#")
        if 0 <= hash_at <= where.character:
            word = _word_at(text, where.character)
            rule = rule_by_id(word) if word else None
    if rule is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=explain(rule)))


def _text_edits(server: BexLanguageServer, lines, finding: Finding) -> list[lsp.TextEdit]:
    assert finding.fix is not None
    return [
        lsp.TextEdit(
            range=lsp.Range(
                start=server.position(lines, edit.line, edit.column),
                end=server.position(lines, edit.end_line, edit.end_column),
            ),
            new_text=edit.content,
        )
        for edit in finding.fix.edits
    ]


def _quick_fixes(server, uri: str, lines, finding: Finding, diagnostic) -> list[lsp.CodeAction]:
    actions = []
    fix = finding.fix
    if fix is not None and fix.applicability is not Applicability.DISPLAY:
        safe = fix.applicability is Applicability.SAFE
        actions.append(
            lsp.CodeAction(
                title=f"bex: {fix.message}" + ("" if safe else " (unsafe)"),
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                is_preferred=safe,
                edit=lsp.WorkspaceEdit(changes={uri: _text_edits(server, lines, finding)}),
            )
        )
    change = ignore_edit("".join(lines), finding)
    if change is not None:
        number, old, new = change
        row = number - 1
        end = server.position(lines, number, len(old) + 1)
        edit = lsp.TextEdit(range=lsp.Range(start=lsp.Position(row, 0), end=end), new_text=new)
        actions.append(
            lsp.CodeAction(
                title=f"bex: Ignore {finding.code} for this line",
                kind=lsp.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=lsp.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return actions


def _wants(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def fix_all_action(server: BexLanguageServer, uri: str) -> lsp.CodeAction | None:
    """Every safe fix of the document in one edit (the fix engine resolves overlaps)."""
    try:
        from backend_expert.fixes import fix_text
    except ImportError:  # the fix engine is not part of this build
        return None
    document = server.workspace.get_text_document(uri)
    findings = server.findings.get(uri)
    if findings is None:
        findings = server.check_document(uri)
    if not any(f.fix is not None for f in findings):
        return None
    project, rel = server._target(uri)
    if project is None:
        outcome = fix_text("untitled.py", document.source, findings)
    else:  # later rounds are checked against the project's model, like the first

        def recheck(text: str) -> list[Finding]:
            return project.check_text(rel, text, update=False)

        outcome = fix_text(rel, document.source, findings, recheck=recheck)
    if not outcome.applied or outcome.text == document.source:
        return None
    lines = document.lines
    end = server.position(lines, len(lines) + 1, 1)
    if lines and not lines[-1].endswith(("\n", "\r")):
        end = server.position(lines, len(lines), len(lines[-1]) + 1)
    whole = lsp.Range(start=lsp.Position(0, 0), end=end)
    return lsp.CodeAction(
        title="bex: Fix all safe fixes",
        kind=FIX_ALL,
        edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=whole, new_text=outcome.text)]}),
    )


def code_actions(ls: BexLanguageServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    server = ls
    uri = params.text_document.uri
    only = [
        str(kind.value if hasattr(kind, "value") else kind) for kind in params.context.only or ()
    ]
    only_or_none = only or None
    actions: list[lsp.CodeAction] = []
    document = server.workspace.get_text_document(uri)
    lines = document.lines
    if _wants(only_or_none, lsp.CodeActionKind.QuickFix.value):
        wanted = server.workspace.position_codec.range_from_client_units(lines, params.range)
        for finding in server.findings.get(uri, ()):
            if _overlaps(finding, wanted):
                diagnostic = server.diagnostic(lines, finding)
                actions.extend(_quick_fixes(server, uri, lines, finding, diagnostic))
    if only and _wants(only, FIX_ALL):  # asked for (on save, or the source-action menu) only:
        # the fix engine re-checks the file per round, too much for every cursor move
        action = fix_all_action(server, uri)
        if action is not None:
            actions.append(action)
    return actions


def create_server(*, use_cache: bool = True) -> BexLanguageServer:
    server = BexLanguageServer(use_cache=use_cache)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: BexLanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        await ls.build_with_progress(uri)
        ls.publish(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls: BexLanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        generation = ls.generation[uri] = ls.generation.get(uri, 0) + 1
        await asyncio.sleep(DEBOUNCE_SECONDS)
        if ls.generation.get(uri) == generation:  # no newer change arrived meanwhile
            ls.publish(uri, project_level=False)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: BexLanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        project, _ = ls._target(uri)
        model = project.project if project is not None else None
        ls.publish(uri)
        if project is not None and project.project is not model:  # other documents may care
            for other in list(ls.workspace.text_documents):
                if other != uri and ls._target(other)[0] is project:
                    ls.publish(other, project_level=False)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: BexLanguageServer, params: lsp.InitializedParams) -> None:
        lsp_watch.register(ls)

    server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)(lsp_watch.changed)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BexLanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.findings.pop(uri, None)
        path = to_fs_path(uri)
        if path is not None and path.endswith((".py", ".pyi")):
            project = ls.projects.project_for(Path(path))
            rel = project.relative(Path(path))
            if rel is not None:
                project.reload(rel)  # the file on disk is the truth again
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    server.feature(lsp.TEXT_DOCUMENT_HOVER)(hover)
    server.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL]),
    )(code_actions)
    return server


def serve(*, use_cache: bool = True) -> None:
    """Speak LSP over stdin/stdout (stdout is the wire: logs go to stderr)."""
    logging.basicConfig(level=logging.WARNING, format="bex lsp: %(message)s")
    create_server(use_cache=use_cache).start_io()
