"""Pydantic v2 rules."""
