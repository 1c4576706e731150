"""JUnit XML, which GitLab (`reports: junit`), Jenkins and most CI dashboards read.

One testsuite per file, one failing testcase per finding (as ruff does); a
clean run is one passing testcase, so the report is never empty. xml.etree does
the escaping; characters XML 1.0 forbids are replaced first.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import groupby

from backend_expert.engine import RunResult
from backend_expert.report._ci import hint_of, repo_path

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def render(result: RunResult, color: bool = False) -> str:
    findings = result.findings
    root = ET.Element(
        "testsuites", name="bex", tests=str(max(1, len(findings))), failures=str(len(findings))
    )
    if not findings:
        suite = ET.SubElement(root, "testsuite", name="bex", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="no findings", classname="bex")
    for path, group in groupby(findings, key=lambda f: repo_path(result, f)):
        items = list(group)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_clean(path),
            tests=str(len(items)),
            failures=str(len(items)),
            errors="0",
        )
        for finding in items:
            case = ET.SubElement(
                suite,
                "testcase",
                name=_clean(f"{finding.code} {finding.slug} at {finding.line}:{finding.column}"),
                classname=_clean(path),
                file=_clean(path),
                line=str(finding.line),
            )
            failure = ET.SubElement(
                case,
                "failure",
                message=_clean(finding.message),
                type=f"{finding.code} {finding.severity.value}",
            )
            body = f"{path}:{finding.line}:{finding.column}: {finding.code} [{finding.slug}] {finding.message}"
            hint = hint_of(finding)
            if hint:
                body += f"\nhelp: {hint}"
            if finding.docs:
                body += f"\ndocs: {finding.docs}"
            failure.text = _clean(body)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
