"""What the fix engine checks and tidies around the rules' own edits.

- Comments: a fix may move a comment but never lose one, unless it says it removes
  comments on purpose (`Fix.removes_comments`, e.g. BEX004's stale suppressions).
- Imports: a fix that replaces the last use of an imported name (`@validator`) declares
  the name in `Fix.unused_imports`; once every fix of the file is in, the names still
  unused are removed from their `from module import ...` line (the whole line when it
  was the only name), as ruff's F401 fix would. Only module-level imports of an ordinary
  module (not `__init__.py`, whose imports may be re-exports) are touched.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence

from backend_expert.findings import Edit
from backend_expert.parse import SourceFile, parse_text

Span = tuple[int, int, str]


# --- comments ----------------------------------------------------------------------------------


def comments(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of every comment token; empty when the text does not tokenize."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return [(*t.start, t.string) for t in tokens if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return []


def lost_comments(before: str, after: str, offset_of, excused: Sequence[Span] = ()) -> list[str]:
    """Comments of `before` missing from `after`, except those inside an `excused` span
    (`offset_of(line, column)` turns a 1-based line and column into an offset of `before`)."""
    found = comments(before)
    if not found:
        return []
    lost = Counter(c for _, _, c in found) - Counter(c for _, _, c in comments(after))
    if not lost:
        return []
    allowed: Counter = Counter()
    for line, column, comment in found:
        offset = offset_of(line, column + 1)
        if any(start <= offset < end for start, end, _ in excused):
            allowed[comment] += 1
    return sorted((lost - allowed).elements())


# --- imports left unused -----------------------------------------------------------------------


def _uses(tree: ast.Module) -> Counter:
    """How often each name is read, written or declared outside import statements; a
    string holding an expression (`__all__` entries, string annotations) counts too."""
    used: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            used[node.id] += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            used.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            used[node.name] += 1
        elif isinstance(node, ast.alias) and node.asname is None and "." in node.name:
            used[node.name.partition(".")[0]] += 1
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 300
        ):
            try:
                inner = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError):
                continue
            used.update(n.id for n in ast.walk(inner) if isinstance(n, ast.Name))
    return used


def _bindings(tree: ast.Module) -> Counter:
    """How many import aliases bind each local name, anywhere in the file."""
    bound: Counter = Counter()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).partition(".")[0] for a in node.names)
    return bound


def unused_import_edits(path: str, text: str, names: Iterable[str]) -> list[Edit]:
    """Edits removing the module-level `from m import n` of each qualified `m.n` in `names`
    whose local name is no longer used anywhere in `text`."""
    wanted = set(names)
    if not wanted or path.replace("\\", "/").rpartition("/")[2] == "__init__.py":
        return []
    source = parse_text(path, text)
    if source.tree is None:
        return []
    used, bound = _uses(source.tree), _bindings(source.tree)
    edits: list[Edit] = []
    for stmt in source.tree.body:
        if not isinstance(stmt, ast.ImportFrom) or stmt.level or not stmt.module:
            continue
        drop = [
            a
            for a in stmt.names
            if f"{stmt.module}.{a.name}" in wanted
            and not used[a.asname or a.name]
            and bound[a.asname or a.name] == 1
        ]
        if drop:
            edits.extend(_removal(source, stmt, drop))
    return edits


def _alone(source: SourceFile, stmt: ast.stmt) -> bool:
    """The statement fills its lines: nothing but blanks before it and after it."""
    first = source.line(stmt.lineno)
    last = source.line(stmt.end_lineno or stmt.lineno).encode()
    return not first.encode()[: stmt.col_offset].strip() and not last[stmt.end_col_offset :].strip()


def _removal(source: SourceFile, stmt: ast.ImportFrom, drop: list[ast.alias]) -> list[Edit]:
    end_line = stmt.end_lineno or stmt.lineno
    if len(drop) == len(stmt.names):
        if not _alone(source, stmt):
            return []  # a comment or another statement shares the line: leave it
        return [Edit(stmt.lineno, 1, end_line + 1, 1, "")]
    keep = [a for a in stmt.names if a not in drop]
    if stmt.lineno == end_line:
        first, last = stmt.names[0], stmt.names[-1]
        written = ", ".join(ast.get_source_segment(source.text, a) or a.name for a in keep)
        return [
            Edit(
                first.lineno,
                source.char_column(first.lineno, first.col_offset) + 1,
                last.end_lineno or first.lineno,
                source.char_column(last.end_lineno or first.lineno, last.end_col_offset) + 1,
                written,
            )
        ]
    edits = []
    for alias in drop:  # parenthesised over several lines: only names alone on their line
        line = source.line(alias.lineno).strip()
        segment = ast.get_source_segment(source.text, alias) or alias.name
        if alias.lineno in (stmt.lineno, end_line) or line not in (segment, segment + ","):
            return []
        edits.append(Edit(alias.lineno, 1, alias.lineno + 1, 1, ""))
    return edits
