"""One way for every fix to ask for an import: `add_import(source, module, name)`.

The returned `Edit` (or None when the name is already imported) is added to the
fix's edits. The import goes where a person would put it:

- an existing runtime `from module import a, b` is extended (`a, b, name`), also when
  it is parenthesised over several lines;
- otherwise a new line follows the last import of the module's header (imports
  inside `if TYPE_CHECKING:` never count: the fix needs the name at run time);
- a module without imports gets it after its docstring and `from __future__` imports,
  never above a shebang or encoding comment.

When several fixes need the same import they produce the same edit, which the fix
engine applies once; two different imports at one place are spread over rounds,
so the second extends the line the first added.
"""

from __future__ import annotations

import ast
import sys

from backend_expert.findings import Edit
from backend_expert.parse import SourceFile, parse_text


class ImportConflict(Exception):
    """The name is already bound in the module to something else: the fix must not import it."""


def add_import(source: SourceFile | str, module: str, name: str | None = None) -> Edit | None:
    """The edit that makes `from module import name` (or `import module`) available.

    Returns None when the import is already there; raises ImportConflict when the
    name is bound to something else at module level, and ValueError when the source
    does not parse.
    """
    if name is None:
        source = _parsed(source)
        binding = _runtime_binding(source.tree.body, module.partition(".")[0])  # type: ignore[union-attr]
        if binding is not None:
            if _binds(binding, module, None):
                return None
            raise ImportConflict(f"`{module.partition('.')[0]}` is already defined in this module")
        return _new_line(source, f"import {module}", module)
    return add_imports(source, module, (name,))


def add_imports(source: SourceFile | str, module: str, names) -> Edit | None:
    """One edit importing several names from one module (a fix that needs `select` and
    `func` asks for both at once: two edits at one place would conflict)."""
    source = _parsed(source)
    tree = source.tree
    assert tree is not None
    missing = []
    for name in dict.fromkeys(names):
        binding = _runtime_binding(tree.body, name)
        if binding is None:
            missing.append(name)
        elif not _binds(binding, module, name):
            raise ImportConflict(f"`{name}` is already defined in this module")
    if not missing:
        return None
    existing = _from_import(tree.body, module)
    if existing is not None:
        return _extend(source, existing, missing)
    return _new_line(source, f"from {module} import {', '.join(sorted(missing))}", module)


def _parsed(source: SourceFile | str) -> SourceFile:
    if isinstance(source, str):
        source = parse_text("<fix>", source)
    if source.tree is None:
        raise ValueError("cannot add an import to a file that does not parse")
    return source


# --- what the module binds ---------------------------------------------------------------------


def is_bound(tree: ast.Module, name: str) -> bool:
    """Whether `name` is bound at module level at run time (import, def, class, assignment)."""
    return _runtime_binding(tree.body, name) is not None


def _is_type_checking(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_statements(body: list[ast.stmt]):
    """Module-level statements, through `if`/`try` blocks but not `if TYPE_CHECKING:`."""
    for stmt in body:
        if _is_type_checking(stmt):
            yield from _runtime_statements(getattr(stmt, "orelse", []))
            continue
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _runtime_statements(stmt.body)
            yield from _runtime_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            for block in (stmt.body, stmt.orelse, stmt.finalbody):  # type: ignore[attr-defined]
                yield from _runtime_statements(block)
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                yield from _runtime_statements(handler.body)


def _names_bound(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).partition(".")[0] for a in stmt.names]
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
        targets = (
            [stmt.target]
            if isinstance(stmt, (ast.For, ast.AsyncFor))
            else [item.optional_vars for item in stmt.items if item.optional_vars is not None]
        )
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _runtime_binding(body: list[ast.stmt], bound: str) -> ast.stmt | None:
    for stmt in _runtime_statements(body):
        if bound in _names_bound(stmt):
            return stmt
    return None


def _binds(stmt: ast.stmt, module: str, name: str | None) -> bool:
    """Whether `stmt` is the very import asked for."""
    if name is None:
        return isinstance(stmt, ast.Import) and any(
            a.name == module and a.asname is None for a in stmt.names
        )
    return (
        isinstance(stmt, ast.ImportFrom)
        and stmt.level == 0
        and stmt.module == module
        and any(a.name == name and a.asname in (None, name) for a in stmt.names)
    )


def _from_import(body: list[ast.stmt], module: str) -> ast.ImportFrom | None:
    """A runtime, module-level (not nested in if/try) `from module import ...` to extend."""
    for stmt in body:
        if (
            isinstance(stmt, ast.ImportFrom)
            and stmt.level == 0
            and stmt.module == module
            and not any(a.name == "*" for a in stmt.names)
        ):
            return stmt
    return None


# --- where the edit goes -----------------------------------------------------------------------


def _position(source: SourceFile, line: int, byte_offset: int) -> tuple[int, int]:
    return line, source.char_column(line, byte_offset) + 1


