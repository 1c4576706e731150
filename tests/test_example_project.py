"""The bundled example: bex finds exactly the mistakes listed in its EXPECTED.md, nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from backend_expert.engine import run

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop_api"


def expected() -> set[tuple[str, int, str]]:
    text = (EXAMPLE / "EXPECTED.md").read_text()
    block = text.split("```")[1]
    rows = re.findall(r"^(\S+):(\d+)\s+(\S+)\s*$", block, re.MULTILINE)
    return {(path, int(line), slug) for path, line, slug in rows}


def test_example_findings_match_expected():
    result = run([EXAMPLE], use_cache=False)
    got = {(f.path, f.line, f.slug) for f in result.findings}
    assert got == expected()
    assert len(expected()) == 9
