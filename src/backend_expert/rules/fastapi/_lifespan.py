"""The `fastapi-on-event` fix: every startup/shutdown handler of one app into one lifespan.

The handlers stay where they are, as plain functions; their registrations go, and a
new `lifespan` context manager, defined just above `app = FastAPI(...)`, calls them in
the order they were registered (startup before `yield`, shutdown after it). The fix
is offered only when the whole picture is in this module and nothing would be lost:

- `app` is assigned once at module level from a call with no `lifespan=`,
  `on_startup=`, `on_shutdown=` or `**kwargs`;
- every registration in the module is on that app and is either a lone
  `@app.on_event(...)` decorator of a module-level function without parameters or a
  module-level `app.add_event_handler("...", function)` naming a function defined here;
- no other module registers `on_event` handlers (they would stop running once the app
  has a lifespan), and the name `lifespan` is free.
"""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.findings import Applicability, Edit, Fix
from backend_expert.fix_imports import ImportConflict, add_import, is_bound

METHODS = ("on_event", "add_event_handler")
EVENTS = ("startup", "shutdown")


def lifespan_fix(call: ast.Call, ctx: FileContext) -> Fix | None:
    """The fix for one registration (the same fix for every registration of the app)."""
    app = call.func.value if isinstance(call.func, ast.Attribute) else None
    if not isinstance(app, ast.Name):
        return None
    plans: dict[str, Fix | None] = ctx.__dict__.setdefault("_bex_lifespan_plans", {})
    if app.id not in plans:
        plans[app.id] = _plan(app.id, ctx)
    return plans[app.id]


def _registrations(tree: ast.Module) -> list[ast.Call]:
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in METHODS
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value in EVENTS
    ]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _app_call(name: str, body: list[ast.stmt]) -> ast.Assign | None:
    assigns = [
        s
        for s in body
        if isinstance(s, (ast.Assign, ast.AnnAssign))
        and any(isinstance(t, ast.Name) and t.id == name for t in _targets(s))
    ]
    if len(assigns) != 1 or not isinstance(assigns[0], ast.Assign):
        return None
    value = assigns[0].value
    if not isinstance(value, ast.Call) or any(
        kw.arg in (None, "lifespan", "on_startup", "on_shutdown") for kw in value.keywords
    ):
        return None
    return assigns[0]


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    return stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]


def _whole_lines(ctx: FileContext, node: ast.AST, prefix: str) -> Edit | None:
    """Remove the lines `node` spans, when nothing but `prefix` (e.g. "@") shares them."""
    first, last = node.lineno, node.end_lineno  # type: ignore[attr-defined]
    head = ctx.source.line(first).encode()[: node.col_offset]  # type: ignore[attr-defined]
    tail = ctx.source.line(last).encode()[node.end_col_offset :].strip()  # type: ignore[attr-defined]
    if head.strip() not in (prefix.encode(), b"") or (tail and not tail.startswith(b"#")):
        return None
    if head.strip() == b"" and prefix:
        return None
    if last >= len(ctx.source.lines) and not ctx.source.text.endswith(("\n", "\r")):
        return None
    if tail:  # a trailing comment stays, on a line of its own
        line = ctx.source.line(first)
        indent = line[: len(line) - len(line.lstrip())]
        return Edit(first, 1, last + 1, 1, f"{indent}{tail.decode()}\n")
    return Edit(first, 1, last + 1, 1, "")


