"""`bex review`: the expert's report, built from the findings and the architecture model.

`build_review(result, config)` gathers what both renderers need (stack, ranked problems,
layering, routes, data model, advice); `markdown.render` and `html.render` lay it out in
the response format of the seeds: Summary, Implementation details, Code examples,
Testing strategy, Performance considerations, Security notes, Next steps, Documentation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backend_expert.architecture import Architecture, architecture
from backend_expert.findings import Finding, Severity
from backend_expert.index import is_test_path
from backend_expert.rules import Rule, rule_by_id

if TYPE_CHECKING:
    from backend_expert.engine import RunResult

SECTIONS = (
    "Summary",
    "Implementation details",
    "Code examples",
    "Testing strategy",
    "Performance considerations",
    "Security notes",
    "Next steps",
    "Documentation",
)
# The layout the seeds recommend for a service: routers -> services -> repositories -> models.
RECOMMENDED_LAYERS = (
    "routes",
    "services",
    "repositories",
    "models",
    "schemas",
    "settings",
    "tests",
)
PERFORMANCE = frozenset({"performance"})
# Within one severity: what a senior reviewer raises first (harm before hygiene).
CATEGORY_WEIGHT = {
    "security": 4, "correctness": 3, "reliability": 3, "validation": 3, "performance": 2,
    "architecture": 1, "operations": 1, "testing": 1,
}  # fmt: skip


@dataclass
class Problem:
    """One rule's findings, ranked by severity, then by how many places it touches."""

    rule: Rule
    findings: list[Finding]

    @property
    def severity(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    @property
    def files(self) -> int:
        return len({f.path for f in self.findings})

    @property
    def score(self) -> tuple:
        confidence = max(f.confidence.rank for f in self.findings)
        in_app = any(not is_test_path(f.path) for f in self.findings)  # before test-only ones
        weight = CATEGORY_WEIGHT.get(self.rule.category, 0)
        return (self.severity.rank, in_app, weight, confidence, self.files, len(self.findings))


@dataclass
class Review:
    root: str
    stack: dict[str, str]
    findings: list[Finding]
    problems: list[Problem]
    arch: Architecture
    missing_layers: list[str]
    layout_score: int  # 0-100: how much of the recommended layout exists
    files: int
    texts: dict[str, str] = field(default_factory=dict)

    def by(self, attribute: str) -> Counter:
        return Counter(
            getattr(f, attribute) if attribute != "severity" else f.severity.value
            for f in self.findings
        )

    def problems_in(self, *categories: str, packs: tuple[str, ...] = ()) -> list[Problem]:
        return [p for p in self.problems if p.rule.category in categories or p.rule.pack in packs]


def detect_stack(result: RunResult, arch: Architecture) -> dict[str, str]:
    """What the project runs on, in the seeds' parameters (framework, async, database, orm...)."""
    from backend_expert.advise import detect_parameters

    return detect_parameters(result.project, arch)


def rank(findings: list[Finding]) -> list[Problem]:
    grouped: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.pack == "core":
            continue
        grouped.setdefault(finding.code, []).append(finding)
    problems = [
        Problem(rule, items)
        for code, items in grouped.items()
        if (rule := rule_by_id(code)) is not None
    ]
    return sorted(problems, key=lambda p: p.score, reverse=True)


def build_review(result: RunResult, overrides: dict[str, str] | None = None) -> Review:
    from backend_expert.layers import configured_layers

    project = result.project
    arch = architecture(project, overrides or configured_layers(project))
    present = {layer for layer in arch.layers.values()}
    wanted = [layer for layer in RECOMMENDED_LAYERS if layer != "repositories" or arch.data.models]
    missing = [layer for layer in wanted if layer not in present]
    score = round(100 * (len(wanted) - len(missing)) / len(wanted)) if wanted else 100
    return Review(
        root=str(result.root or project.root),
        stack=detect_stack(result, arch),
        findings=result.findings,
        problems=rank(result.findings),
        arch=arch,
        missing_layers=missing,
        layout_score=score,
        files=result.files,
        texts=result.texts,
    )
