"""The `sqlalchemy-legacy-query` fix: common `Query` chains rewritten to `select()`, exactly.

Only chains whose 2.0 spelling returns the same thing are rewritten:

- `session.query(M)` + `filter/where/filter_by/order_by/limit/offset/join/outerjoin/
  distinct/options` steps, ended by `.all()/.first()/.one()/.one_or_none()/.scalar()`,
  `.get(pk)` right after `query(M)`, `.count()` after filters only, or iterated by a
  `for` loop or a comprehension;
- `M` is a mapped class (rows come back with `session.scalars`) or columns of mapped
  classes (`session.execute`, rows as before);
- Flask-SQLAlchemy's `M.query` the same way through `db.session`, and `.get_or_404(pk)`
  as `db.get_or_404(M, pk)` with Flask-SQLAlchemy 3;
- the names the new code needs (`select`, `func`) are imported from SQLAlchemy or free,
  and no comment sits inside the rewritten expression (it would be lost).

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
    session: str,
    entities: list[ast.expr],
    calls: list[tuple[str, ast.Call]],
    outer: ast.AST,
    single: bool,
    entity_texts: list[str] | None = None,
) -> Fix | None:
    """The fix for one chain, or None when it cannot be rewritten exactly.

    `session` is the source of the session expression, `single` whether the one
    entity is a mapped class (its rows are objects: `scalars`).
    """
    whole = _text(ctx, outer)
    if whole is None or _has_comment(whole):
        return None
    texts = entity_texts or [_text(ctx, e) for e in entities]
    if None in texts or any(isinstance(e, ast.Starred) for e in entities):
        return None
    steps, clauses, eager, terminal = _steps(ctx, calls)
    if steps is None:
        return None
    names = _Names(ctx)
    if not names.need("select"):
        return None
    query = _Query(session, ", ".join(texts), steps, clauses, single, eager)  # type: ignore[arg-type]
    if terminal is None:
        replacement = query.iterated() if _iterated(ctx, outer) else None
    else:
        replacement = query.terminal(ctx, names, *terminal)
    if replacement is None:
        return None
    return Fix(
        "Rewrite the query with `select()`",
        (_replace(ctx, outer, replacement), *names.edits),
        Applicability.UNSAFE,
    )


def _steps(ctx: FileContext, calls: list[tuple[str, ast.Call]]):
    """(`.where(...)...` text, clause names, joined eager load?, terminal call) or Nones."""
    steps, clauses, eager = "", [], False
    for position, (name, call) in enumerate(calls):
        if name in STEPS:
            args = _call_args(ctx, call)
            if args is None:
                return None, [], False, None
            steps += f".{STEPS[name]}{args}"
            clauses.append(STEPS[name])
            eager |= name == "options" and _eager_join(call)
        elif position == len(calls) - 1:
            return steps, clauses, eager, (name, call)
        else:
            return None, [], False, None
    return steps, clauses, eager, None


def _replace(ctx: FileContext, node: ast.AST, content: str) -> Edit:
    source = ctx.source
    line, end_line = node.lineno, node.end_lineno  # type: ignore[attr-defined]
    return Edit(
        line,
        source.char_column(line, node.col_offset) + 1,  # type: ignore[attr-defined]
        end_line,
        source.char_column(end_line, node.end_col_offset) + 1,  # type: ignore[attr-defined]
        content,
    )


class _Query:
    """A recognised chain: `select(entity)` + steps, run the way the terminal asks."""

    def __init__(self, session, entity, steps, clauses, single, eager) -> None:
        self.session, self.entity, self.steps = session, entity, steps
        self.clauses, self.single, self.eager = clauses, single, eager

    @property
    def runner(self) -> str:
        return f"{self.session}.{'scalars' if self.single else 'execute'}"

    def iterated(self) -> str:
        unique = ".unique()" if self.eager else ""
        return f"{self.runner}(select({self.entity}){self.steps}){unique}"

    def terminal(self, ctx: FileContext, names: _Names, name: str, call: ast.Call) -> str | None:
        statement = f"select({self.entity}){self.steps}"
        bare = not call.args and not call.keywords
        if name in ROWS and bare:
            if name == "first" and "limit" not in self.clauses:
                statement += ".limit(1)"
            unique = ".unique()" if self.eager else ""
            return f"{self.runner}({statement}){unique}.{name}()"
        if name == "scalar" and bare:
            # Query.scalar() raises on several rows, as scalar_one_or_none() does.
            return f"{self.session}.execute({statement}).scalar_one_or_none()"
        if name == "get" and not self.clauses and self.single:
            args = _call_args(ctx, call)
            plain = len(call.args) == 1 and not call.keywords
            if args and plain and not isinstance(call.args[0], ast.Starred):
                return f"{self.session}.get({self.entity}, {args[1:-1].strip()})"
            return None
        if name == "count" and bare and self.single:
            if any(c != "where" for c in self.clauses) or not names.need("func"):
                return None
            counted = f"select(func.count()).select_from({self.entity}){self.steps}"
            return f"{self.session}.scalar({counted})"
        return None


def mapped_class(arg: ast.expr, ctx: FileContext, orm_model) -> bool:
    """`query(X)` with X spelled like a class: a mapped class unless the project built X
    with a call (`X = Table(...)`, whose rows are tuples)."""
    name = ctx.qualname(arg) if isinstance(arg, (ast.Name, ast.Attribute)) else None
    if name is None:
        return isinstance(arg, (ast.Name, ast.Attribute))
    if orm_model(name, ctx):
        return True
    return ctx.project.assigned_call(name) is None


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
    edit = _replace(ctx, outer, f"{db}.get_or_404({entity}, {args[1:-1].strip()})")
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
