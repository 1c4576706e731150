"""Stage 6, report: formatters are pure functions from a run's result to text."""

from __future__ import annotations

from collections.abc import Callable

from backend_expert.engine import RunResult
from backend_expert.report import concise, json_format, text

Formatter = Callable[[RunResult, bool], str]

FORMATS: dict[str, Formatter] = {
    "text": text.render,
    "concise": concise.render,
    "json": json_format.render,
}
