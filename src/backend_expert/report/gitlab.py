"""GitLab Code Quality report: a JSON array GitLab shows in merge requests.

GitLab does not display `check_name`, so the description starts with the code.
The fingerprint must be unique per finding and stable across runs: it is built
from the same line-content fingerprint as SARIF's, so a finding that only moved
is not reported as fixed-and-new.
"""

from __future__ import annotations

import hashlib
import json

from backend_expert.engine import RunResult
from backend_expert.findings import Finding
from backend_expert.fingerprint import fingerprints, source_lines
from backend_expert.report._ci import repo_path, rule_of

# Code Climate's fixed category names (GitLab ignores them; other readers check them).
CATEGORY = {
    "security": "Security",
    "performance": "Performance",
    "deprecation": "Compatibility",
    "modernization": "Compatibility",
    "architecture": "Complexity",
    "design": "Clarity",
    "maintainability": "Clarity",
    "suppression": "Style",
}


def severity(finding: Finding) -> str:
    """bex severity (and security score) to GitLab's info/minor/major/critical/blocker."""
    level = finding.severity.value
    if level == "info":
        return "info"
    if level == "warning":
        return "minor"
    rule = rule_of(finding)
    score = rule.security_severity if rule is not None else None
    if score is not None and score >= 9.0:
        return "blocker"
    if score is not None and score >= 7.0:
        return "critical"
    return "major"


def issue(finding: Finding, path: str, fingerprint: str) -> dict:
    unique = hashlib.sha256(f"{path}\0{finding.code}\0{fingerprint}".encode()).hexdigest()
    return {
        "type": "issue",
        "description": f"{finding.code} [{finding.slug}] {finding.message}",
        "check_name": finding.code,
        "fingerprint": unique,
        "severity": severity(finding),
        "categories": [CATEGORY.get(finding.category, "Bug Risk")],
        "location": {
            "path": path,
            "lines": {"begin": max(1, finding.line), "end": max(1, finding.line, finding.end_line)},
        },
    }


def render(result: RunResult, color: bool = False) -> str:
    prints = fingerprints(result.findings, source_lines(result))
    issues = [issue(f, repo_path(result, f), prints[id(f)][0]) for f in result.findings]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
