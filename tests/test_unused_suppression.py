"""BEX004 unused-suppression: bex's own comments that silence nothing, and only those."""

from __future__ import annotations

from pathlib import Path

from backend_expert.config import Config, Selection
from backend_expert.engine import run, run_sources

HEADER = "from fastapi import FastAPI\napp = FastAPI()\n"
ON_EVENT = 'app.add_event_handler("startup", print)'


def unused(body: str, config: Config | None = None, path: str = "app.py") -> list[tuple[int, str]]:
    result = run_sources({path: HEADER + body}, config)
    return [(f.line, f.message) for f in result.findings if f.code == "BEX004"]


def test_used_suppressions_are_not_reported():
    assert unused(f"{ON_EVENT}  # bex: ignore[fastapi-on-event] -- JIRA-12\n") == []
    assert unused(f"{ON_EVENT}  # bex: ignore[BEX101]\n") == []
    assert unused(f"{ON_EVENT}  # bex: ignore\n") == []
    assert unused(f"{ON_EVENT}  # noqa: BEX101\n") == []


def test_suppression_left_after_the_fix_is_reported():
    [(line, message)] = unused("x = 1  # bex: ignore[fastapi-on-event]\n")
    assert line == 3
    assert "`fastapi-on-event` reports nothing on this line" in message
    [(line, message)] = unused("x = 1  # bex: ignore -- was slow\n")
    assert "silences nothing" in message


def test_only_the_unused_id_of_a_list_is_named():
    [(_, message)] = unused(f"{ON_EVENT}  # bex: ignore[BEX101, BEX601]\n")
    assert "`BEX601`" in message and "BEX101" not in message


def test_noqa_of_other_tools_is_never_reported():
    assert unused("import os  # noqa: F401\nx = 1  # noqa\ny = 2  # noqa: E501, W291\n") == []
    assert unused("x = 1  # type: ignore[assignment]  # nosec\n") == []


def test_bex_code_in_noqa_next_to_other_codes_is_reported():
    [(line, message)] = unused("x = 1  # noqa: E501, BEX101\n")
    assert line == 3 and "`BEX101`" in message and "E501" not in message


def test_unknown_ids_are_reported_for_bex_comments():
    [(_, message)] = unused(f"{ON_EVENT}  # bex: ignore[fastapi-on-events]\n")
    assert "`fastapi-on-events` names no bex rule" in message
    [(_, message)] = unused("x = 1  # noqa: BEX999\n")
    assert "`BEX999` names no bex rule" in message


def test_rules_that_did_not_run_are_not_judged():
    # not selected
    config = Config(root=Path("."), layers=[Selection(ignore=("BEX101",))])
    assert unused("x = 1  # bex: ignore[BEX101]\n", config) == []
    # a framework the project does not use
    result = run_sources({"plain.py": "x = 1  # bex: ignore[fastapi-on-event]\n"})
    assert [f for f in result.findings if f.code == "BEX004"] == []


def test_rule_can_be_switched_off_and_its_report_silenced():
    config = Config(root=Path("."), layers=[Selection(ignore=("unused-suppression",))])
    assert unused("x = 1  # bex: ignore[BEX101]\n", config) == []
    assert unused("x = 1  # bex: ignore[BEX101, unused-suppression]\n") == []


def test_findings_spanning_lines_use_the_suppression_on_their_last_line():
    body = "app.add_event_handler(\n    'startup', print\n)  # bex: ignore[fastapi-on-event]\n"
    assert unused(body) == []


def test_unparsable_and_skipped_files_are_not_judged():
    assert unused("x = (  # bex: ignore[BEX101]\n") == []
    assert unused("# bex: skip-file\nx = 1  # bex: ignore[BEX101]\n") == []


def test_cached_run_reports_the_same(write_project):
    root = write_project({"app.py": HEADER + "x = 1  # bex: ignore[BEX101]\n"})
    cold = run([root], use_cache=True)
    warm = run([root], use_cache=True)
    assert [f.code for f in cold.findings] == ["BEX004"]
    assert [f.code for f in warm.findings] == ["BEX004"] and warm.from_cache == 1


def _apply(text: str, fix) -> str:
    """Apply a fix's edits (on one line, or deleting whole lines) to `text`."""
    lines = text.splitlines(keepends=True)
    for edit in sorted(fix.edits, key=lambda e: (e.line, e.column), reverse=True):
        if edit.end_line == edit.line + 1 and edit.column == edit.end_column == 1:
            del lines[edit.line - 1]
            continue
        assert edit.end_line == edit.line
        line = lines[edit.line - 1]
        lines[edit.line - 1] = line[: edit.column - 1] + edit.content + line[edit.end_column - 1 :]
    return "".join(lines)


def fixed(body: str) -> str:
    text = HEADER + body
    [finding] = [f for f in run_sources({"app.py": text}).findings if f.code == "BEX004"]
    assert finding.fix is not None and finding.fix.applicability.value == "safe"
    return _apply(text, finding.fix)[len(HEADER) :]


def test_fix_removes_the_comment_or_the_unused_ids_only():
    assert fixed("x = 1  # bex: ignore[BEX101] -- old reason\n") == "x = 1\n"
    assert fixed("x = 1  # noqa: E501, BEX101\n") == "x = 1  # noqa: E501\n"
    assert fixed("x = 1  # bex: ignore[BEX101]  # type: ignore\n") == "x = 1  # type: ignore\n"
    assert fixed("# bex: ignore\nx = 1\n") == "x = 1\n"
    assert (
        fixed(f"{ON_EVENT}  # bex: ignore[BEX101, BEX601, nope] -- JIRA-12\n")
        == f"{ON_EVENT}  # bex: ignore[BEX101] -- JIRA-12\n"
    )


def test_no_fix_when_the_comment_holds_prose():
    text = HEADER + "x = 1  # noqa: BEX101 because of reasons\n"
    [finding] = [f for f in run_sources({"app.py": text}).findings if f.code == "BEX004"]
    assert finding.fix is None


def test_rule_examples_fixed_code_is_what_the_fix_gives():
    from backend_expert.rules import rule_by_id

    rule = rule_by_id("BEX004")
    for example in rule.fire:
        config = Config(root=Path("."), layers=[Selection(select=("BEX004", "core"))])
        [finding] = run_sources(example.sources(), config).findings
        result = _apply(example.code, finding.fix).replace("  # flagged", "")
        assert result == example.fixed
