"""The worker processes of a run, and how the two passes share files out between them.

The index pass hands out files by size, largest first, in shrinking chunks as workers
free up, so they finish together. Each worker keeps the trees it parsed, and the check
pass sends every file back to the process that parsed it: a file is parsed once. (Letting
a worker that is done take files of another and parse them again did not pay: measured on
netbox, it was no faster.) For the check pass a worker needs the facts of the files it did
not index: it is sent the other workers' index results exactly as they arrived (bytes,
not objects pickled again). Small runs stay in this process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait

PARALLEL_THRESHOLD = 64  # below this many files a process pool costs more than it saves
OTHERS = "others"  # the key under which a worker's check state lists the other index results

Init = Callable[[dict], None]


class Pool:
    """Runs the index pass, then the check pass, on the same processes.

    Jobs are tuples whose first item is a file's path and second its relative path.
    `init(state)` prepares a process for a pass; `function(job)` does one file.
    """

    def __init__(self, workers: int, size: int) -> None:
        self.parallel = workers > 1 and size >= PARALLEL_THRESHOLD
        self.count = workers
        self.pipes: list = []
        self.processes: list = []
        self.owner: dict[str, int] = {}  # relative path -> the worker that parsed it
        self.results: list[list[bytes]] = []  # per worker: its index results, as received

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()

    def index(self, init: Init, function: Callable, jobs: Sequence, state: dict) -> list:
        """Run `function` on every job, each worker taking the next chunk when it is free."""
        if not self.parallel or not jobs:
            return _here(init, function, jobs, state)
        self._start()
        shared = deque(_chunks([(_size(job), job) for job in jobs], self.count))
        payload = _dump(state)

        def next_chunk(worker: int) -> list | None:
            if not shared:
                return None
            chunk = shared.popleft()
            for job in chunk:
                self.owner[job[1]] = worker
            return chunk

        def keep(worker: int, raw: bytes) -> None:
            self.results[worker].append(raw)

        return self._run(init, function, lambda worker: payload, next_chunk, keep)

    def check(
        self,
        init: Init,
        function: Callable,
        jobs: Sequence,
        state: dict,
        meanwhile: Callable[[], object] | None = None,
    ) -> list:
        """Run `function` on every job in the process that indexed its file (the others'
        index results are sent in `state[OTHERS]`); `meanwhile` runs here meanwhile."""
        if not self.parallel or not jobs:
            results = _here(init, function, jobs, state)
            if meanwhile is not None:
                meanwhile()
            return results
        self._start()
        shares: list[list[tuple]] = [[] for _ in range(self.count)]
        load = [0] * self.count
        for size, job in sorted(((_size(job), job) for job in jobs), key=lambda item: -item[0]):
            worker = self.owner.get(job[1])
            if worker is None:  # not parsed in this run (its facts came from the cache)
                worker = load.index(min(load))
            load[worker] += size
            shares[worker].append(job)

        def next_chunk(worker: int) -> list | None:  # one chunk each: its whole share
            share, shares[worker] = shares[worker], []
            return share or None

        def payload(worker: int) -> bytes:
            others = [raw for k, raws in enumerate(self.results) if k != worker for raw in raws]
            return _dump({**state, OTHERS: others})

        return self._run(init, function, payload, next_chunk, meanwhile=meanwhile)

    def _run(
        self,
        init: Init,
        function: Callable,
        payload: Callable[[int], bytes],
        next_chunk: Callable[[int], list | None],
        keep: Callable[[int, bytes], None] | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> list:
        """Send chunks to the workers as they free up; the pass's state goes with each
        worker's first chunk. `meanwhile` runs here once every worker has its first."""
        idle = dict(enumerate(self.pipes))
        busy: dict = {}
        primed: set[int] = set()
        results: list = []
        while True:
            for worker, pipe in list(idle.items()):
                chunk = next_chunk(worker)
                if chunk is None:
                    break
                del idle[worker]
                state = None if worker in primed else payload(worker)
                primed.add(worker)
                pipe.send((init, function, state, chunk))
                busy[pipe] = worker
            if meanwhile is not None:
                meanwhile()
                meanwhile = None
            if not busy:
                return results
            for pipe in wait(list(busy)):
                worker = busy.pop(pipe)
                raw = _receive(pipe)
                if keep is not None:
                    keep(worker, raw)
                results.extend(pickle.loads(raw))
                idle[worker] = pipe

    def _start(self) -> None:
        if self.processes:
            return
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        if method == "fork":
            # Imported once here, the rule modules are inherited by every worker instead of
            # being imported again in each (about 0.2 s of CPU per worker).
            from backend_expert.rules import all_rules

            all_rules()
        context = multiprocessing.get_context(method)
        for _ in range(self.count):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
            self.results.append([])


def _here(init: Init, function: Callable, jobs: Sequence, state: dict) -> list:
    init(state)
    return [function(job) for job in jobs]


def _chunks(sized: list[tuple[int, tuple]], workers: int) -> list[list[tuple]]:
    """Largest files first, in chunks of about 1/(2 x workers) of the bytes still to go
    (guided scheduling): big chunks early keep messages few, small ones late let the
    workers finish together."""
    sized.sort(key=lambda item: -item[0])
    remaining = sum(size for size, _ in sized) or 1
    floor = remaining / (40 * workers)
    chunks: list[list[tuple]] = []
    chunk: list[tuple] = []
    weight = 0
    for size, job in sized:
        chunk.append(job)
        weight += size
        if weight >= max(floor, remaining / (2 * workers)):
            chunks.append(chunk)
            remaining -= weight
            chunk, weight = [], 0
    if chunk:
        chunks.append(chunk)
    return chunks


def _size(job: tuple) -> int:
    try:
        return os.stat(job[0]).st_size
    except OSError:
        return 0


def _dump(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _receive(pipe) -> bytes:
    """A worker's results, still pickled; a worker that failed raises here."""
    raw = pipe.recv_bytes()
    if raw.startswith(_FAILED):
        raise RuntimeError(f"a worker process failed:\n{raw[len(_FAILED) :].decode()}")
    return raw


_FAILED = b"bex-worker-failed:"


def _serve(pipe) -> None:
    """A worker process: run the chunks it is sent until it is sent None."""
    gc.disable()
    while (message := pipe.recv()) is not None:
        init, function, payload, jobs = message
        try:
            if payload is not None:
                init(pickle.loads(payload))
            pipe.send_bytes(_dump([function(job) for job in jobs]))
        except Exception:  # reported by the parent as an internal error
            pipe.send_bytes(_FAILED + traceback.format_exc().encode())