def _extend(source: SourceFile, stmt: ast.ImportFrom, names: list[str]) -> Edit:
    last = stmt.names[-1]
    end_line, end = last.end_lineno, last.end_col_offset
    if end_line is None or end is None:  # Python < 3.10 has no alias positions
        raise ValueError("alias positions unavailable")
    line, column = _position(source, end_line, end)
    first = stmt.names[0]
    keys = [a.name.lower() for a in stmt.names]
    if first.lineno == end_line and keys == sorted(keys):  # one sorted line: keep it sorted
        written = [ast.get_source_segment(source.text, a) or a.name for a in stmt.names]
        merged = sorted([*zip(keys, written, strict=True), *((n.lower(), n) for n in names)])
        start_line, start = _position(source, first.lineno, first.col_offset)
        text = ", ".join(w for _, w in merged)
        return Edit(start_line, start, line, column, text)
    if end_line != stmt.lineno and source.line(end_line).lstrip().startswith(last.name):
        indent = source.line(end_line)[
            : len(source.line(end_line)) - len(source.line(end_line).lstrip())
        ]
        return Edit(line, column, line, column, "".join(f",\n{indent}{n}" for n in names))
    return Edit(line, column, line, column, "".join(f", {n}" for n in names))


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _has_import(stmt: ast.stmt) -> bool:
    return any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(stmt))


def _anchor(body: list[ast.stmt]) -> tuple[ast.stmt | None, bool]:
    """The statement the new import goes after, and whether it is a regular import."""
    last_import = last_block = preamble = None
    for index, stmt in enumerate(body):
        if (index == 0 and _is_docstring(stmt)) or (
            isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        ):
            preamble = stmt
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            last_import = stmt
        elif isinstance(stmt, (ast.If, ast.Try)) and _has_import(stmt):
            last_block = stmt
        else:
            break
    if last_import is not None:
        return last_import, True
    if last_block is not None:
        return last_block, True
    return preamble, False


def _module_of(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.ImportFrom):
        return "." * stmt.level + (stmt.module or "")
    return stmt.names[0].name  # type: ignore[attr-defined]


def _is_stdlib(module: str) -> bool:
    names = getattr(sys, "stdlib_module_names", ())
    return module.partition(".")[0] in names


def _in_group(source: SourceFile, module: str, line_text: str) -> Edit | None:
    """Among the header imports of the same package (or of the standard library), in order."""
    body = source.tree.body  # type: ignore[union-attr]
    header = []
    for index, stmt in enumerate(body):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            if _module_of(stmt) != "__future__":
                header.append(stmt)
        elif not (index == 0 and _is_docstring(stmt)):
            break
    root = module.partition(".")[0]
    group = [s for s in header if _module_of(s).partition(".")[0] == root]
    if not group and _is_stdlib(module):
        group = [s for s in header if _is_stdlib(_module_of(s))]
        if not group and header:  # the first group of imports: the standard library's
            first = header[0]
            return Edit(first.lineno, 1, first.lineno, 1, f"{line_text}\n\n")
    if not group:
        return None
    for stmt in group:
        if _module_of(stmt).lower() > module.lower():
            return Edit(stmt.lineno, 1, stmt.lineno, 1, f"{line_text}\n")
    last = group[-1]
    number = last.end_lineno or last.lineno
    if number >= len(source.text.splitlines()) and not source.text.endswith(("\n", "\r")):
        return None
    return Edit(number + 1, 1, number + 1, 1, f"{line_text}\n")


def _new_line(source: SourceFile, line_text: str, module: str) -> Edit:
    grouped = _in_group(source, module, line_text)
    if grouped is not None:
        return grouped
    body = source.tree.body  # type: ignore[union-attr]
    anchor, after_import = _anchor(body)
    lines = source.text.splitlines()
    if anchor is None:
        if not body:  # only comments or nothing: append at the end
            return _at_end(source, line_text, blank=bool(source.text.strip()))
        first = body[0]
        number = min([first.lineno, *(d.lineno for d in getattr(first, "decorator_list", ()))])
        return Edit(number, 1, number, 1, f"{line_text}\n\n")
    number = anchor.end_lineno or anchor.lineno
    if number >= len(lines) and not source.text.endswith(("\n", "\r")):
        return _at_end(source, line_text, blank=not after_import)
    following = lines[number] if number < len(lines) else ""
    content = f"{line_text}\n"
    if not after_import:
        content = "\n" + content + ("\n" if following.strip() else "")
    return Edit(number + 1, 1, number + 1, 1, content)


def _at_end(source: SourceFile, line_text: str, blank: bool) -> Edit:
    lines = source.text.splitlines()
    if not lines:
        return Edit(1, 1, 1, 1, f"{line_text}\n")
    last = len(lines)
    column = len(lines[-1]) + 1
    ends_with_newline = source.text.endswith(("\n", "\r"))
    if ends_with_newline:
        return Edit(last + 1, 1, last + 1, 1, ("\n" if blank else "") + f"{line_text}\n")
    return Edit(last, column, last, column, "\n" + ("\n" if blank else "") + line_text)
