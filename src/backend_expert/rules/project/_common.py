"""Helpers shared by the project rules: building a finding at a path and line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backend_expert.findings import Confidence, Finding, Severity

if TYPE_CHECKING:
    from backend_expert.index import Project
    from backend_expert.rules.base import Rule


def project_finding(
    rule: Rule,
    path: str,
    line: int,
    message: str,
    *,
    severity: Severity | None = None,
    confidence: Confidence = Confidence.HIGH,
) -> Finding:
    line = max(line, 1)
    return Finding(
        code=rule.code,
        slug=rule.slug,
        pack=rule.pack,
        severity=severity or rule.severity,
        category=rule.category,
        path=path,
        line=line,
        column=1,
        end_line=line,
        end_column=1,
        message=message,
        confidence=confidence,
        docs=rule.docs_url,
        cwe=rule.cwe,
    )


def application_anchor(project: Project) -> tuple[str, int] | None:
    """Where the application is created (`app = FastAPI()`/`Flask()`), a settings module, or
    manage.py: the place a project-wide finding is reported at."""
    best = None
    for facts in sorted(project.modules.values(), key=lambda f: f.path):
        if facts.is_test:
            continue
        arch = getattr(facts, "arch", None)
        for app in arch.apps if arch else ():
            candidate = (0 if not app.scope else 1, facts.path, app.line)
            if best is None or candidate < best:
                best = candidate
    if best is not None:
        return best[1], best[2]
    for name in ("manage.py", "settings.py", "main.py", "app.py", "wsgi.py", "asgi.py"):
        for facts in sorted(project.modules.values(), key=lambda f: (f.path.count("/"), f.path)):
            if facts.path.rpartition("/")[2] == name and not facts.is_test:
                return facts.path, 1
    return None


def non_test_modules(project: Project) -> list:
    return [
        f
        for f in project.modules.values()
        if not f.is_test and "/migrations/" not in f"/{f.path}" and "/versions/" not in f"/{f.path}"
    ]
