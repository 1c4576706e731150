"""The shared edit builders (`backend_expert.edits`) and how rules use `fix_imports`: a fix
whose import would rebind a name the module already uses is not offered."""

from __future__ import annotations

import ast

from backend_expert.check import FileContext
from backend_expert.edits import node_text, replace_node
from backend_expert.engine import run_sources
from backend_expert.parse import parse_text


def _fix_of(code: str, rule: str):
    [finding] = [f for f in run_sources({"app.py": code}).findings if f.code == rule]
    return finding.fix


def test_columns_count_characters_not_utf8_bytes():
    code = 'x = ("é", value)\n'
    source = parse_text("app.py", code)
    ctx = FileContext.__new__(FileContext)
    ctx.source = source  # type: ignore[misc]
    name = next(n for n in ast.walk(source.tree) if isinstance(n, ast.Name) and n.id == "value")
    edit = replace_node(ctx, name, "other")
    assert (edit.line, edit.column, edit.end_column) == (1, 11, 16)  # bytes would say 12, 17
    assert node_text(ctx, name) == "value"


def test_import_extends_the_existing_from_line():
    code = "from datetime import datetime\n\n\ndef now():\n    return datetime.utcnow()\n"
    edits = _fix_of(code, "BEX803").edits
    assert any(e.content in ("datetime, timezone", "datetime, UTC") for e in edits)


def test_no_fix_when_the_import_would_rebind_a_name_in_use():
    code = (
        "from datetime import datetime\n"
        "from pytz import timezone\n\n\n"
        "def now():\n"
        "    return datetime.utcnow(), timezone('UTC')\n"
    )
    assert _fix_of(code, "BEX803") is None
