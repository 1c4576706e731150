"""Stage 6, report: formatters are pure functions from a run's result to text.

Each format lives in its own module, imported only when asked for (rich, used by
the text format, costs a noticeable part of a warm run's start-up).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend_expert.engine import RunResult

Formatter = Callable[["RunResult", bool], str]

FORMATS = {
    "text": "text",
    "concise": "concise",
    "json": "json_format",
    "sarif": "sarif",
    "github": "github",
    "gitlab": "gitlab",
    "junit": "junit",
    "markdown": "markdown_format",
}


def formatter(name: str) -> Formatter:
    """The `render(result, color)` function of an output format."""
    return importlib.import_module(f"{__name__}.{FORMATS[name]}").render
