"""`bex review` and `bex advise` on the fixture projects: the report's sections and what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from backend_expert.architecture import strongly_connected
from backend_expert.cli import main
from backend_expert.engine import run
from backend_expert.findings import Edit
from backend_expert.review import SECTIONS, build_review
from backend_expert.review.command import run_review
from backend_expert.review.markdown import apply_edits

ROOT = Path(__file__).resolve().parent.parent
DJANGO = ROOT / "tests" / "fixtures" / "django_shop"
FASTAPI = ROOT / "examples" / "shop_api"


def _sections(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:]
            found[current] = ""
        elif current:
            found[current] += line + "\n"
    return found


@pytest.fixture(scope="module")
def django_report() -> dict[str, str]:
    return _sections(run_review(DJANGO, "markdown", use_cache=False))


@pytest.fixture(scope="module")
def fastapi_report() -> dict[str, str]:
    return _sections(run_review(FASTAPI, "markdown", use_cache=False))


@pytest.mark.slow
def test_sections_follow_the_seeds_response_format(django_report, fastapi_report):
    assert list(django_report) == list(SECTIONS)
    assert list(fastapi_report) == list(SECTIONS)


@pytest.mark.slow
def test_summary_names_the_stack_and_ranks_problems(django_report, fastapi_report):
    summary = django_report["Summary"]
    assert "framework: **django**" in summary and "orm: **django-orm**" in summary
    ranked = [line for line in summary.splitlines() if line[:2] in ("1.", "2.", "3.", "4.", "5.")]
    assert len(ranked) == 5
    assert ", error)" in ranked[0]  # errors first
    fast = fastapi_report["Summary"]
    assert "framework: **fastapi**" in fast and "orm: **sqlalchemy**" in fast
    assert "1. **SQL text built by string formatting" in fast  # the injection ranks first


@pytest.mark.slow
def test_implementation_details_show_layers_routes_and_models(django_report, fastapi_report):
    details = django_report["Implementation details"]
    assert "| routes |" in details and "| models |" in details
    assert "no `repositories`, `tests` layer" in details  # the fixture has neither
    assert "| POST | `checkout/` |" not in details  # URLconf prefixes are applied
    assert "| POST | `orders/checkout/` | `orders.views.checkout` | login_required |" in details
    assert "`OrderItem.order` -> `Order` (fk)" in details
    fast = fastapi_report["Implementation details"]
    assert (
        "| POST | `/admin/orders/{order_id}/refund` | `app.routers.admin.refund_order` | require_admin |"
        in fast
    )
    assert "Every layer of the recommended layout is present." in fast
    assert "5 models (sqlalchemy)" in fast


@pytest.mark.slow
def test_code_examples_show_the_project_code_and_the_fix(django_report):
    examples = django_report["Code examples"]
    assert "### BEX402 django-select-related-m2m" in examples
    assert 'Product.objects.select_related("tags")' in examples  # the code now
    assert 'Product.objects.prefetch_related("tags")' in examples  # after bex's fix


@pytest.mark.slow
def test_security_testing_and_next_steps(django_report, fastapi_report):
    security = django_report["Security notes"]
    assert "`catalog/api/tags/`" not in security
    assert "POST `api/tags/`" in security  # a write route with no auth
    testing = django_report["Testing strategy"]
    assert "no tests yet" in testing or "Cover the" in testing
    assert "Cover the" in testing
    assert fastapi_report["Next steps"].startswith("\n1. Fix sql-injection")
    assert "`bex explain BEX701`" in fastapi_report["Documentation"]


@pytest.mark.slow
def test_html_report_is_one_self_contained_page():
    html = run_review(FASTAPI, "html", use_cache=False)
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and 'id="graph-layers"' in html and 'id="graph-models"' in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<link" not in html and "src=" not in html  # no external resources
    for section in SECTIONS:
        assert f">{section}</h2>" in html
    assert 'href="#rule-BEX701"' in html and 'id="rule-BEX701"' in html


@pytest.mark.slow
def test_cli_review_writes_a_file(tmp_path):
    out = tmp_path / "review.html"
    result = CliRunner().invoke(
        main, ["review", str(FASTAPI), "--format", "html", "-o", str(out), "--no-cache"]
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    missing = CliRunner().invoke(main, ["review", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output


def test_layers_can_be_overridden_in_config(write_project):
    root = write_project(
        {"app/__init__.py": "", "app/web.py": "X = 1\n", "app/helpers.py": "Y = 2\n"},
        pyproject="[project]\nname = 'demo'\nrequires-python = '>=3.12'\n\n"
        '[tool.bex.layers]\n"app/web.py" = "routes"\n"app/help*" = "services"\n',
    )
    from backend_expert.config import load_config

    config = load_config(root)
    review = build_review(run([root], config, use_cache=False), config.architecture_layers)
    assert review.arch.layers["app.web"] == "routes"
    assert review.arch.layers["app.helpers"] == "services"


def test_an_unknown_layer_in_config_is_a_clear_error(write_project):
    root = write_project(
        {"a.py": "X = 1\n"}, pyproject='[tool.bex.layers]\n"a.py" = "controllers"\n'
    )
    result = CliRunner().invoke(main, ["check", str(root), "--no-cache"])
    assert result.exit_code == 2
    assert "the layer must be one of routes, services" in result.output


def test_tarjan_finds_cycles_and_self_loops():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d"]]
    assert strongly_connected({"x": {"y"}, "y": set()}) == []


def test_apply_edits_replaces_by_line_and_column():
    text = "a = 1\nb = old(2)\n"
    assert apply_edits(text, [Edit(2, 5, 2, 8, "new")]) == "a = 1\nb = new(2)\n"


@pytest.mark.slow
def test_advise_with_flags_and_on_a_project():
    runner = CliRunner()
    fresh = runner.invoke(
        main, ["advise", "--scenario", "prototype", "--no-input"], catch_exceptions=False
    )
    assert "**framework**: flask" in fresh.output and "**database**: sqlite" in fresh.output
    django = runner.invoke(main, ["advise", str(DJANGO), "--no-input"])
    assert "**framework**: django: batteries included" in django.output
    assert "(what the project uses)" in django.output
    assert "testing_framework: the project uses none, the recommendation is pytest" in django.output
    forced = runner.invoke(main, ["advise", str(FASTAPI), "--framework", "django", "--no-input"])
    assert "framework: the project uses fastapi, the recommendation is django" in forced.output
    assert "async_support: the project uses true, the recommendation is false" in forced.output


def test_svg_graph_draws_nodes_edges_and_marks_bad_edges():
    from backend_expert.review.svg import layered_graph, stacked_bars

    svg = layered_graph(
        {"a": "routes", "b": "models"},
        [("a", "b", "3"), ("b", "a", "1")],
        "t",
        "g",
        {"a": 0, "b": 1},
        bad=frozenset({("b", "a")}),
    )
    assert svg.count('class="node"') == 2
    assert svg.count('class="edge"') == 1 and svg.count('class="edge up"') == 1
    bars = stacked_bars({"django": {"error": 2, "info": 1}}, "by pack", "c")
    assert bars.count('class="bar ') == 2 and ">3</text>" in bars


@pytest.mark.slow
def test_review_of_the_flask_fixture():
    report = _sections(
        run_review(ROOT / "tests" / "fixtures" / "flask_app", "markdown", use_cache=False)
    )
    assert "framework: **flask**" in report["Summary"]
    assert "1. **Flask debug mode enabled in code" in report["Summary"]  # app code before tests
    details = report["Implementation details"]
    assert "| POST | `/posts` | `blog.posts.create_post` | login_required |" in details
    assert "| GET/PUT | `/posts/<int:post_id>` | `blog.api.PostAPI` | login_required |" in details
    security = report["Security notes"]
    assert "BEX720" in security  # the comment route is the only unguarded write
    assert "- POST `/posts/<int:post_id>/comments` in `blog/posts.py`" in security
    assert "- POST `/login`" not in security.split("Routes that change data")[0]


@pytest.mark.slow
def test_advise_asks_on_a_terminal(tmp_path, monkeypatch):
    from backend_expert.advise_command import run_advise

    monkeypatch.chdir(tmp_path)  # no project here: only the recommendation
    runner = CliRunner()
    with runner.isolation(input="3\n"):
        text = run_advise(None, None, {"framework": None}, interactive=True)
    assert "**framework**: django" in text and "(Enterprise application)" in text
    with runner.isolation(input="\nflask\nfalse\nsqlite\n\n\n\n"):
        text = run_advise(None, None, {}, interactive=True)
    assert "**framework**: flask: " in text and "**database**: sqlite" in text


def test_ranking_puts_harm_before_hygiene_and_app_code_before_tests():
    from backend_expert.findings import Confidence, Finding, Severity
    from backend_expert.review import rank

    def finding(code, slug, pack, severity, path, line=1):
        return Finding(
            code, slug, pack, severity, "x", path, line, 1, line, 1, "m", Confidence.HIGH
        )

    findings = [
        *(
            finding(
                "BEX301", "sqlalchemy-legacy-query", "sqlalchemy", Severity.WARNING, f"app/m{i}.py"
            )
            for i in range(9)
        ),
        finding("BEX108", "fastapi-error-detail-leak", "fastapi", Severity.WARNING, "app/views.py"),
        finding("BEX903", "test-without-assert", "testing", Severity.WARNING, "tests/test_a.py"),
        finding("BEX010", "project-no-pyproject", "project", Severity.INFO, "requirements.txt"),
        finding("BEX701", "sql-injection", "security", Severity.ERROR, "app/db.py"),
    ]
    order = [p.rule.slug for p in rank(findings)]
    assert order == [
        "sql-injection",  # errors first
        "fastapi-error-detail-leak",  # a security warning before 9 deprecation warnings
        "sqlalchemy-legacy-query",
        "test-without-assert",  # only in tests
        "project-no-pyproject",
    ]


@pytest.mark.slow
def test_review_runs_every_rule_but_the_ignored_ones(write_project):
    app = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.on_event('startup')\nasync def start():\n    pass\n"
    root = write_project(
        {"app.py": app},
        pyproject="[project]\nname = 'demo'\nrequires-python = '>=3.8'\n\n[tool.bex]\nselect = ['BEX1']\nignore = ['project-python-eol']\n",
    )
    text = run_review(root, "markdown", use_cache=False)
    assert "fastapi-on-event" in text  # selected
    assert "project-python-eol" not in text  # ignored by the project
    root2 = write_project(
        {"app.py": app},
        pyproject="[project]\nname = 'demo'\nrequires-python = '>=3.8'\n\n[tool.bex]\nselect = ['BEX1']\n",
    )
    assert "project-python-eol" in run_review(
        root2, "markdown", use_cache=False
    )  # not selected, still reviewed


def test_advice_agrees_with_the_scaffold_defaults():
    # `bex advise --framework X` and `bex new --framework X` must not disagree.
    from backend_expert.advise import recommend
    from backend_expert.scaffold.options import defaults_for

    expected = {
        "fastapi": (True, "postgresql", "sqlalchemy"),
        "django": (False, "postgresql", "django-orm"),
        "flask": (False, "sqlite", "sqlalchemy"),
    }
    for framework, (use_async, database, orm) in expected.items():
        advice = recommend({"framework": framework})
        assert advice["async_support"][0] == ("true" if use_async else "false"), framework
        assert advice["database"][0] == database, framework
        assert advice["orm"][0] == orm, framework
        assert defaults_for(framework) == {
            "use_async": use_async,
            "database": database,
            "orm": orm,
        }, framework


@pytest.mark.slow
def test_advise_prints_the_bex_new_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["advise", "--framework", "django", "--no-input"])
    assert (
        "bex new NAME --framework django --no-async --database postgresql --orm django-orm"
        in result.output
    )
