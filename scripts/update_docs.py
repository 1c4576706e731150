"""Regenerate the rule table in README.md and docs/rules.md from the rules themselves."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from backend_expert.explain import explain_all, rules_markdown
from backend_expert.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
MARKERS = re.compile(r"(<!-- rules:start -->\n).*?(<!-- rules:end -->)", re.DOTALL)


def expected() -> dict[Path, str]:
    readme = (ROOT / "README.md").read_text()
    table = rules_markdown(all_rules())
    return {
        ROOT / "README.md": MARKERS.sub(lambda m: m.group(1) + table + m.group(2), readme),
        ROOT / "docs" / "rules.md": explain_all(),
    }


def main() -> int:
    for path, text in expected().items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
