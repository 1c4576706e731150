"""The `sqlalchemy-legacy-query` fix: common `Query` chains rewritten to `select()`, exactly.

Only chains whose 2.0 spelling returns the same thing are rewritten:

- `session.query(M)` + `filter/where/filter_by/order_by/limit/offset/join/outerjoin/
  distinct/options` steps, ended by `.all()/.first()/.one()/.one_or_none()/.scalar()`,
  `.get(pk)` right after `query(M)`, `.count()` after filters only, or iterated by a
  `for` loop or a comprehension;
- `M` is a mapped class (rows come back with `session.scalars`), or columns or several
  entities (`session.execute`, rows as before); a lowercase name (an `aliased()` class?
  a Table?) is left alone;
- Flask-SQLAlchemy's `M.query` the same way through `db.session`, and `.get_or_404(pk)`
  as `db.get_or_404(M, pk)` with Flask-SQLAlchemy 3;
- the names the new code needs (`select`, `func`) are imported from SQLAlchemy or free.

The chain is edited in place (`.query(M)` -> `.scalars(select(M)`, `.filter` -> `.where`,
a closing parenthesis before the terminal call), so its layout and comments stay.

A `Query` that is returned or stored is not rewritten: its users call `Query` methods.
"""

from __future__ import annotations

import ast
import io
import tokenize

from backend_expert.check import FileContext
from backend_expert.findings import Applicability, Edit, Fix
from backend_expert.fix_imports import ImportConflict, add_imports

STEPS = {
    "filter": "where",
    "where": "where",
    "filter_by": "filter_by",
    "order_by": "order_by",
    "limit": "limit",
    "offset": "offset",
    "join": "join",
    "outerjoin": "outerjoin",
    "distinct": "distinct",
    "options": "options",
}
ROWS = ("all", "first", "one", "one_or_none")
SQLALCHEMY_NAMES = {
    "select": ("sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select"),
    "func": ("sqlalchemy.func", "sqlalchemy.sql.func", "sqlalchemy.sql.expression.func"),
}
EAGER_JOINS = ("joinedload", "contains_eager")


def _text(ctx: FileContext, node: ast.AST) -> str | None:
    return ast.get_source_segment(ctx.source.text, node)


def _call_args(ctx: FileContext, call: ast.Call) -> str | None:
    """The call's parenthesised arguments as written: `(User.id == 3)`."""
    whole, func = _text(ctx, call), _text(ctx, call.func)
    if whole is None or func is None or not whole.startswith(func):
        return None
    return whole[len(func) :].strip()


def _has_comment(text: str) -> bool:
    if "#" not in text:
        return False
    try:
        tokens = tokenize.generate_tokens(io.StringIO(f"({text})").readline)
        return any(token.type == tokenize.COMMENT for token in tokens)
    except (tokenize.TokenError, SyntaxError):
        return True


