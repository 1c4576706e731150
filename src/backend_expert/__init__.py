"""bex: expert review of Python backend code.

>>> import backend_expert
>>> findings = backend_expert.check(["src"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from backend_expert.config import Config
    from backend_expert.findings import Finding

__all__ = ["__version__", "check"]


def check(paths: Iterable[str | Path], config: Config | None = None) -> list[Finding]:
    """Check files and directories; return the findings that are not suppressed."""
    from backend_expert.engine import run

    return run(list(paths), config=config, use_cache=False).findings
