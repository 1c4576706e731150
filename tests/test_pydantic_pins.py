"""Pydantic 1 held by a dependency specifier (the Pydantic v1 rules stay quiet there)."""

from __future__ import annotations

import pytest

from backend_expert.pydantic_models import _below


@pytest.mark.parametrize(
    ("spec", "limit", "below"),
    [
        ("==1.10.7", "2", True),
        ("<2", "2", True),
        ("~=1.10", "2", True),
        ("<=1.10.2", "2", True),
        ("==2.11.4", "2", False),
        (">=1.10,<3", "2", False),
        ("==0.88.0", "0.100", True),
        ("==0.115.12", "0.100", False),
        (">=0.95", "0.100", False),
    ],
)
def test_below(spec, limit, below):
    assert _below(spec, limit) is below
