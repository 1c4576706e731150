"""Suppression comments and per-file ignores, as users of ruff and flake8 expect them."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config
from backend_expert.engine import run_sources
from backend_expert.suppress import parse_suppressions

HEADER = "from fastapi import FastAPI\napp = FastAPI()\n"


def on_event_lines(body: str, config: Config | None = None) -> list[int]:
    result = run_sources({"app.py": HEADER + body}, config)
    return [f.line for f in result.findings if f.slug == "fastapi-on-event"]


def test_unsuppressed_finding_is_reported():
    assert on_event_lines('app.add_event_handler("startup", print)\n') == [3]


def test_bare_noqa_silences_everything_on_the_line():
    assert on_event_lines('app.add_event_handler("startup", print)  # noqa\n') == []


def test_noqa_with_code_or_slug():
    assert on_event_lines('app.add_event_handler("startup", print)  # noqa: BEX101\n') == []
    assert (
        on_event_lines('app.add_event_handler("startup", print)  # noqa: E501, fastapi-on-event\n')
        == []
    )


def test_noqa_for_other_codes_does_not_silence_bex():
    assert on_event_lines('app.add_event_handler("startup", print)  # noqa: E501\n') == [3]
    assert on_event_lines('app.add_event_handler("startup", print)  # noqa: BEX601\n') == [3]


def test_directives_quoted_in_prose_are_not_directives():
    line = 'app.add_event_handler("startup", print)  # see `# bex: ignore` and `# noqa` in docs\n'
    assert on_event_lines(line) == [3]
    assert on_event_lines('app.add_event_handler("startup", print)  # why # noqa: BEX101\n') == []


def test_bex_ignore_with_ids_and_reason():
    body = 'app.add_event_handler("startup", print)  # bex: ignore[fastapi-on-event] -- migrating in JIRA-12\n'
    result = run_sources({"app.py": HEADER + body})
    assert result.findings == []
    [(finding, suppression)] = result.suppressed
    assert finding.slug == "fastapi-on-event"
    assert suppression.reason == "migrating in JIRA-12"
    assert on_event_lines('app.add_event_handler("startup", print)  # bex: ignore[BEX601]\n') == [3]


def test_skip_file():
    assert on_event_lines('# bex: skip-file\napp.add_event_handler("startup", print)\n') == []


def test_noqa_inside_a_string_is_not_a_comment():
    body = 'app.add_event_handler("startup", print); x = "# noqa"\n'
    assert on_event_lines(body) == [3]


def test_per_file_ignores_by_glob():
    config = Config(root=Path("."), per_file_ignores={"legacy/*.py": ("fastapi",)})
    sources = {
        "legacy/old.py": HEADER + 'app.add_event_handler("startup", print)\n',
        "new.py": HEADER + 'app.add_event_handler("startup", print)\n',
    }
    result = run_sources(sources, config)
    assert [f.path for f in result.findings] == ["new.py"]


def test_parser_reads_all_forms():
    parsed = parse_suppressions("a  # noqa\nb  # NOQA:BEX101,BEX102\nc  # bex: ignore\n")
    assert parsed.by_line[1][0].ids is None
    assert parsed.by_line[2][0].ids == {"BEX101", "BEX102"}
    assert parsed.by_line[3][0].ids is None and parsed.by_line[3][0].kind == "bex"
