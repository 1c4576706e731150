"""Fill in the choices the user did not give: ask in a terminal, else take the defaults."""

from __future__ import annotations

import click

from backend_expert.scaffold.options import (
    API_STYLES,
    DATABASES,
    FRAMEWORKS,
    Choices,
    defaults_for,
)

ORMS_FOR = {"fastapi": ("sqlalchemy",), "django": ("django-orm",), "flask": ("sqlalchemy",)}


def ask_missing(name: str, *, interactive: bool, **given: object) -> Choices:
    """Choices from flags, prompts (only for what is missing) and the decision matrix."""
    framework = given.get("framework")
    if framework is None:
        framework = (
            click.prompt("framework", type=click.Choice(FRAMEWORKS), default="fastapi")
            if interactive
            else "fastapi"
        )
    defaults = defaults_for(str(framework))
    values: dict[str, object] = {"framework": framework}
    for key, choices in (
        ("use_async", None),
        ("database", DATABASES),
        ("orm", ORMS_FOR[str(framework)]),
        ("api_style", API_STYLES),
    ):
        value = given.get(key)
        default = defaults.get(key, "rest")
        if value is None and interactive:
            if choices is None:
                value = click.confirm("async", default=bool(default))
            else:
                value = click.prompt(
                    key.replace("_", " "), type=click.Choice(choices), default=default
                )
        values[key] = default if value is None else value
    return Choices(name=name, testing=str(given.get("testing") or "pytest"), **values)  # type: ignore[arg-type]
