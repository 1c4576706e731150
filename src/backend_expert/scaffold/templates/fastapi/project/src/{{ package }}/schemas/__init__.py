"""Pydantic v2 models for what the API reads and returns (never the ORM objects themselves)."""
