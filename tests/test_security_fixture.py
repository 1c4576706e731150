"""The security rules on a small FastAPI + Flask service: exactly the findings listed in the
fixture's EXPECTED.txt, no more (near misses sit next to each flagged line), no fewer."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.engine import run

FIXTURE = Path(__file__).parent / "fixtures" / "security_app"


def _expected() -> set[tuple[str, int, str]]:
    found = set()
    for raw in (FIXTURE / "EXPECTED.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            where, slug = line.split()
            path, number = where.rsplit(":", 1)
            found.add((path, int(number), slug))
    return found


def test_security_rules_find_exactly_the_expected_findings():
    config = Config(root=FIXTURE, layers=[Selection(select=("security",))])
    result = run([FIXTURE], config, use_cache=False)
    assert not [f for f in result.findings if f.slug == "internal-error"]
    got = {(f.path, f.line, f.slug) for f in result.findings if f.pack == "security"}
    expected = _expected()
    assert got - expected == set(), "unexpected findings"
    assert expected - got == set(), "missing findings"


def test_request_fed_findings_are_high_confidence_and_say_where_from():
    config = Config(root=FIXTURE, layers=[Selection(select=("security",))])
    result = run([FIXTURE], config, use_cache=False)
    by_place = {(f.path, f.line): f for f in result.findings}
    shell = by_place[("secapp/web.py", 16)]
    assert shell.confidence.value == "high"
    assert shell.source == "`request.form['domain']` (line 15)"
    ping = by_place[("secapp/api.py", 22)]
    assert ping.source.startswith("request parameter `host` of route `ping`")
