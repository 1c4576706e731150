"""The rule registry: every module under a pack folder defines one rule.

Adding a rule means adding a module; nothing else needs to know about it.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from backend_expert.rules.base import Example, Explanation, Rule, visit

__all__ = ["PACKS", "Example", "Explanation", "Rule", "all_rules", "rule_by_id", "visit"]

# Folder name -> pack name (a pack named after a keyword lives in a folder with a trailing _).
PACKS = {
    "core": "core",
    "project": "project",
    "fastapi": "fastapi",
    "pydantic": "pydantic",
    "sqlalchemy": "sqlalchemy",
    "django": "django",
    "flask": "flask",
    "async_": "async",
    "security": "security",
    "python": "python",
    "testing": "testing",
}


@cache
def all_rules() -> tuple[Rule, ...]:
    """One instance of every rule, ordered by code."""
    found: list[Rule] = []
    for folder in PACKS:
        try:
            package = importlib.import_module(f"{__name__}.{folder}")
        except ModuleNotFoundError:
            continue
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Rule)
                    and value is not Rule
                    and value.__module__ == module.__name__
                ):
                    found.append(value())
    found.sort(key=lambda rule: rule.code)
    _check_unique(found)
    return tuple(found)


def _check_unique(rules: list[Rule]) -> None:
    seen: dict[str, Rule] = {}
    for rule in rules:
        for key in (rule.code, rule.slug):
            if key in seen:
                raise RuntimeError(f"duplicate rule id {key!r}: {seen[key]!r} and {rule!r}")
            seen[key] = rule


@cache
def _by_id() -> dict[str, Rule]:
    table: dict[str, Rule] = {}
    for rule in all_rules():
        table[rule.code] = rule
        table[rule.slug] = rule
    return table


def rule_by_id(identifier: str) -> Rule | None:
    """Find a rule by its code (`BEX101`, any case) or its slug (`fastapi-on-event`)."""
    table = _by_id()
    return table.get(identifier) or table.get(identifier.upper()) or table.get(identifier.lower())
