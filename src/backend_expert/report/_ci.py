"""What the CI formats share: repository-relative paths and rule lookups.

CI systems locate files relative to the repository root, which is not always
bex's project root (a `pyproject.toml` in a subfolder of a monorepo): paths get
the project's place in the repository as a prefix.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from backend_expert.engine import RunResult
from backend_expert.findings import Finding
from backend_expert.rules import Rule, rule_by_id


@cache
def repository_prefix(root: Path | None) -> str:
    """`sub/dir/` when the project root lies below the git work tree's root, else ''."""
    if root is None:
        return ""
    root = Path(root).absolute()
    for directory in (root, *root.parents):
        if (directory / ".git").exists():
            if directory == root:
                return ""
            return root.relative_to(directory).as_posix() + "/"
    return ""


def repo_path(result: RunResult, finding: Finding) -> str:
    """The finding's file relative to the repository root, with forward slashes."""
    if finding.path.startswith("/"):
        return finding.path
    return repository_prefix(result.root) + finding.path


def rule_of(finding: Finding) -> Rule | None:
    return rule_by_id(finding.code)


def hint_of(finding: Finding) -> str:
    rule = rule_of(finding)
    return rule.hint if rule is not None else ""


def counts(findings: list[Finding]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for finding in findings:
        out[finding.severity.value] += 1
    return out
