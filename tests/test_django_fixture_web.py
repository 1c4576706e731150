"""The Django web rules (BEX410-BEX419) find exactly the findings listed in the fixture's
EXPECTED-web.txt: no finding missing, none extra."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.engine import run

FIXTURE = Path(__file__).parent / "fixtures" / "django_shop"
CODES = tuple(f"BEX41{digit}" for digit in range(10))


def _expected() -> set[tuple[str, int, str]]:
    found = set()
    for raw in (FIXTURE / "EXPECTED-web.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where, slug = line.split()
        path, number = where.rsplit(":", 1)
        found.add((path, int(number), slug))
    return found


def test_web_rules_find_exactly_the_expected_findings():
    result = run([FIXTURE], Config(root=FIXTURE, layers=[Selection(select=CODES)]), use_cache=False)
    internal = [f for f in result.findings if f.slug == "internal-error"]
    assert not internal, internal
    got = {(f.path, f.line, f.slug) for f in result.findings if f.code in CODES}
    expected = _expected()
    assert got - expected == set(), "unexpected findings"
    assert expected - got == set(), "missing findings"
