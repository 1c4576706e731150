"""The Django ORM rules (BEX401-BEX409) on the fixture shop: exactly the expected findings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from backend_expert.config import Config, Selection
from backend_expert.django_models import django_models
from backend_expert.engine import run
from backend_expert.findings import Applicability, Finding
from backend_expert.fixes import apply_edits

FIXTURE = Path(__file__).parent / "fixtures" / "django_shop"
CODES = tuple(f"BEX40{n}" for n in range(1, 10))


@pytest.fixture(scope="module")
def result():
    config = Config(root=FIXTURE, layers=[Selection(select=CODES)])
    return run([FIXTURE], config, use_cache=False)


def _expected() -> set[str]:
    lines = (FIXTURE / "EXPECTED-orm.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_findings_match_the_expected_list_exactly(result):
    internal = [f for f in result.findings if f.slug == "internal-error"]
    assert not internal, internal
    got = {f"{f.path}:{f.line} {f.slug}" for f in result.findings if f.code in CODES}
    expected = _expected()
    assert not (expected - got), f"missing: {sorted(expected - got)}"
    assert not (got - expected), f"unexpected: {sorted(got - expected)}"


def test_the_model_knows_the_shop(result):
    models = django_models(result.project)
    order = models.model("orders.models.Order")
    assert order is not None and order.app_label == "orders"
    assert order.fields["customer"].target == models.user_model
    assert {"items", "payment", "shipments"} <= set(order.reverse)
    assert order.reverse["payment"].kind == "reverse_o2o"
    assert models.attribute("catalog.models.Product", "orderitem_set").kind == "reverse_fk"
    # Inherited from the abstract TimeStampedModel in another app, and multi-table inheritance.
    assert "created_at" in models.model("catalog.models.products.DigitalProduct").fields
    assert models.attribute("catalog.models.Product", "digitalproduct").kind == "reverse_o2o"
    # Manager built with from_queryset(); `related_name="+"` hides the reverse accessor.
    product = models.model("catalog.models.Product")
    assert "catalog.querysets.ProductQuerySet" in product.managers["objects"]
    assert models.attribute("reviews.models.Review", "reviewvote_set") is None
    assert models.model("reviews.models.FlaggedReview").proxy


def _apply(text: str, finding: Finding) -> str:
    assert finding.fix is not None
    return apply_edits(text, finding.fix.edits)


def test_safe_fixes_produce_valid_code_that_reads_as_intended(result):
    fixed = [f for f in result.findings if f.fix is not None and f.code in ("BEX402", "BEX403")]
    assert fixed
    for finding in fixed:
        assert finding.fix.applicability is Applicability.SAFE
        text = (FIXTURE / finding.path).read_text()
        after = _apply(text, finding)
        ast.parse(after)
        line = after.splitlines()[finding.line - 1]
        if finding.code == "BEX402":
            assert "prefetch_related(" in line
            assert "select_related(" not in line or ").prefetch_related(" in line
        else:
            assert ".count()" in line or ".exists()" in line
            assert "len(" not in line


def test_async_fixes_await_the_async_twin(result):
    fixed = [f for f in result.findings if f.fix is not None and f.code == "BEX406"]
    assert fixed
    for finding in fixed:
        assert finding.fix.applicability is Applicability.UNSAFE
        after = _apply((FIXTURE / finding.path).read_text(), finding)
        ast.parse(after)
        line = after.splitlines()[finding.line - 1]
        assert ("await " in line and ".a" in line) or "async for " in line


def test_models_re_exported_with_a_star_import_are_found():
    from backend_expert.config import Config, Selection
    from backend_expert.engine import run_sources

    sources = {
        "inv/__init__.py": "",
        "inv/models/__init__.py": "from .items import *\n",
        "inv/models/items.py": (
            "from django.db import models\n\n\n"
            "class Shelf(models.Model):\n    name = models.CharField(max_length=9)\n\n\n"
            "class Item(models.Model):\n"
            "    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE)\n"
        ),
        "inv/report.py": (
            "from inv.models import Item\n\n\n"
            "def shelves():\n    return [i.shelf.name for i in Item.objects.all()]\n"
        ),
    }
    config = Config(root=Path("."), layers=[Selection(select=("BEX401",))])
    result = run_sources(sources, config)
    assert [(f.path, f.line) for f in result.findings] == [("inv/report.py", 5)]
    assert result.project.resolve("inv.models.Item") == "inv.models.items.Item"


def test_a_django_tests_module_is_a_test_module():
    from backend_expert.index import is_test_path

    assert is_test_path("shop/tests.py")
    assert not is_test_path("shop/services.py")
