"""SARIF 2.1.0, shaped for GitHub code scanning (`github/codeql-action/upload-sarif`).

One run; the driver lists the rules that have results, with their documentation,
tags, CWE, `security-severity` and `precision`. Each result carries a
repository-relative location and a `primaryLocationLineHash` fingerprint that
depends on the flagged line's content, not its number, so an alert survives
edits elsewhere in the file instead of being closed and reopened.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from backend_expert import __version__
from backend_expert.engine import RunResult
from backend_expert.findings import Confidence, Finding, Fix
from backend_expert.fingerprint import fingerprints, source_lines
from backend_expert.report._ci import repo_path, rule_of
from backend_expert.rules import Rule
from backend_expert.rules.base import DOCS_BASE

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = DOCS_BASE.split("/blob/", 1)[0]
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
SRCROOT = "%SRCROOT%"


def _rule_descriptor(rule: Rule, findings: list[Finding]) -> dict:
    from backend_expert.explain import explain

    explanation = rule.explanation
    tags = [rule.pack, rule.category]
    if rule.pack == "security" or rule.cwe is not None:
        tags.append("security")
    if rule.cwe is not None:
        tags.append(f"external/cwe/cwe-{rule.cwe}")
    lowest = min((f.confidence for f in findings), key=lambda c: c.rank, default=Confidence.HIGH)
    properties: dict = {"tags": list(dict.fromkeys(tags)), "precision": PRECISION[lowest]}
    if rule.security_severity is not None:
        properties["security-severity"] = f"{rule.security_severity:.1f}"
    help_text = "\n\n".join(
        part for part in (explanation.what, explanation.why, explanation.use_instead) if part
    )
    return {
        "id": rule.code,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _clip(explanation.what, 1024)},
        "help": {"text": help_text, "markdown": explain(rule)},
        "helpUri": rule.docs_url,
        "defaultConfiguration": {"level": LEVEL[rule.severity.value]},
        "properties": properties,
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _region(line: int, column: int, end_line: int, end_column: int) -> dict:
    line, end_line = max(1, line), max(1, line, end_line)
    column = max(1, column)
    end_column = max(column, end_column) if end_line == line else max(1, end_column)
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _artifact(uri: str) -> dict:
    if uri.startswith("/"):  # a file outside the project root: an absolute URI
        return {"uri": Path(uri).as_uri()}
    return {"uri": quote(uri), "uriBaseId": SRCROOT}


def _fix(fix: Fix, uri: str) -> dict:
    replacements = [
        {
            "deletedRegion": _region(edit.line, edit.column, edit.end_line, edit.end_column),
            "insertedContent": {"text": edit.content},
        }
        for edit in fix.edits
    ]
    return {
        "description": {"text": f"{fix.message} ({fix.applicability.value} fix)"},
        "artifactChanges": [{"artifactLocation": _artifact(uri), "replacements": replacements}],
    }


def _result(
    finding: Finding, index: int, uri: str, fingerprint: str, suppression: object = None
) -> dict:
    result: dict = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVEL[finding.severity.value],
        "message": {"text": finding.message},
    }
    if finding.path not in ("", "."):
        region = _region(finding.line, finding.column, finding.end_line, finding.end_column)
        result["locations"] = [
            {"physicalLocation": {"artifactLocation": _artifact(uri), "region": region}}
        ]
    result["partialFingerprints"] = {"primaryLocationLineHash": fingerprint}
    properties = {"confidence": finding.confidence.value, "slug": finding.slug}
    if finding.source:
        properties["source"] = finding.source
    result["properties"] = properties
    if finding.fix is not None and finding.path not in ("", "."):
        result["fixes"] = [_fix(finding.fix, uri)]
    if suppression is not None:
        reason = getattr(suppression, "reason", "") or ""
        entry: dict = {"kind": "inSource" if hasattr(suppression, "line") else "external"}
        if reason:
            entry["justification"] = reason
        result["suppressions"] = [entry]
    return result


def sarif_log(result: RunResult, include_suppressed: bool = False) -> dict:
    """The SARIF log as a dict (suppressed findings included, marked, when asked)."""
    rows: list[tuple[Finding, object]] = [(f, None) for f in result.findings]
    if include_suppressed:
        rows += [(f, s if s is not None else "config") for f, s in result.suppressed]
    prints = fingerprints((f for f, _ in rows), source_lines(result))
    by_rule: dict[str, list[Finding]] = {}
    for finding, _ in rows:
        by_rule.setdefault(finding.code, []).append(finding)
    rules = [rule for code in sorted(by_rule) if (rule := rule_of(by_rule[code][0])) is not None]
    index = {rule.code: position for position, rule in enumerate(rules)}
    results = [
        _result(f, index[f.code], repo_path(result, f), prints[id(f)][0], s)
        for f, s in sorted(rows, key=lambda row: row[0].sort_key)
        if f.code in index
    ]
    run: dict = {
        "tool": {
            "driver": {
                "name": "bex",
                "fullName": "bex, the Python backend expert",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(rule, by_rule[rule.code]) for rule in rules],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": warning}}
                    for warning in result.warnings
                ],
            }
        ],
    }
    if result.root is not None:
        root_uri = result.root.absolute().as_uri().rstrip("/") + "/"
        run["originalUriBaseIds"] = {SRCROOT: {"uri": _git_root_uri(result, root_uri)}}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _git_root_uri(result: RunResult, root_uri: str) -> str:
    """%SRCROOT% is the repository root, which the result URIs are relative to."""
    from backend_expert.report._ci import repository_prefix

    prefix = repository_prefix(result.root)
    if prefix and root_uri.endswith(quote(prefix)):
        return root_uri[: -len(quote(prefix))]
    return root_uri


def render(result: RunResult, color: bool = False) -> str:
    return json.dumps(sarif_log(result), indent=2, ensure_ascii=False) + "\n"


def render_with_suppressed(result: RunResult) -> str:
    """SARIF with the suppressed findings too, each carrying its `suppressions` entry."""
    return (
        json.dumps(sarif_log(result, include_suppressed=True), indent=2, ensure_ascii=False) + "\n"
    )
