#!/usr/bin/env python3
"""Time what an editor waits for: re-checking one ~1,000-line file against a warm model.

The model is built once (as `bex lsp` does on the first open), then the file is
edited and re-checked N times, as `bex lsp` does on a change: an edit inside a
function body (the model's facts do not change) and one that adds a function (the
facts change; the model catches up on save). A save after such an edit, which
rebuilds the model and re-runs the project rules, is timed too. Prints the medians
in ms; the target for a keystroke is under 100 ms.

    python bench/lsp_recheck.py                      # a synthetic FastAPI project
    python bench/lsp_recheck.py ROOT path/in/root.py # a real project and one of its files
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from backend_expert.warm import WarmProject

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "shop_api"


def synthetic(into: Path, lines: int = 1000) -> tuple[Path, str]:
    """The shop example plus one module of about `lines` lines of routes and queries."""
    shutil.copytree(EXAMPLE, into, dirs_exist_ok=True)
    chunk = Path(EXAMPLE / "app" / "routers" / "orders.py").read_text().splitlines()
    head = [line for line in chunk if line.startswith(("from ", "import "))]
    body = [line for line in chunk if not line.startswith(("from ", "import "))]
    out, copy = list(head), 0
    while len(out) < lines:
        out += [line.replace("def ", f"def v{copy}_") for line in body]
        copy += 1
    rel = "app/routers/big.py"
    (into / rel).write_text("\n".join(out[:lines]) + "\n")
    return into, rel


def measure(
    project: WarmProject, rel: str, text: str, runs: int, grow: bool, save: bool = False
) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) per run: on a shared machine the CPU time is the steadier figure."""
    times = []
    for run in range(runs):
        if grow:  # a new top-level function: the module's facts change
            edited = f"{text}\n\ndef added_{run}():\n    return {run}\n"
        else:  # a body edit: a different constant in the last line's expression
            edited = text.replace("return", f"return {run} and", 1)
        start, cpu = time.perf_counter(), time.process_time()
        project.check_text(rel, edited, project_level=save)
        times.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", type=Path)
    parser.add_argument("file", nargs="?")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.root is None:
            root, rel = synthetic(Path(scratch) / "shop")
        else:
            root, rel = args.root, args.file
        start = time.perf_counter()
        project = WarmProject(root, use_cache=False)
        built = (time.perf_counter() - start) * 1000
        text = (Path(root) / rel).read_text()
        project.check_text(rel, text)  # the first open
        body = measure(project, rel, text, args.runs, grow=False)
        grown = measure(project, rel, text, args.runs, grow=True)
        saved = measure(project, rel, text, max(args.runs // 3, 3), grow=True, save=True)
    print(
        f"project: {root} ({len(project.facts)} modules), file: {rel} ({len(text.splitlines())} lines)"
    )
    print(f"model built cold in {built:.0f} ms")
    rows = [
        ("keystroke, body edit", body),
        ("keystroke, new function", grown),
        ("save after a new function (model rebuilt, project rules)", saved),
    ]
    for label, times in rows:
        wall = statistics.median(t[0] for t in times)
        cpu = statistics.median(t[1] for t in times)
        print(f"{label}: median {wall:.1f} ms wall, {cpu:.1f} ms CPU, over {len(times)} runs")


if __name__ == "__main__":
    main()
