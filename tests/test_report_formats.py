"""The CI formats as the systems that read them expect: SARIF, GitHub, GitLab, JUnit, Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from backend_expert.engine import RunResult, run_sources
from backend_expert.findings import Applicability, Edit, Fix
from backend_expert.report import formatter
from backend_expert.report.github import escape_data, escape_property

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

FASTAPI = (
    "from fastapi import FastAPI\n"
    "app = FastAPI()\n"
    "\n"
    '@app.on_event("startup")\n'
    "async def start():\n"
    "    pass\n"
)
SQL = (
    "import sqlite3\n"
    'conn = sqlite3.connect("shop.db")\n'
    "\n"
    "def search(term: str):\n"
    "    cursor = conn.cursor()\n"
    "    cursor.execute(f\"SELECT id FROM products WHERE name LIKE '%{term}%'\")\n"
    "    return cursor.fetchall()\n"
)


def render(name: str, result: RunResult) -> str:
    return formatter(name)(result, False)


def sarif(sources: dict[str, str]) -> dict:
    return json.loads(render("sarif", run_sources(sources)))


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft4Validator(json.loads(SCHEMA.read_text()))


def result_of(log: dict, rule: str) -> dict:
    [found] = [r for r in log["runs"][0]["results"] if r["ruleId"] == rule]
    return found


# --- SARIF -------------------------------------------------------------------------------------


def test_sarif_is_valid_against_the_official_schema(validator):
    result = run_sources({"svc/app.py": FASTAPI, "svc/db.py": SQL})
    finding = result.findings[0]
    fix = Fix("use a lifespan", (Edit(4, 1, 4, 5, "x"),), Applicability.UNSAFE)
    result.findings[0] = replace(finding, fix=fix)  # a finding with a fix, as --fix rules make
    result.warnings.append("missing.py: no such file or directory")
    log = json.loads(render("sarif", result))
    validator.validate(log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} == {"BEX101", "BEX701"}
    assert log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"]
    [notification] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("missing.py")


def test_sarif_empty_run_is_valid(validator):
    log = sarif({"ok.py": "x = 1\n"})
    validator.validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_rule_metadata_for_code_scanning():
    log = sarif({"db.py": SQL})
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bex" and driver["version"] and driver["informationUri"]
    [rule] = driver["rules"]
    assert rule["id"] == "BEX701" and rule["name"] == "sql-injection"
    assert rule["helpUri"].endswith("#sql-injection")
    assert rule["help"]["markdown"].startswith("# BEX701")
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"
    tags = rule["properties"]["tags"]
    assert "security" in tags and "external/cwe/cwe-89" in tags
    assert rule["properties"]["security-severity"] == "9.8"
    assert rule["properties"]["precision"] in {"high", "medium", "low"}


def test_sarif_result_location_is_repository_relative():
    log = sarif({"svc/app.py": FASTAPI})
    found = result_of(log, "BEX101")
    assert found["level"] == "warning" and found["ruleIndex"] == 0
    location = found["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "svc/app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"]["startLine"] == 4 and location["region"]["startColumn"] == 2
    base = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")


def test_sarif_fingerprint_survives_lines_above_and_changes_with_the_line():
    def fingerprint(text: str) -> str:
        return result_of(sarif({"app.py": text}), "BEX101")["partialFingerprints"][
            "primaryLocationLineHash"
        ]

    before = fingerprint(FASTAPI)
    shifted = FASTAPI.replace("app = FastAPI()\n", "import os\n\n\napp = FastAPI()  # main app\n")
    assert fingerprint(shifted) == before
    reindented = FASTAPI + "\n\ndef other():\n    return 1\n"
    assert fingerprint(reindented) == before
    assert fingerprint(FASTAPI.replace('"startup"', '"shutdown"')) != before


def test_sarif_fingerprints_of_identical_lines_differ_by_occurrence():
    twice = FASTAPI + '\n@app.on_event("startup")\nasync def again():\n    pass\n'
    results = sarif({"app.py": twice})["runs"][0]["results"]
    prints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    assert len(set(prints)) == 2
    assert {p.rsplit(":", 1)[1] for p in prints} == {"1", "2"}
    assert len({p.rsplit(":", 1)[0] for p in prints}) == 1


# --- GitHub annotations ------------------------------------------------------------------------


def test_github_escaping():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_annotation_line():
    [line] = render("github", run_sources({"svc/app.py": FASTAPI})).splitlines()
    head, _, message = line.partition("::")[2].partition("::")
    assert line.startswith("::warning file=svc/app.py,line=4,endLine=4,col=2,endColumn=")
    assert "title=BEX101 fastapi-on-event" in head
    assert "\n" not in message and "%0A" in message  # the hint follows on its own line
    assert message.startswith("`app.on_event(")


def test_github_message_with_newlines_and_percent_stays_one_command():
    result = run_sources({"svc/app.py": FASTAPI})
    odd = replace(result.findings[0], message="50% slower\nreally", path="a,b:c.py")
    result.findings[:] = [odd]
    [line] = render("github", result).splitlines()
    assert "file=a%2Cb%3Ac.py," in line
    assert line.split("::", 2)[2].startswith("50%25 slower%0Areally")


# --- GitLab Code Quality -----------------------------------------------------------------------


def test_gitlab_code_quality_fields():
    issues = json.loads(render("gitlab", run_sources({"svc/app.py": FASTAPI, "db.py": SQL})))
    by_check = {issue["check_name"]: issue for issue in issues}
    app = by_check["BEX101"]
    assert app["description"].startswith("BEX101 [fastapi-on-event] ")
    assert app["location"] == {"path": "svc/app.py", "lines": {"begin": 4, "end": 4}}
    assert app["severity"] == "minor"
    assert by_check["BEX701"]["severity"] == "blocker"  # error with security severity 9.8
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)
    for issue in issues:
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}


def test_gitlab_fingerprint_stable_under_line_shift():
    def prints(text: str) -> list[str]:
        return [i["fingerprint"] for i in json.loads(render("gitlab", run_sources({"a.py": text})))]

    assert prints(FASTAPI) == prints("# header\n\n" + FASTAPI)
    assert json.loads(render("gitlab", run_sources({"a.py": "x = 1\n"}))) == []


# --- JUnit -------------------------------------------------------------------------------------


def test_junit_parses_back_with_one_failure_per_finding():
    result = run_sources({"svc/app.py": FASTAPI, "db.py": SQL})
    odd = replace(result.findings[0], message='<script>&"quotes"\x01')
    result.findings[0] = odd
    root = ET.fromstring(render("junit", result).encode())
    assert root.tag == "testsuites" and root.get("failures") == "2"
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"db.py", "svc/app.py"}
    failures = [case.find("failure") for case in root.iter("testcase")]
    assert all(f is not None for f in failures)
    assert any(f.get("message").startswith('<script>&"quotes"') for f in failures)


def test_junit_clean_run_has_a_passing_case():
    root = ET.fromstring(render("junit", run_sources({"ok.py": "x = 1\n"})).encode())
    assert root.get("failures") == "0"
    [case] = root.iter("testcase")
    assert case.find("failure") is None


# --- Markdown ----------------------------------------------------------------------------------


def test_markdown_summary_and_table():
    result = run_sources({"svc/app.py": FASTAPI, "db.py": SQL})
    odd = replace(result.findings[0], message="a | b\nc")
    result.findings[0] = odd
    text = render("markdown", result)
    assert text.startswith("## bex\n")
    assert "**2 findings**: 1 error, 1 warning" in text
    assert "`svc/app.py:4:2`" in text
    assert "[BEX701](" in text and "`sql-injection`" in text
    assert "a \\| b c" in text  # pipes escaped, no line break inside a row
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") >= 2 for line in rows)


def test_markdown_clean_run():
    assert "**No findings**" in render("markdown", run_sources({"ok.py": "x = 1\n"}))


def test_paths_are_relative_to_the_repository_when_the_project_is_a_subfolder(write_project):
    from backend_expert.engine import run

    root = write_project(
        {"backend/pyproject.toml": "[project]\nname = 'api'\nrequires-python = '>=3.12'\n", "backend/svc/app.py": FASTAPI},
        pyproject=None,
    )
    (root / ".git").mkdir()
    result = run([root / "backend"], use_cache=False)
    assert [f.path for f in result.findings] == ["svc/app.py"]  # bex's own paths: project root
    location = json.loads(render("sarif", result))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "backend/svc/app.py"
    assert render("github", result).startswith("::warning file=backend/svc/app.py,")
    assert json.loads(render("gitlab", result))[0]["location"]["path"] == "backend/svc/app.py"
    base = json.loads(render("sarif", result))["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]
    assert base["uri"] == root.as_uri() + "/"
