"""Time two versions of bex against each other on one directory, in alternation.

    python bench/ab.py OLD_SRC NEW_SRC DIRECTORY [--pairs 10] [--jobs N]

OLD_SRC and NEW_SRC are `src` directories of two checkouts (e.g. a `git worktree` of an
older commit, and this one). Each pair runs `python -m backend_expert check DIRECTORY
--no-cache` once with each tree on `PYTHONPATH`, old first: a shared machine's speed drifts
over minutes, and pairs taken back to back see the same conditions. Prints the median wall
and CPU time of each version and the ratio NEW / OLD pair by pair, with its median.

Both trees should have their bytecode compiled (`python -m compileall -q SRC`), or the first
pair pays for it. Stdlib only; the running interpreter runs both versions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def _run(src: str, directory: str, jobs: int | None) -> tuple[float, float]:
    """(wall, CPU) seconds of one cold run of the bex in `src`."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # use (and keep) compiled bytecode
    command = [sys.executable, "-m", "backend_expert", "check", directory, "--no-cache"]
    command += ["--exit-zero", "--output-format", "concise", "--quiet"]
    if jobs:
        command += ["--jobs", str(jobs)]
    before = os.times()
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True, cwd=os.sep)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("directory")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    directory = os.path.abspath(args.directory)
    runs: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for pair in range(1, args.pairs + 1):
        for name in ("old", "new"):
            runs[name].append(_run(getattr(args, name), directory, args.jobs))
        old, new = runs["old"][-1][0], runs["new"][-1][0]
        print(f"pair {pair}: old {old:.2f} s, new {new:.2f} s", file=sys.stderr)
    for name, rows in runs.items():
        wall = statistics.median(row[0] for row in rows)
        cpu = statistics.median(row[1] for row in rows)
        print(f"{name}: median wall {wall:.2f} s, median CPU {cpu:.2f} s")
    ratios = [new[0] / old[0] for old, new in zip(runs["old"], runs["new"], strict=True)]
    listed = " ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"new / old wall, pair by pair: {listed}; median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
