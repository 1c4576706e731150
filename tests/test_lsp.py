"""`bex lsp` driven by a real LSP client over stdio, as an editor would drive it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as lsp
from pytest_lsp import client_capabilities
from pytest_lsp.client import make_test_lsp_client

from backend_expert.rules import rule_by_id
from backend_expert.rules.base import MARKER

pytestmark = pytest.mark.slow


def _blog_project(write_project) -> Path:
    """The Django example of BEX403 (models in one file, the view in another)."""
    rule = rule_by_id("BEX403")
    files = {path: text.replace(f"  {MARKER}", "") for path, text in rule.fire[0].sources().items()}
    return write_project(
        files, pyproject="[project]\nname = 'blog'\ndependencies = ['django>=5']\n"
    )


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply single-line (or whole-line) edits, last first (the test's files are ASCII)."""
    lines = [*text.splitlines(keepends=True), ""]
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = edit.range.start, edit.range.end
        head = "".join(lines[: start.line]) + lines[start.line][: start.character]
        tail = lines[end.line][end.character :] + "".join(lines[end.line + 1 :])
        text = head + edit.new_text + tail
        lines = [*text.splitlines(keepends=True), ""]
    return text


def _ours(diagnostics) -> list[lsp.Diagnostic]:
    """The diagnostics of the rule under test (other rules may speak of the same lines)."""
    return [d for d in diagnostics if d.code == "BEX403"]


async def _session(root: Path) -> None:
    client = make_test_lsp_client()
    registered: list[str] = []

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(params: lsp.RegistrationParams) -> None:
        registered.extend(r.method for r in params.registrations)

    await client.start_io(
        sys.executable, "-m", "backend_expert", "lsp", "--no-cache", cwd=str(root)
    )
    try:
        await client.initialize_session(
            lsp.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root.as_uri(),
                workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name="blog")],
            )
        )
        views = root / "blog" / "views.py"
        uri, text = views.as_uri(), views.read_text()
        client.text_document_did_open(
            lsp.DidOpenTextDocumentParams(
                text_document=lsp.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=text
                )
            )
        )
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        diagnostics = _ours(client.diagnostics[uri])
        [reports] = client.progress_reports.values()  # the model was built with progress shown
        assert [type(r).__name__ for r in reports] == [
            "WorkDoneProgressBegin",
            "WorkDoneProgressEnd",
        ]
        assert reports[-1].message == "3 modules"
        assert sorted(d.range.start.line for d in diagnostics) == [4, 6, 8]
        first = min(diagnostics, key=lambda d: d.range.start.line)
        assert (first.code, first.source) == ("BEX403", "bex")
        assert first.severity == lsp.DiagnosticSeverity.Warning
        assert first.code_description.href.endswith("#django-queryset-len")
        assert "counted" in first.message or "count" in first.message

        hover = await client.text_document_hover_async(
            lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri), position=first.range.start
            )
        )
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert hover.contents.value.startswith("# BEX403 `django-queryset-len`")

        actions = await client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=first.range,
                context=lsp.CodeActionContext(diagnostics=[first]),
            )
        )
        titles = [action.title for action in actions]
        assert {action.kind for action in actions} == {lsp.CodeActionKind.QuickFix}
        [quick_fix] = [a for a in actions if a.is_preferred]
        assert quick_fix.kind == lsp.CodeActionKind.QuickFix
        fixed = _apply(text, quick_fix.edit.changes[uri])
        assert 'Post.objects.filter(author=author, status="published").count()' in fixed
        assert "bex: Ignore BEX403 for this line" in titles

        [fix_all] = await client.text_document_code_action_async(
            lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(start=lsp.Position(0, 0), end=lsp.Position(0, 0)),
                context=lsp.CodeActionContext(
                    diagnostics=[], only=[lsp.CodeActionKind.SourceFixAll]
                ),
            )
        )
        assert fix_all.kind == "source.fixAll.bex"
        all_fixed = _apply(text, fix_all.edit.changes[uri])
        assert all_fixed.count(".exists()") == 2 and ".count()" in all_fixed
        assert "len(" not in all_fixed

        ignore = next(a for a in actions if a.title == "bex: Ignore BEX403 for this line")
        ignored = _apply(text, ignore.edit.changes[uri])
        assert ignored.splitlines()[4].endswith("  # bex: ignore[django-queryset-len]")
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=ignored)],
            )
        )
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert sorted(d.range.start.line for d in _ours(client.diagnostics[uri])) == [6, 8]

        assert registered == [lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        # Another tool deletes the models: the view's querysets are no longer known ones.
        models = root / "blog" / "models.py"
        models.unlink()
        client.workspace_did_change_watched_files(
            lsp.DidChangeWatchedFilesParams(
                changes=[lsp.FileEvent(uri=models.as_uri(), type=lsp.FileChangeType.Deleted)]
            )
        )
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert not _ours(client.diagnostics[uri])
        await client.shutdown_session()
    finally:
        server = client._server  # a failed assertion must not leave the server running
        if server is not None and server.returncode is None:
            server.kill()
        await client.stop()


def test_lsp_session_over_stdio(write_project):
    asyncio.run(asyncio.wait_for(_session(_blog_project(write_project)), timeout=60))
