"""The baseline as a team adopting bex on legacy code meets it, and --show-suppressed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backend_expert.cli import main

ON_EVENT = (
    "from fastapi import FastAPI\n"
    "app = FastAPI()\n"
    "\n"
    '@app.on_event("startup")\n'
    "async def start():\n"
    "    pass\n"
)
SECOND = '\n@app.on_event("shutdown")\nasync def stop():\n    pass\n'


def bex(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def legacy(write_project):
    return write_project({"svc/__init__.py": "", "svc/main.py": ON_EVENT})


def check(root, *extra: str):
    return bex("check", str(root), "--no-cache", "--output-format", "concise", "-q", *extra)


def entries(root) -> list[dict]:
    return json.loads((root / ".bex-baseline.json").read_text())["findings"]


def test_baseline_hides_existing_findings_and_reports_new_ones(legacy):
    assert check(legacy).exit_code == 1
    written = bex("baseline", str(legacy), "--no-cache")
    assert written.exit_code == 0 and "1 finding" in written.output
    assert check(legacy).exit_code == 0
    text = bex("check", str(legacy), "--no-cache")
    assert "All clear: no new findings" in text.output and "1 in the baseline" in text.output
    (legacy / "svc/main.py").write_text(ON_EVENT + SECOND)
    result = check(legacy)
    assert result.exit_code == 1
    assert [line.split(":")[1] for line in result.output.splitlines()] == ["8"]


def test_file_is_versioned_sorted_and_diff_friendly(legacy):
    (legacy / "svc/main.py").write_text(ON_EVENT + SECOND)
    bex("baseline", str(legacy), "--no-cache")
    raw = (legacy / ".bex-baseline.json").read_text()
    data = json.loads(raw)
    assert data["version"] == 1
    rows = data["findings"]
    assert rows == sorted(rows, key=lambda r: (r["path"], r["code"], r["fingerprint"]))
    assert all("line" in r and "fingerprint" in r and "line_number" not in r for r in rows)
    assert raw.count("\n") > len(rows) * 3  # one key per line: reviewable diffs
    bex("baseline", str(legacy), "--no-cache")
    assert (legacy / ".bex-baseline.json").read_text() == raw  # stable


def test_line_shifts_and_edits_elsewhere_keep_findings_baselined(legacy):
    bex("baseline", str(legacy), "--no-cache")
    shifted = '"""Service."""\nimport os\n\n\n' + ON_EVENT.replace(
        "    pass\n", "    _ = os.getcwd()\n"
    )
    (legacy / "svc/main.py").write_text(shifted)
    assert check(legacy).exit_code == 0


def test_editing_the_flagged_line_makes_it_new(legacy):
    bex("baseline", str(legacy), "--no-cache")
    (legacy / "svc/main.py").write_text(ON_EVENT.replace('"startup"', "'startup'"))
    assert check(legacy).exit_code == 1


def test_no_baseline_and_explicit_baseline_path(legacy, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "accepted.json"
    assert bex("baseline", str(legacy), "--no-cache", "--baseline", str(other)).exit_code == 0
    assert not (legacy / ".bex-baseline.json").exists()
    assert check(legacy).exit_code == 1  # default location has no baseline
    assert check(legacy, "--baseline", str(other)).exit_code == 0
    bex("baseline", str(legacy), "--no-cache")
    assert check(legacy, "--no-baseline").exit_code == 1
    missing = check(legacy, "--baseline", str(other) + ".nope")
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_update_drops_fixed_findings_and_adds_nothing(legacy):
    (legacy / "svc/main.py").write_text(ON_EVENT + SECOND)
    bex("baseline", str(legacy), "--no-cache")
    assert len(entries(legacy)) == 2
    # the startup handler is fixed, a new problem appears elsewhere
    fixed = ON_EVENT.replace('@app.on_event("startup")\n', "") + SECOND
    (legacy / "svc/extra.py").write_text(ON_EVENT)
    (legacy / "svc/main.py").write_text(fixed)
    result = bex("baseline", str(legacy), "--no-cache", "--update")
    assert result.exit_code == 0
    assert "1 dropped" in result.output and "1 new finding(s) not added" in result.output
    assert [(e["path"], e["line"]) for e in entries(legacy)] == [
        ("svc/main.py", '@app.on_event("shutdown")')
    ]
    assert check(legacy).exit_code == 1  # the new finding in extra.py is reported
    # a plain `bex baseline` accepts it
    bex("baseline", str(legacy), "--no-cache")
    assert len(entries(legacy)) == 2 and check(legacy).exit_code == 0


def test_update_needs_an_existing_baseline(legacy):
    result = bex("baseline", str(legacy), "--no-cache", "--update")
    assert result.exit_code == 2 and "no baseline" in result.output


def test_baseline_of_some_paths_keeps_entries_of_other_files(legacy):
    (legacy / "svc/extra.py").write_text(ON_EVENT)
    bex("baseline", str(legacy), "--no-cache")
    assert len(entries(legacy)) == 2
    (legacy / "svc/main.py").write_text("x = 1\n")
    bex("baseline", str(legacy / "svc" / "main.py"), "--no-cache")
    assert [e["path"] for e in entries(legacy)] == ["svc/extra.py"]


def test_broken_baseline_is_a_clear_error(legacy):
    (legacy / ".bex-baseline.json").write_text("{not json")
    result = check(legacy)
    assert result.exit_code == 2 and "not valid JSON" in result.output
    (legacy / ".bex-baseline.json").write_text('{"version": 99, "findings": []}')
    assert "version 99" in check(legacy).output


def test_syntax_errors_are_never_baselined(legacy):
    (legacy / "svc/broken.py").write_text("def f(:\n")
    bex("baseline", str(legacy), "--no-cache")
    assert {e["code"] for e in entries(legacy)} == {"BEX101"}
    result = check(legacy)
    assert result.exit_code == 1 and "BEX001" in result.output


def test_machine_formats_say_how_many_are_baselined_on_stderr(legacy):
    bex("baseline", str(legacy), "--no-cache")
    result = CliRunner().invoke(
        main, ["check", str(legacy), "--no-cache", "--output-format", "sarif"]
    )
    assert "1 findings in the baseline not shown" in result.stderr
    assert json.loads(result.stdout)["runs"][0]["results"] == []


# --- --show-suppressed ---------------------------------------------------------------------------


def test_show_suppressed_lists_reasons(write_project):
    body = ON_EVENT.replace(
        '@app.on_event("startup")',
        '@app.on_event("startup")  # bex: ignore[fastapi-on-event] -- lifespan in JIRA-12',
    )
    root = write_project({"svc/main.py": body + SECOND.replace(")\n", ")  # noqa: BEX101\n", 1)})
    plain = check(root)
    assert plain.exit_code == 0 and "Suppressed" not in plain.output
    shown = check(root, "--show-suppressed")
    assert shown.exit_code == 0
    assert "Suppressed findings (2):" in shown.output
    assert "suppressed by `# bex: ignore[fastapi-on-event]` on line 4 -- lifespan in JIRA-12" in (
        shown.output
    )
    assert "suppressed by `# noqa: BEX101` on line 8 (no reason given)" in shown.output


def test_show_suppressed_in_sarif_marks_results(write_project):
    body = ON_EVENT.replace(
        '@app.on_event("startup")', '@app.on_event("startup")  # bex: ignore -- JIRA-12'
    )
    root = write_project({"svc/main.py": body})
    result = CliRunner().invoke(
        main,
        ["check", str(root), "--no-cache", "--output-format", "sarif", "--show-suppressed"],
    )
    [found] = json.loads(result.stdout)["runs"][0]["results"]
    assert found["suppressions"] == [{"kind": "inSource", "justification": "JIRA-12"}]


def test_update_forgets_entries_of_deleted_files(legacy):
    (legacy / "svc/extra.py").write_text(ON_EVENT)
    bex("baseline", str(legacy), "--no-cache")
    (legacy / "svc/extra.py").unlink()
    result = bex("baseline", str(legacy), "--no-cache", "--update")
    assert "1 dropped" in result.output
    assert [e["path"] for e in entries(legacy)] == ["svc/main.py"]
