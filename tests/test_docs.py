"""The README opens with the two commands, and the rule docs match the rules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _update_docs():
    spec = importlib.util.spec_from_file_location(
        "update_docs", ROOT / "scripts" / "update_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_opens_with_the_run_and_test_commands():
    text = (ROOT / "README.md").read_text()
    blocks = [part.split("```")[0].strip() for part in text.split("```bash\n")[1:3]]
    assert blocks[0].endswith("bex check examples/shop_api")
    assert blocks[1].endswith("python -m pytest -q")


def test_generated_docs_are_up_to_date():
    for path, text in _update_docs().expected().items():
        assert path.read_text() == text, f"{path.name} is stale: run python scripts/update_docs.py"