def _handler(
    registration: ast.Call, name: str, ctx: FileContext, body: list[ast.stmt]
) -> tuple[str, str, bool, Edit] | None:
    """(event, function name, is async, edit removing the registration), or None."""
    func = registration.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        return None
    if func.value.id != name or registration.keywords:
        return None
    event = registration.args[0].value  # type: ignore[attr-defined]
    functions = {s.name: s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if func.attr == "on_event":
        owner = next((f for f in functions.values() if registration in f.decorator_list), None)
        if owner is None or len(owner.decorator_list) != 1 or len(registration.args) != 1:
            return None
        args = owner.args
        if args.posonlyargs or args.args or args.vararg or args.kwonlyargs or args.kwarg:
            return None
        edit = _whole_lines(ctx, registration, "@")
        target = owner
    else:
        statement = next(
            (s for s in body if isinstance(s, ast.Expr) and s.value is registration), None
        )
        handler = registration.args[1] if len(registration.args) == 2 else None
        if statement is None or not isinstance(handler, ast.Name):
            return None
        target = functions.get(handler.id)  # type: ignore[assignment]
        if target is None:
            return None
        edit = _whole_lines(ctx, statement, "")
    if edit is None:
        return None
    return event, target.name, isinstance(target, ast.AsyncFunctionDef), edit


def _others_register(ctx: FileContext) -> bool:
    return any(
        decorator.endswith(".on_event")
        for facts in ctx.project.modules.values()
        if facts.path != ctx.path
        for function in facts.functions.values()
        for decorator in function.decorators
    )


def _plan(name: str, ctx: FileContext) -> Fix | None:
    tree = ctx.source.tree
    if tree is None or is_bound(tree, "lifespan") or _others_register(ctx):
        return None
    assign = _app_call(name, tree.body)
    if assign is None or assign.col_offset != 0:
        return None
    handlers = []
    for registration in _registrations(tree):
        handler = _handler(registration, name, ctx, tree.body)
        if handler is None:
            return None  # something here the fix cannot carry over exactly
        handlers.append(handler)
    if not handlers:
        return None
    try:
        import_edit = add_import(ctx.source, "contextlib", "asynccontextmanager")
    except (ImportConflict, ValueError):
        return None
    call = assign.value
    assert isinstance(call, ast.Call)
    edits = [_definition(ctx, assign, call, handlers), _keyword(ctx, call)]
    edits += [edit for *_, edit in handlers]
    if import_edit is not None:
        edits.append(import_edit)
    return Fix(
        "Call the handlers from one `lifespan` context manager passed to the app",
        tuple(edits),
        Applicability.UNSAFE,
    )


def _definition(ctx: FileContext, assign: ast.Assign, call: ast.Call, handlers) -> Edit:
    annotation = ast.get_source_segment(ctx.source.text, call.func) or ast.unparse(call.func)
    lines = ["@asynccontextmanager", f"async def lifespan(app: {annotation}):"]
    for wanted in ("startup", None, "shutdown"):
        if wanted is None:
            lines.append("    yield")
            continue
        lines += [
            f"    {'await ' if is_async else ''}{function}()"
            for event, function, is_async, _ in handlers
            if event == wanted
        ]
    blank = 0
    while blank < assign.lineno - 1 and not ctx.source.line(assign.lineno - 1 - blank).strip():
        blank += 1
    before = "\n" * max(0, 2 - blank) if assign.lineno - 1 > blank else ""
    text = before + "\n".join(lines) + "\n\n\n"
    return Edit(assign.lineno, 1, assign.lineno, 1, text)


def _keyword(ctx: FileContext, call: ast.Call) -> Edit:
    parts = [*call.args, *call.keywords]
    source = ctx.source
    if not parts:  # FastAPI() -> FastAPI(lifespan=lifespan)
        line, end = call.end_lineno, call.end_col_offset
        column = source.char_column(line, end - 1) + 1  # type: ignore[arg-type,operator]
        return Edit(line, column, line, column, "lifespan=lifespan")  # type: ignore[arg-type]
    last = max(parts, key=lambda p: (p.end_lineno, p.end_col_offset))
    line, end = last.end_lineno, last.end_col_offset
    column = source.char_column(line, end) + 1  # type: ignore[arg-type]
    return Edit(line, column, line, column, ", lifespan=lifespan")  # type: ignore[arg-type]
