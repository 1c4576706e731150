"""The cache re-checks an unchanged tree from memory, and invalidates what a change touches;
the process pool finds exactly what a single process finds."""

from __future__ import annotations

import os
import time

import pytest

from backend_expert.engine import run

APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"
EVENTS = 'from svc.main import app\n\n\n@app.on_event("startup")\nasync def warm():\n    pass\n'


def test_warm_run_comes_from_the_cache(write_project):
    root = write_project({"svc/__init__.py": "", "svc/main.py": APP, "svc/events.py": EVENTS})
    cold = run([root])
    warm = run([root])
    assert cold.from_cache == 0 and warm.from_cache == 3
    assert warm.findings == cold.findings
    assert (root / ".bex_cache" / ".gitignore").exists()


def test_a_change_in_another_module_invalidates_cross_file_findings(write_project):
    root = write_project({"svc/__init__.py": "", "svc/main.py": APP, "svc/events.py": EVENTS})
    assert [f.path for f in run([root]).findings] == ["svc/events.py"]
    (root / "svc" / "main.py").write_text(
        "class Bus:\n    def on_event(self, name):\n        return print\n\napp = Bus()\n"
    )
    assert run([root]).findings == []  # events.py itself did not change, its meaning did


def test_edited_file_is_rechecked(write_project):
    root = write_project({"svc/__init__.py": "", "svc/main.py": APP, "svc/events.py": EVENTS})
    run([root])
    (root / "svc" / "events.py").write_text(
        EVENTS + '\n\napp.add_event_handler("shutdown", print)\n'
    )
    result = run([root])
    assert [f.line for f in result.findings] == [4, 9]


def test_no_cache_writes_nothing(write_project):
    root = write_project({"a.py": APP})
    run([root], use_cache=False)
    assert not (root / ".bex_cache").exists()


def test_checking_one_file_still_knows_the_project(write_project):
    root = write_project({"svc/__init__.py": "", "svc/main.py": APP, "svc/events.py": EVENTS})
    result = run([root / "svc" / "events.py"], use_cache=False)
    assert result.files == 1
    assert [f.path for f in result.findings] == ["svc/events.py"]


def test_parallel_and_serial_runs_agree(write_project):
    files = {"svc/__init__.py": "", "svc/main.py": APP}
    for index in range(80):
        files[f"svc/handlers_{index}.py"] = EVENTS if index % 3 == 0 else "x = 1\n"
    root = write_project(files)
    serial = run([root], use_cache=False, jobs=1)
    parallel = run([root], use_cache=False, jobs=2)
    assert len(serial.findings) == 27
    assert parallel.findings == serial.findings


def test_namespace_subpackages_get_unique_module_names(write_project):
    # dispatch-style layout: sub-packages without __init__.py inside a package.
    root = write_project(
        {
            "src/svc/__init__.py": "",
            "src/svc/main.py": APP,
            "src/svc/orders/models.py": "x = 1\n",
            "src/svc/orders/events.py": 'from .models import x\nfrom svc.main import app\n\n\n@app.on_event("startup")\nasync def warm():\n    pass\n',
            "src/svc/users/models.py": "y = 1\n",
        }
    )
    result = run([root], use_cache=False)
    modules = {facts.path: name for name, facts in result.project.modules.items()}
    assert modules["src/svc/orders/models.py"] == "svc.orders.models"
    assert modules["src/svc/users/models.py"] == "svc.users.models"
    assert [f.path for f in result.findings] == ["src/svc/orders/events.py"]
    assert result.project.modules["svc.orders.events"].imports["x"] == "svc.orders.models.x"


def test_parallel_run_over_a_partly_cached_tree_agrees_with_a_fresh_one(write_project, tmp_path):
    # Workers build their model from three sources: their own facts, the other workers'
    # index results, and the facts the parent read from the cache.
    files = {"svc/__init__.py": "", "svc/main.py": APP}
    for index in range(80):
        files[f"svc/handlers_{index}.py"] = EVENTS if index % 3 == 0 else "x = 1\n"
    root = write_project(files)
    cache = tmp_path / "cache"
    run([root], cache_dir=cache, jobs=2)
    (root / "svc/handlers_1.py").write_text(EVENTS)  # a new finding, and a new model key
    partly_cached = run([root], cache_dir=cache, jobs=2)
    fresh = run([root], use_cache=False, jobs=1)
    assert len(fresh.findings) == 28
    assert partly_cached.findings == fresh.findings


