"""Helpers shared by the Django ORM rules (not a rule)."""

from __future__ import annotations

from backend_expert.check import FileContext


def short(text: str, limit: int = 48, stand_in: str = "<queryset>") -> str:
    """Source for a message: as written when short, else `stand_in`."""
    text = " ".join(text.split())
    return text if len(text) <= limit else stand_in


def in_migrations(ctx: FileContext) -> bool:
    return "/migrations/" in f"/{ctx.path}"
