"""The worker processes of a run, and how the two passes share files out between them.

This process works too, as worker 0, beside `count - 1` forked workers. The index pass
hands out files by size, largest first, in shrinking chunks as workers free up, so they
finish together. Each worker keeps the trees it parsed, and the check pass sends files
back to the process that parsed them, so most files are parsed once. Checking costs more
per byte in some files than in others, so a worker done with its own files then takes the
smallest files left to another and parses them again (cheap, for small files); without
that, one worker sat idle for 0.3 to 0.5 s at the end of a netbox run. For the check pass
a worker needs the facts of the files it did not index: it is sent the other workers'
index results exactly as they arrived (bytes, not objects pickled again). Small runs stay
in this process.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.connection import wait

PARALLEL_THRESHOLD = 64  # below this many files a process pool costs more than it saves
OTHERS = "others"  # the key under which a worker's check state lists the other index results

Init = Callable[[dict], None]


class Pool:
    """Runs the index pass, then the check pass, on this process and forked workers.

    This process is worker 0: it takes its share of the files like the others, so no
    core waits for it and its share of the facts never goes through a pipe. Jobs are
    tuples whose first item is a file's path and second its relative path. `init(state)`
    prepares a process for a pass; `function(job)` does one file.
    """

    def __init__(self, workers: int, size: int) -> None:
        self.parallel = workers > 1 and size >= PARALLEL_THRESHOLD
        self.count = workers  # processes that check files, this one included
        self.pipes: list = []  # to workers 1, 2, ...
        self.processes: list = []
        self.owner: dict[str, int] = {}  # relative path -> the worker that parsed it
        self.results: list[list[bytes]] = []  # per worker: its index results, pickled
        self.primed: set[int] = set()  # forked workers that have this pass's state

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
        chunks = deque(_chunks([(_size(job), job) for job in jobs], self.count))
        payload = _dump(state)
        in_flight = dict.fromkeys(range(1, self.count), 0)
        results: list = []
        mine: list = []
        init(state)
        self.primed.clear()
        while True:
            for worker in in_flight:  # two chunks ahead: a worker never waits for this one
                while in_flight[worker] < 2 and chunks:
                    self._send(worker, init, function, payload, self._own(chunks, worker))
                    in_flight[worker] += 1
            if chunks:
                done = [function(job) for job in self._own(chunks, 0)]
                self.results[0].append(_dump(done))  # for the others' check pass
                mine.extend(done)
                timeout: float | None = 0
            elif any(in_flight.values()):
                timeout = None
            else:
                break
            busy = [worker for worker, count in in_flight.items() if count]
            for worker, raw in self._receive(busy, timeout):
                in_flight[worker] -= 1
                self.results[worker].append(raw)
                results.extend(pickle.loads(raw))
        return mine + results

    def check(
        self,
        init: Init,
        function: Callable,
        jobs: Sequence,
        here: dict,
        there: dict,
        extra: Callable[[], object] | None = None,
    ) -> tuple[list, object]:
        """Run `function` on every job: a worker checks the files it indexed, then helps the
        others with their smallest files (see `_Shares`). This process starts with the state
        `here`; forked workers with `there` plus the others' index results in
        `there[OTHERS]`. `extra()` (a module-level function, so that a worker can be sent
        it) runs once, in the first process done with its own files. Returns the results
        and what `extra()` returned (None without it)."""
        if not self.parallel or not jobs:
            results = _here(init, function, jobs, here)
            return results, extra() if extra is not None else None
        self._start()
        shares = _Shares(self.count, ((_size(job), self.owner.get(job[1]), job) for job in jobs))
        self.primed.clear()
        payloads = {}
        for worker in range(1, self.count):
            others = [raw for k, raws in enumerate(self.results) if k != worker for raw in raws]
            payloads[worker] = _dump({**there, OTHERS: others})
        sent: dict[int, deque[bool]] = {w: deque() for w in payloads}  # in flight: extra?
        results: list = []
        extra_result: list = []
        extra_taken = extra is None

        def refill() -> None:  # two messages ahead: a worker never waits for this process
            nonlocal extra_taken
            for worker, queue in sent.items():
                while len(queue) < 2:
                    if not extra_taken and shares.done_with_own(worker):
                        extra_taken = True
                        self._send(worker, init, _call, payloads[worker], [extra])
                        queue.append(True)
                    elif chunk := shares.chunk(worker):
                        self._send(worker, init, function, payloads[worker], chunk)
                        queue.append(False)
                    else:
                        break

        init(here)
        while True:
            refill()
            if not extra_taken and shares.done_with_own(0):
                extra_taken = True
                extra_result.append(extra())  # type: ignore[misc]
                timeout: float | None = 0
            elif chunk := shares.chunk(0, most=1):  # one at a time: the others are served
                results.append(function(chunk[0]))
                timeout = 0
            elif any(sent.values()):
                timeout = None
            else:
                break
            for worker, raw in self._receive([w for w, queue in sent.items() if queue], timeout):
                done = pickle.loads(raw)
                (extra_result if sent[worker].popleft() else results).extend(done)
        return results, extra_result[0] if extra_result else None

    def _own(self, chunks: deque, worker: int) -> list:
        chunk = chunks.popleft()
        for job in chunk:
            self.owner[job[1]] = worker
        return chunk

    def _send(
        self, worker: int, init: Init, function: Callable, payload: bytes, jobs: list
    ) -> None:
        """Send worker `worker` (1, 2, ...) a chunk; the state goes with its first one only."""
        first = worker not in self.primed
        self.primed.add(worker)
        self.pipes[worker - 1].send((init, function, payload if first else None, jobs))

    def _receive(self, busy: Sequence[int], timeout: float | None) -> list[tuple[int, bytes]]:
        """The results the `busy` workers have sent (waiting `timeout` at most for one), as
        (worker, bytes)."""
        if not busy:
            return []
        pipes = {self.pipes[worker - 1]: worker for worker in busy}
        return [(pipes[pipe], _result_of(pipe)) for pipe in wait(list(pipes), timeout)]

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
        self.results.append([])  # this process's
        for _ in range(self.count - 1):
            mine, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)
            self.results.append([])


def _call(task: Callable[[], object]) -> object:
    return task()


class _Shares:
    """Each worker's files for the check pass, largest first.

    A worker takes the files it parsed, from the largest down, in chunks that shrink as its
    share does. Done with its own share, it takes the smallest files left in the largest
    other share: it must parse them again, but small files cost little, and the workers
    finish together even when checking costs more per byte in one share than in another
    (per byte, some netbox files cost three times what others do).
    """

    def __init__(self, count: int, jobs: Iterable[tuple[int, int | None, tuple]]) -> None:
        shares: list[list[tuple[int, tuple]]] = [[] for _ in range(count)]
        self.left = [0] * count  # bytes not yet handed out, per share
        for size, owner, job in sorted(jobs, key=lambda item: -item[0]):
            if owner is None:  # not parsed in this run (its facts came from the cache)
                owner = self.left.index(min(self.left))
            shares[owner].append((size, job))
            self.left[owner] += size
        self.queues = [deque(share) for share in shares]

    def done_with_own(self, worker: int) -> bool:
        """Whether every file `worker` parsed has been handed out."""
        return not self.queues[worker]

    def chunk(self, worker: int, most: int | None = None) -> list[tuple]:
        """The next files for `worker` (at most `most` of them when given)."""
        own = self.queues[worker]
        if own:
            return self._take(worker, self.left[worker] / 4, most, own.popleft)
        others = [share for share, queue in enumerate(self.queues) if queue]
        if not others:
            return []
        victim = max(others, key=self.left.__getitem__)
        return self._take(victim, self.left[victim] / 8, most, self.queues[victim].pop)

    def _take(self, share: int, budget: float, most: int | None, pop: Callable) -> list[tuple]:
        taken: list[tuple] = []
        weight = 0
        while self.queues[share] and (weight < budget or not taken) and len(taken) != most:
            size, job = pop()
            taken.append(job)
            weight += size
            self.left[share] -= size
        return taken


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


def _result_of(pipe) -> bytes:
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