def _no_setup(state: dict) -> None:
    pass


def _pid_of(job: tuple) -> tuple[str, int]:
    import os

    return job[1], os.getpid()


_PARENT = os.getpid()  # forked workers inherit it, and have pids of their own


def _slow_in_parent(job: tuple) -> str:
    if os.getpid() == _PARENT:
        time.sleep(0.02)
    return job[1]


def _slow_in_worker(job: tuple) -> str:
    if os.getpid() != _PARENT:
        time.sleep(0.02)
    return job[1]


def _pid() -> int:
    return os.getpid()


def _pid_slow_in_parent(job: tuple) -> tuple[str, int]:
    return _slow_in_parent(job), os.getpid()


def _jobs(tmp_path, count: int = 100) -> list[tuple[str, str]]:
    jobs = []
    for index in range(count):
        path = tmp_path / f"m{index}.py"
        path.write_text("x = 1\n" * (index + 1))
        jobs.append((str(path), path.name))
    return jobs


def test_a_worker_checks_the_files_it_indexed_then_the_smallest_of_a_slower_one(tmp_path):
    # Files are parsed once, in the index pass, and checked by the process that kept their
    # tree; a process done early parses again only the smallest files of another's share.
    from backend_expert.workers import Pool

    jobs = _jobs(tmp_path)
    with Pool(2, len(jobs)) as pool:
        indexed = dict(pool.index(_no_setup, _pid_of, jobs, {}))
        pairs, _ = pool.check(_no_setup, _pid_slow_in_parent, jobs, {}, {})
    assert sorted(name for name, _ in pairs) == sorted(name for _, name in jobs)  # each once
    assert len(set(indexed.values())) == 2  # both workers took part
    checked, parent = dict(pairs), os.getpid()
    assert all(checked[name] != parent for name, pid in indexed.items() if pid != parent)
    stolen = [name for name, pid in checked.items() if pid != parent and indexed[name] == parent]
    kept = [name for name, pid in checked.items() if pid == parent]
    assert stolen and kept  # the fast worker helped the slow one, from its smallest files

    def size(name: str) -> int:
        return (tmp_path / name).stat().st_size

    assert max(map(size, stolen)) <= min(map(size, kept))


@pytest.mark.parametrize("slow", ["parent", "worker"])
def test_the_extra_task_runs_once_in_the_first_process_done_with_its_files(tmp_path, slow):
    # The project-level rules run there, instead of after every file is checked.
    from backend_expert.workers import Pool

    jobs = _jobs(tmp_path)
    function = _slow_in_parent if slow == "parent" else _slow_in_worker
    with Pool(2, len(jobs)) as pool:
        pool.index(_no_setup, _pid_of, jobs, {})
        checked, ran_in = pool.check(_no_setup, function, jobs, {}, {}, _pid)
        _, nothing = pool.check(_no_setup, function, jobs, {}, {})
    assert sorted(checked) == sorted(name for _, name in jobs)  # each file once
    assert (ran_in == os.getpid()) == (slow == "worker")
    assert nothing is None


def test_index_chunks_go_largest_first_and_shrink():
    from backend_expert.workers import _chunks

    sized = [(size, (f"/p/{size}", f"{size}")) for size in range(1, 201)]
    chunks = _chunks(list(sized), 2)
    flat = [job for chunk in chunks for job in chunk]
    assert sorted(flat) == sorted(job for _, job in sized)  # each file once
    assert flat[0] == ("/p/200", "200")
    weights = [sum(int(name) for _, name in chunk) for chunk in chunks]
    assert weights[0] > weights[len(weights) // 2] > 0
    assert len(chunks) >= 8  # small chunks at the end let workers finish together
