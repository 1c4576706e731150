#!/usr/bin/env python3
"""Time bex against peer tools (ruff, bandit, semgrep) on one directory.

For every tool the script runs the command N times (default 3), measures the
wall time of each run and the peak resident memory of the child, and prints a
Markdown table (median wall time, ratio to bex cold, peak memory) followed by
the environment it ran in. Stdlib only; see bench/README.md.

    python bench/compare.py /work/corpora/netbox --runs 3 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEMGREP_RULES = HERE / "semgrep-local.yml"
ALL_TOOLS = ("bex", "ruff", "bandit", "semgrep")
RUFF_SELECT = ("FAST", "DJ", "ASYNC", "S", "UP")
SKIP_DIRS = {".git", "__pycache__", ".bex_cache", ".ruff_cache"}
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Run:
    wall: float
    max_rss_kib: int
    tree_rss_kib: int | None
    returncode: int
    output_lines: int
    timed_out: bool = False


@dataclass
class Result:
    name: str
    command: list[str]
    status: str = "ok"  # ok | not installed | error rc=N | timeout
    note: str = ""
    runs: list[Run] = field(default_factory=list)

    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float | None:
        return statistics.median(self.walls()) if self.runs else None

    @property
    def peak_rss_kib(self) -> int | None:
        return max(r.max_rss_kib for r in self.runs) if self.runs else None

    @property
    def peak_tree_kib(self) -> int | None:
        values = [r.tree_rss_kib for r in self.runs if r.tree_rss_kib is not None]
        return max(values) if values else None


# --------------------------------------------------------------------------- measuring


def _descendants(root: int) -> list[int]:
    """Return root and every live process below it (scans /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may hold spaces or parentheses: split after the last ')'
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _tree_rss_kib(root: int) -> int:
    total = 0
    for pid in _descendants(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE_SIZE // 1024
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreeSampler(threading.Thread):
    """Poll the summed RSS of a process tree (for tools that fork workers)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, _tree_rss_kib(self.pid))
            self.done.wait(self.interval)


def run_once(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    sample_tree: float | None,
    log: Path,
) -> Run:
    """Run cmd once; wall time via perf_counter, peak RSS via os.wait4.

    os.wait4 gives the child's ru_maxrss, which on Linux is the largest RSS of
    the child or any descendant it reaped: the biggest single process, not the
    sum over workers. --tree-rss adds a sampled sum over the live process tree.
    """
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timed_out = threading.Event()

        def _kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, _kill)
        timer.start()
        sampler = TreeSampler(proc.pid, sample_tree) if sample_tree else None
        if sampler:
            sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # Ctrl-C: the child is in its own session, stop it too
            _kill()
            proc.wait()
            raise
        wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from reaping again
        if sampler:
            sampler.done.set()
            sampler.join()
    return Run(
        wall=wall,
        max_rss_kib=usage.ru_maxrss,  # KiB on Linux
        tree_rss_kib=sampler.peak if sampler else None,
        returncode=proc.returncode,
        output_lines=log.read_bytes().count(b"\n"),
        timed_out=timed_out.is_set(),
    )


# --------------------------------------------------------------------------- tools


def find_exe(name: str, extra_dirs: list[Path]) -> str | None:
    """Prefer the venv of the running interpreter, then --bin-dir, then PATH."""
    for d in [Path(sys.executable).parent, *extra_dirs]:
        cand = d / name
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which(name)


def capture(cmd: list[str], timeout: float = 60, env: dict[str, str] | None = None) -> str | None:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # some tools (semgrep) render --help as a man page with backspace overstrikes
    return re.sub(".\x08", "", proc.stdout or proc.stderr).strip()


def tool_version(cmd: list[str], env: dict[str, str]) -> str:
    out = capture([*cmd, "--version"], env=env)
    return out.splitlines()[0] if out else "unknown"


def ruff_selection(ruff: str) -> tuple[list[str], str]:
    """Return the --select flags and a note: FAST needs --preview on some ruff versions."""

    def accepted(*flags: str) -> bool:
        with tempfile.TemporaryDirectory() as empty:
            cmd = [ruff, "check", "--isolated", "--no-cache", "--quiet", *flags, empty]
            try:
                return subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                return False

    select = ",".join(RUFF_SELECT)
    if accepted("--select", select):
        return ["--select", select], ""
    if accepted("--select", select, "--preview"):
        return ["--select", select, "--preview"], "FAST needs --preview"
    rest = ",".join(s for s in RUFF_SELECT if s != "FAST")
    return ["--select", rest], "FAST unknown to this ruff: dropped"


def bex_supports(bex: list[str], flag: str) -> bool:
    out = capture([*bex, "check", "--help"]) or ""
    return flag in out


# --------------------------------------------------------------------------- corpus


def count_python(root: Path) -> tuple[int, int]:
    """Count .py files and lines; reading them also warms the page cache."""
    files = lines = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in filenames:
            if name.endswith(".py"):
                files += 1
                with open(os.path.join(dirpath, name), "rb") as fh:
                    lines += fh.read().count(b"\n")
    return files, lines


def environment(tool_versions: dict[str, str]) -> dict[str, object]:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PHYS_PAGES") * PAGE_SIZE / 2**30
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "tools": tool_versions,
    }


# --------------------------------------------------------------------------- report


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def fmt_mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.0f}"


def display(cmd: list[str], aliases: dict[str, str]) -> str:
    """Shell-quoted command with the program shown by name and long paths aliased."""
    words = [Path(cmd[0]).name, *cmd[1:]]
    shown = []
    for word in words:
        for path, alias in aliases.items():
            word = word.replace(path, alias)
        shown.append(word if word.startswith("$") else shlex.quote(word))
    return " ".join(shown)


def markdown(
    results: list[Result],
    *,
    target: Path,
    files: int,
    lines: int,
    runs: int,
    env: dict[str, object],
    tree: bool,
    aliases: dict[str, str],
) -> str:
    base = next((r for r in results if r.name == "bex cold" and r.runs), None)
    plural = "s" if runs != 1 else ""
    out = [
        f"### `{target.name}`: {files} .py files, {lines:,} lines; median of {runs} run{plural}",
        "",
    ]
    head = ["tool", "median wall (s)", "min-max (s)", "vs bex cold", "max RSS (MiB)"]
    if tree:
        head.append("tree RSS (MiB)")
    head += ["output lines", "status"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] + ["---:"] * (5 + tree) + ["---"]) + "|")
    for r in results:
        walls = r.walls()
        span = f"{min(walls):.2f}-{max(walls):.2f}" if walls else "-"
        ratio = "-"
        if base and r.median is not None and base.median:
            ratio = f"{r.median / base.median:.2f}x"
        row = [r.name, fmt_s(r.median), span, ratio, fmt_mib(r.peak_rss_kib)]
        if tree:
            row.append(fmt_mib(r.peak_tree_kib))
        row.append(str(r.runs[-1].output_lines) if r.runs else "-")
        row.append(r.status + (f" ({r.note})" if r.note else ""))
        out.append("| " + " | ".join(row) + " |")
    out += [
        "",
        "Max RSS: peak resident set of the largest single process (os.wait4 ru_maxrss)."
        " Output lines: stdout+stderr lines of the last run (bandit writes to /dev/null).",
    ]
    if tree:
        out.append("Tree RSS: sampled (50 ms) peak of the summed RSS of the whole process tree.")
    out += ["", f"Commands (`$DIR` = `{target}`, `$CACHE` = a fresh temporary directory):", ""]
    out += [f"- {r.name}: `{display(r.command, aliases)}`" for r in results if r.command]
    tools = env["tools"]
    assert isinstance(tools, dict)
    out += [
        "",
        f"Environment: {env['cpu_count']} CPUs (affinity {env['cpu_affinity']}, {env['cpu_model']}),"
        f" {env['memory_gib']} GiB RAM, Python {env['python']}, {env['platform']};"
        f" load average at start {env['load_avg_at_start']}.",
        "Tool versions: " + "; ".join(f"{k}: {v}" for k, v in tools.items()) + ".",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- main


def _timed_run(
    res: Result,
    index: int,
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    log: Path,
    interval: float | None,
) -> None:
    run = run_once(
        res.command, cwd=tmp, env=env, timeout=args.timeout, sample_tree=interval, log=log
    )
    print(
        f"[{res.name}] run {index + 1}/{args.runs}: {run.wall:.2f}s,"
        f" {run.max_rss_kib / 1024:.0f} MiB, rc={run.returncode},"
        f" {run.output_lines} output lines",
        file=sys.stderr,
    )
    res.runs.append(run)
    if run.timed_out or run.returncode not in OK_CODES.get(res.name, {0}):
        res.status = "timeout" if run.timed_out else f"error rc={run.returncode}"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        print("\n".join(f"    {t}" for t in tail), file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("directory", type=Path)
    p.add_argument("--runs", type=int, default=3, help="timed runs per tool (default 3)")
    p.add_argument("--bex", help="bex command (shell words); default: bex beside python or on PATH")
    p.add_argument(
        "--tools", default=",".join(ALL_TOOLS), help="comma list of " + ",".join(ALL_TOOLS)
    )
    p.add_argument("--jobs", type=int, help="pass --jobs N to bex")
    p.add_argument("--json", type=Path, help="also save the results as JSON here")
    p.add_argument(
        "--bin-dir", type=Path, action="append", default=[], help="extra dir to look up tools"
    )
    p.add_argument("--timeout", type=float, default=1800, help="seconds per run before kill")
    p.add_argument(
        "--tree-rss",
        action="store_true",
        help="also sample the summed RSS of the process tree (adds a little overhead)",
    )
    p.add_argument("--semgrep-config", type=Path, default=SEMGREP_RULES)
    args = p.parse_args(argv)
    unknown = set(args.tools.split(",")) - set(ALL_TOOLS)
    if unknown:
        p.error(f"unknown tools: {', '.join(sorted(unknown))}")
    if args.runs < 1:
        p.error("--runs must be >= 1")
    if not args.directory.is_dir():
        p.error(f"not a directory: {args.directory}")
    return args


def build_commands(
    args: argparse.Namespace, target: str, cache_dir: str, env: dict[str, str]
) -> tuple[list[Result], dict[str, str]]:
    """Return the planned results (commands) and tool versions."""
    tools = args.tools.split(",")
    results: list[Result] = []
    versions: dict[str, str] = {}

    if "bex" in tools:
        bex = shlex.split(args.bex) if args.bex else None
        if bex is None:
            found = find_exe("bex", args.bin_dir)
            bex = [found] if found else None
        if bex is None or capture([*bex, "--version"], env=env) is None:
            results += [
                Result("bex cold", [], "not installed"),
                Result("bex warm", [], "not installed"),
            ]
        else:
            versions["bex"] = tool_version(bex, env)
            common = ["--exit-zero", "--output-format", "concise", "--quiet"]
            if args.jobs:
                common += ["--jobs", str(args.jobs)]
            cold = [*bex, "check", target, "--no-cache", *common]
            if bex_supports(bex, "--cache-dir"):
                warm, note = [*bex, "check", target, *common, "--cache-dir", cache_dir], ""
            else:
                env["BEX_CACHE_DIR"] = cache_dir
                warm, note = [*bex, "check", target, *common], "no --cache-dir: BEX_CACHE_DIR set"
            results.append(Result("bex cold", cold))
            results.append(Result("bex warm", warm, note=note))

    if "ruff" in tools:
        ruff = find_exe("ruff", args.bin_dir)
        if ruff is None:
            results.append(Result("ruff", [], "not installed"))
        else:
            versions["ruff"] = tool_version([ruff], env)
            select, note = ruff_selection(ruff)
            cmd = [ruff, "check", target, "--isolated", *select, "--exit-zero", "--no-cache"]
            cmd += ["--output-format", "concise", "--quiet"]
            results.append(Result("ruff", cmd, note=note))

    if "bandit" in tools:
        bandit = find_exe("bandit", args.bin_dir)
        if bandit is None:
            results.append(Result("bandit", [], "not installed"))
        else:
            versions["bandit"] = tool_version([bandit], env)
            results.append(
                Result("bandit", [bandit, "-r", target, "-q", "-f", "json", "-o", os.devnull])
            )

    if "semgrep" in tools:
        semgrep = find_exe("semgrep", args.bin_dir)
        if semgrep is None:
            results.append(Result("semgrep", [], "not installed"))
        else:
            versions["semgrep"] = tool_version([semgrep], env)
            cmd = [semgrep, "scan", "--config", str(args.semgrep_config), "--metrics=off"]
            cmd += ["--disable-version-check", "--quiet"]
            # semgrep's built-in ignore list skips test/ and tests/: scan what the others scan
            note = "default ignores apply: tests/ skipped"
            if "--x-ignore-semgrepignore-files" in (capture([semgrep, "scan", "--help"]) or ""):
                cmd.append("--x-ignore-semgrepignore-files")
                note = ""
            results.append(Result("semgrep", [*cmd, target], note=note))
    return results, versions


# Exit codes that still mean "the tool ran to the end".
OK_CODES = {"bandit": {0, 1}, "semgrep": {0, 1}}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    target_path = args.directory.resolve()
    target = str(target_path)
    env = dict(os.environ)
    # keep semgrep offline: no version check, no metrics; no colour anywhere
    env.update(SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off", NO_COLOR="1")
    # As on a user's machine (pip compiles bytecode when it installs): a sandbox that sets
    # PYTHONDONTWRITEBYTECODE would make an editable install recompile every module per run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    files, lines = count_python(target_path)
    tmp = Path(tempfile.mkdtemp(prefix="bex-bench-"))
    cache_dir = tmp / "bex-cache"
    try:
        results, versions = build_commands(args, target, str(cache_dir), env)
        env_info = environment(versions)
        interval = 0.05 if args.tree_rss else None
        log = tmp / "out.log"
        for res in results:
            if res.status != "ok":
                print(f"[{res.name}] {res.status}", file=sys.stderr)
                continue
            # Not timed: one run first, so every tool starts with the files in the OS cache and
            # its own bytecode compiled; for the warm row it also fills bex's cache.
            print(f"[{res.name}] warm-up run ...", file=sys.stderr)
            run_once(res.command, cwd=tmp, env=env, timeout=args.timeout, sample_tree=None, log=log)
        # Round-robin: run i of every tool, then run i + 1. A shared machine's speed drifts
        # over minutes; taking the tools in turn gives each the same conditions.
        for i in range(args.runs):
            for res in results:
                if res.status == "ok":
                    _timed_run(res, i, args, env, tmp, log, interval)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report = markdown(
        results,
        target=target_path,
        files=files,
        lines=lines,
        runs=args.runs,
        env=env_info,
        tree=args.tree_rss,
        aliases={str(cache_dir): "$CACHE", target: "$DIR"},
    )
    print(report)
    if args.json:
        payload = {
            "directory": target,
            "py_files": files,
            "py_lines": lines,
            "runs": args.runs,
            "jobs": args.jobs,
            "environment": env_info,
            "results": [
                {**asdict(r), "median": r.median, "peak_rss_kib": r.peak_rss_kib} for r in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
