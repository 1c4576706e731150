"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request.

`::error file=F,line=L,endLine=E,col=C,endColumn=EC,title=T::message`. GitHub's
runner escapes `%`, CR and LF in the message, and also `:` and `,` in property
values; anything else would cut a message or a property short.
"""

from __future__ import annotations

from backend_expert.engine import RunResult
from backend_expert.findings import Finding
from backend_expert.report._ci import hint_of, repo_path

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, path: str) -> str:
    properties = [("file", path), ("line", str(finding.line))]
    if finding.end_line:
        properties.append(("endLine", str(finding.end_line)))
    properties.append(("col", str(finding.column)))
    if finding.end_column and finding.end_line == finding.line:
        properties.append(("endColumn", str(finding.end_column)))
    properties.append(("title", f"{finding.code} {finding.slug}"))
    message = finding.message
    hint = hint_of(finding)
    if hint:
        message += f"\n{hint}"
    if finding.docs:
        message += f"\n{finding.docs}"
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMAND[finding.severity.value]} {joined}::{escape_data(message)}"


def render(result: RunResult, color: bool = False) -> str:
    lines = [annotation(f, repo_path(result, f)) for f in result.findings]
    return "\n".join(lines) + ("\n" if lines else "")
