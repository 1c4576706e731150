"""What the pipeline produces: findings, and the fixes they may carry.

Positions follow ruff's JSON: lines are 1-based, columns are 1-based counts of
characters (not the UTF-8 byte offsets that `ast` reports).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    """`error` = a bug or vulnerability, `warning` = likely harm, `info` = guidance."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Confidence(str, enum.Enum):
    """How sure bex is that the finding is real (not how bad it is)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 3, "medium": 2, "low": 1}[self.value]


class Applicability(str, enum.Enum):
    """Whether a fix may be applied without a human looking (ruff's model)."""

    SAFE = "safe"  # meaning never changes
    UNSAFE = "unsafe"  # behaviour may change: only with --unsafe-fixes
    DISPLAY = "display-only"  # shown, never applied


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text between two positions (end exclusive) with `content`."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def to_dict(self) -> dict:
        return {
            "content": self.content,
            "location": {"line": self.line, "column": self.column},
            "end_location": {"line": self.end_line, "column": self.end_column},
        }


@dataclass(frozen=True, slots=True)
class Fix:
    """A set of edits that together correct one finding."""

    message: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE
    # Qualified names (`pydantic.validator`) whose import this fix may leave unused: once
    # all of a file's fixes are in, the engine drops those still unused (fix_cleanup.py).
    unused_imports: tuple[str, ...] = ()
    # The fix deletes comments on purpose (BEX004 removes stale suppressions); any other
    # fix that loses a comment fails verification.
    removes_comments: bool = False

    def to_dict(self) -> dict:
        return {
            "applicability": self.applicability.value,
            "message": self.message,
            "edits": [edit.to_dict() for edit in self.edits],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place, produced by one rule."""

    code: str
    slug: str
    pack: str
    severity: Severity
    category: str
    path: str  # relative to the project root, with forward slashes
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    confidence: Confidence = Confidence.HIGH
    fix: Fix | None = None
    docs: str = ""
    cwe: int | None = None
    source: str | None = None  # where a tainted value came from, for data-flow findings
    security_severity: float | None = None  # GitHub code scanning's 0.1-10 score
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "slug": self.slug,
            "pack": self.pack,
            "severity": self.severity.value,
            "category": self.category,
            "confidence": self.confidence.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fix": self.fix.to_dict() if self.fix else None,
            "cwe": self.cwe,
            "source": self.source,
            "security_severity": self.security_severity,
            "docs": self.docs,
        }
