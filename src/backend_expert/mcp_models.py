"""The typed results of bex's MCP tools: the SDK turns them into output schemas.

An agent reads these as data: every finding carries its rule code, place, message,
the one-line hint of what to write instead, and whether bex can fix it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from backend_expert.findings import Finding
from backend_expert.rules import Rule, rule_by_id


class FixInfo(BaseModel):
    message: str
    applicability: Literal["safe", "unsafe", "display-only"]


class FindingOut(BaseModel):
    code: str = Field(description="Rule code, e.g. BEX601")
    slug: str = Field(description="Rule name, e.g. async-blocking-call")
    pack: str
    severity: Literal["error", "warning", "info"]
    confidence: Literal["high", "medium", "low"]
    path: str = Field(description="Path relative to the project root")
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    hint: str = Field("", description="What to write instead, in one line")
    fix: FixInfo | None = Field(None, description="The fix bex can apply, if any")
    docs: str = ""

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        rule = rule_by_id(finding.code)
        fix = finding.fix
        return cls(
            code=finding.code,
            slug=finding.slug,
            pack=finding.pack,
            severity=finding.severity.value,
            confidence=finding.confidence.value,
            path=finding.path,
            line=finding.line,
            column=finding.column,
            end_line=finding.end_line,
            end_column=finding.end_column,
            message=finding.message,
            hint=rule.hint if rule is not None else "",
            fix=FixInfo(message=fix.message, applicability=fix.applicability.value)
            if fix
            else None,
            docs=finding.docs,
        )


class CheckResult(BaseModel):
    findings: list[FindingOut]
    files_checked: int
    counts: dict[str, int] = Field(description="Findings by severity")
    warnings: list[str] = []


class RuleInfo(BaseModel):
    code: str
    slug: str
    pack: str
    severity: Literal["error", "warning", "info"]
    category: str
    summary: str
    fix: Literal["safe", "unsafe", "display-only"] | None
    frameworks: list[str]
    docs: str

    @classmethod
    def of(cls, rule: Rule) -> RuleInfo:
        return cls(
            code=rule.code,
            slug=rule.slug,
            pack=rule.pack,
            severity=rule.severity.value,
            category=rule.category,
            summary=rule.summary,
            fix=rule.fix_applicability.value if rule.fix_applicability else None,
            frameworks=list(rule.frameworks),
            docs=rule.docs_url,
        )


class RuleList(BaseModel):
    rules: list[RuleInfo]
    count: int


class RuleExplanation(BaseModel):
    rule: RuleInfo
    markdown: str = Field(description="What it flags, why, an example, what to write instead")


class FileFix(BaseModel):
    path: str
    applied: int = Field(description="Fixes applied to this file")
    failed: int = Field(
        description="Fixes that could not be applied (conflict or unparsable result)"
    )


class FixProposal(BaseModel):
    diff: str = Field(description="Unified diff of the proposed changes ('' when nothing to fix)")
    files: list[FileFix]
    written: bool = Field(description="True when the changes were written to disk")
    remaining: list[FindingOut] = Field(description="Findings no fix addresses")
    warnings: list[str] = []


class ReviewResult(BaseModel):
    root: str
    files: int
    frameworks: list[str]
    findings_by_pack: dict[str, int]
    findings_by_severity: dict[str, int]
    findings_by_rule: dict[str, int]
    top_findings: list[FindingOut]
    report: str = Field("", description="The architecture review, when this build has one")
    warnings: list[str] = []
