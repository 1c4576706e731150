"""`path:line:col: CODE [slug] message`, one finding a line (grep- and editor-friendly)."""

from __future__ import annotations

from backend_expert.engine import RunResult


def render(result: RunResult, color: bool = False) -> str:
    lines = [
        f"{f.path}:{f.line}:{f.column}: {f.code} [{f.slug}] {f.message}" for f in result.findings
    ]
    return "\n".join(lines) + ("\n" if lines else "")