class _Names:
    """The SQLAlchemy names the rewrite needs: usable as spelled, plus the imports to add."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.missing: list[str] = []

    def free_here(self, name: str) -> bool:
        """No enclosing function binds `name` (a local `select` would shadow the import)."""
        ctx = self.ctx
        function = ctx.enclosing_function()
        while function is not None:
            scope = ctx.scope(function)
            if name in scope.params or scope.values(name):
                return False
            function = ctx.enclosing_function(above=function)
        return True

    def need(self, name: str) -> bool:
        ctx = self.ctx
        if not self.free_here(name):
            return False
        bound = ctx.facts.imports.get(name)
        if bound is not None:
            return bound in SQLALCHEMY_NAMES[name]
        try:
            add_imports(ctx.source, "sqlalchemy", [name])
        except (ImportConflict, ValueError):
            return False
        self.missing.append(name)
        return True

    @property
    def edits(self) -> tuple[Edit, ...]:
        if not self.missing:
            return ()
        edit = add_imports(self.ctx.source, "sqlalchemy", self.missing)
        return (edit,) if edit is not None else ()


def legacy_query_fix(
    ctx: FileContext,
    head: tuple[tuple[int, int], tuple[int, int]],
    session: str,
    lead: str,
    entities: str,
    calls: list[tuple[str, ast.Call]],
    outer: ast.AST,
    single: bool,
) -> Fix | None:
    """The fix for one chain, or None when it cannot be rewritten exactly.

    The chain is edited in place, so its layout and comments stay: `head` (the
    `.query(M)` part, or Flask's `M.query`) becomes `lead + "scalars(select(M)"`, each
    `.filter` becomes `.where`, and the statement's parenthesis closes before the
    terminal call. `session` is the session expression, `entities` the `(M)` text, and
    `single` whether the one entity is a mapped class (rows are objects: `scalars`).
    """
    plan = _steps(ctx, calls)
    if plan is None:
        return None
    renames, clauses, eager, terminal, last = plan
    names = _Names(ctx)
    if not names.need("select"):
        return None
    runner = "scalars" if single else "execute"
    unique = ".unique()" if eager else ""
    closing_at = last or head[1]
    if terminal is None:
        if not _iterated(ctx, outer):
            return None
        start, tail = f"{runner}(select{entities}", [_insert(ctx, _end(outer), f"){unique}")]
    else:
        name, call = terminal
        bare = not call.args and not call.keywords
        through = (closing_at, _end(call))
        if name in ("all", "first", "one", "one_or_none") and bare:
            limit = ".limit(1)" if name == "first" and "limit" not in clauses else ""
            start, tail = (
                f"{runner}(select{entities}",
                [_insert(ctx, closing_at, f"{limit}){unique}")],
            )
        elif name == "scalar" and bare and _plain(ctx, through):
            # Query.scalar() raises on several rows, as scalar_one_or_none() does.
            start = f"execute(select{entities}"
            tail = [_edit(ctx, through, ").scalar_one_or_none()")]
        elif name == "count" and bare and single and _plain(ctx, through):
            if any(c != "where" for c in clauses) or not names.need("func"):
                return None
            start = f"scalar(select(func.count()).select_from{entities}"
            tail = [_edit(ctx, through, ")")]
        elif name == "get" and not clauses and single:
            args = _call_args(ctx, call)
            plain = len(call.args) == 1 and not call.keywords
            if not args or not plain or isinstance(call.args[0], ast.Starred) or "#" in args:
                return None
            whole = f"{session}.get({entities[1:-1].strip()}, {args[1:-1].strip()})"
            edit = _edit(ctx, (_start(outer), _end(outer)), whole)
            return Fix("Use `session.get()`", (edit, *names.edits), Applicability.UNSAFE)
        else:
            return None
    edits = [_edit(ctx, head, lead + start), *renames, *tail, *names.edits]
    return Fix("Rewrite the query with `select()`", tuple(edits), Applicability.UNSAFE)


def _start(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset  # type: ignore[attr-defined]


def _end(node: ast.AST) -> tuple[int, int]:
    return node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]


def _edit(ctx: FileContext, where: tuple[tuple[int, int], tuple[int, int]], content: str) -> Edit:
    (line, start), (end_line, end) = where
    source = ctx.source
    return Edit(
        line,
        source.char_column(line, start) + 1,
        end_line,
        source.char_column(end_line, end) + 1,
        content,
    )


def _insert(ctx: FileContext, at: tuple[int, int], content: str) -> Edit:
    return _edit(ctx, (at, at), content)


def _plain(ctx: FileContext, where: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """The text in `where` holds no comment (it is about to be replaced)."""
    (line, start), (end_line, end) = where
    lines = [ctx.source.line(n).encode() for n in range(line, end_line + 1)]
    text = b"\n".join(lines)
    text = text[start : len(text) - len(lines[-1]) + end]
    return b"#" not in text


def _steps(ctx: FileContext, calls: list[tuple[str, ast.Call]]):
    """(rename edits, clause names, joined eager load?, terminal, end of the last step) or None."""
    renames, clauses, eager, last = [], [], False, None
    for position, (name, call) in enumerate(calls):
        if name in STEPS:
            if name != STEPS[name]:
                attribute = call.func
                line, end = _end(attribute)
                renames.append(_edit(ctx, ((line, end - len(name)), (line, end)), STEPS[name]))
            clauses.append(STEPS[name])
            eager |= name == "options" and _eager_join(call)
            last = _end(call)
        elif position == len(calls) - 1:
            return renames, clauses, eager, (name, call), last
        else:
            return None
    return renames, clauses, eager, None, last


def entity_kind(args: list[ast.expr], ctx: FileContext, orm_model, class_like) -> bool | None:
    """True: one mapped class (rows are objects); False: columns or several entities (rows
    are tuples, as `execute` returns them); None: cannot tell (a lowercase name may be an
    `aliased()` class or a Table), so no fix."""
    if len(args) != 1:
        return False
    arg = args[0]
    if isinstance(arg, ast.Call):
        return False  # `func.count(...)` and the like: a column expression
    if not isinstance(arg, (ast.Name, ast.Attribute)):
        return None
    if not class_like(arg):
        return False if isinstance(arg, ast.Attribute) and class_like(arg.value) else None
    name = ctx.qualname(arg)
    if name is None or orm_model(name, ctx):
        return True
    return True if ctx.project.assigned_call(name) is None else None


def flask_db_name(ctx: FileContext, is_db) -> str | None:
    """The name under which this module sees its Flask-SQLAlchemy object, if it does."""
    candidates = [n for n, q in ctx.facts.imports.items() if is_db(q, ctx)]
    candidates += [n for n in ctx.facts.calls if is_db(f"{ctx.module}.{n}", ctx)]
    for name in candidates:
        if _Names(ctx).free_here(name):
            return name
    return None


def flask_get_or_404(
    ctx: FileContext, db: str, entity: str, calls: list[tuple[str, ast.Call]], outer: ast.AST
) -> Fix | None:
    """`Model.query.get_or_404(pk)` -> `db.get_or_404(Model, pk)` (Flask-SQLAlchemy 3)."""
    if len(calls) != 1 or calls[0][0] != "get_or_404":
        return None
    call = calls[0][1]
    args = _call_args(ctx, call)
    if len(call.args) != 1 or call.keywords or args is None or _has_comment(args):
        return None
    edit = _edit(
        ctx, (_start(outer), _end(outer)), f"{db}.get_or_404({entity}, {args[1:-1].strip()})"
    )
    return Fix("Use `db.get_or_404()`", (edit,), Applicability.UNSAFE)


def _eager_join(call: ast.Call) -> bool:
    return any(
        isinstance(node, ast.Call) and ast.unparse(node.func).rpartition(".")[2] in EAGER_JOINS
        for node in ast.walk(call)
    )


def _iterated(ctx: FileContext, outer: ast.AST) -> bool:
    """The chain is what a `for` loop or a comprehension iterates over."""
    ancestors = ctx.ancestors
    index = next((i for i in range(len(ancestors) - 1, -1, -1) if ancestors[i] is outer), None)
    parent = ctx.parent() if index is None else (ancestors[index - 1] if index else None)
    if isinstance(parent, (ast.For, ast.comprehension)):
        return parent.iter is outer
    return False
