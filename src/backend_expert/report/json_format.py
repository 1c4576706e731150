"""A JSON list of findings; the shape is documented in the README and stable."""

from __future__ import annotations

import json

from backend_expert.engine import RunResult


def render(result: RunResult, color: bool = False) -> str:
    return json.dumps([finding.to_dict() for finding in result.findings], indent=2) + "\n"
