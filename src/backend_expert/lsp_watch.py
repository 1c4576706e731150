"""Keep the warm model true to the disk: files changed outside the editor.

A `git checkout`, a code generator or another tool changes files the editor has
not opened. The server asks the client to watch Python files and bex's
configuration; a changed file's facts are read again, a changed configuration
drops the project (it is rebuilt on next use), and the open documents are
checked again against the new model.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from backend_expert.discover import find_root

if TYPE_CHECKING:
    from backend_expert.lsp import BexLanguageServer

CONFIG_FILES = ("pyproject.toml", "bex.toml")
GLOBS = ("**/*.py", "**/*.pyi", *(f"**/{name}" for name in CONFIG_FILES))

log = logging.getLogger("bex.lsp")


def register(server: BexLanguageServer) -> None:
    """Ask the client to report changes to Python files and configuration, if it can."""
    workspace = server.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = lsp.DidChangeWatchedFilesRegistrationOptions(
        watchers=[lsp.FileSystemWatcher(glob_pattern=glob) for glob in GLOBS]
    )
    registration = lsp.Registration(
        id="bex-watched-files",
        method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    server.client_register_capability(lsp.RegistrationParams(registrations=[registration]))


def changed(ls: BexLanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """Bring the models up to date with the disk, then re-check the open documents.

    (pygls passes the server to a handler whose first parameter is named `ls`.)
    """
    server = ls
    open_documents = set(server.workspace.text_documents)
    touched = False
    for event in params.changes:
        path = to_fs_path(event.uri)
        if path is None or event.uri in open_documents:  # an open buffer is the truth
            continue
        touched |= _apply(server, Path(path), event.type)
    if touched:
        for uri in list(open_documents):
            server.publish(uri)


def _apply(server: BexLanguageServer, path: Path, kind: lsp.FileChangeType) -> bool:
    projects = server.projects.projects
    if path.name in CONFIG_FILES:
        return projects.pop(path.parent, None) is not None  # rebuilt with the new settings
    if path.suffix not in (".py", ".pyi"):
        return False
    project = projects.get(find_root(path))
    if project is None:  # no model built there yet: nothing to update
        return False
    rel = project.relative(path)
    if rel is None or project.excluded(path):
        return False
    if kind == lsp.FileChangeType.Deleted:
        project.files.discard(rel)
        project.update(rel, None)
    else:
        project.files.add(rel)
        project.reload(rel)
    return True
