"""`bex review`: run every rule, build the review and render it."""

from __future__ import annotations

import os
from pathlib import Path

from backend_expert.config import ConfigError, Selection, load_config
from backend_expert.discover import find_root


def run_review(
    path: Path, output_format: str, use_cache: bool = True, jobs: int | None = None
) -> str:
    from backend_expert.engine import run
    from backend_expert.review import build_review

    target = Path(os.path.abspath(path))
    if not target.exists():
        raise ConfigError(f"{path}: no such file or directory")
    root = target if target.is_dir() else find_root(target)
    config = load_config(find_root(root))
    config.root = root  # the project rules speak of the directory under review
    ignored = tuple(item for layer in config.layers for item in layer.ignore)
    config.layers.append(Selection(select=("ALL",)))  # the review speaks of every rule...
    if ignored:
        config.layers.append(Selection(ignore=ignored))  # ...but the ones the project turned off
    result = run([root], config, use_cache=use_cache, jobs=jobs)
    review = build_review(result, config.architecture_layers or None)
    if output_format == "html":
        from backend_expert.review.html import render
    else:
        from backend_expert.review.markdown import render
    return render(review)
