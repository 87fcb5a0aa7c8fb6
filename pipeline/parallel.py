"""A pool of worker processes that survives its documents.

Each worker is a process of its own, forked from a fork server that imported the pipeline
once (nothing of the batch process's threads or open files comes along), that builds its
handler once (for a batch: a Prechecker with its OCR
engine loaded and warmed up, onnxruntime on one thread) and then handles one task at a time.
The parent sends a task, waits for the answer and watches:

- time: a task running longer than the time limit gets its worker killed (SIGKILL: OCR in C
  code does not stop for a Python exception) and replaced;
- memory: a worker caps its own address space (RLIMIT_AS, its size once warmed up plus the
  limit), so that an allocation past it fails as MemoryError; the parent also reads the
  worker's resident size and kills it past its warmed-up size plus the limit;
- crashes: a worker that dies (segfault, abort, the kernel's OOM killer) is replaced.

Each of these reaches the caller as a Failure for that task alone; the pool goes on with the
next. Workers die with the parent (PR_SET_PDEATHSIG), so a batch killed with SIGKILL leaves
no orphans behind.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import connection, get_context
from typing import Any

from .limits import limit_address_space, status_kb

log = logging.getLogger(__name__)

# Threads per worker: one, as there is one worker per core.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT")
# A worker that does not come up this often in a row means the machine, not a document, is wrong.
MAX_START_FAILURES = 3
# Seconds a worker may take to start (imports, OCR models loaded and warmed up).
START_TIMEOUT = 180.0


@dataclass(frozen=True, slots=True)
class Failure:
    """What became of a task that produced no result."""

    kind: str  # "timeout", "memory", "crash" (the worker died), "error" (the handler raised)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    timeout: float | None = 300.0  # seconds per task
    memory_bytes: int | None = 2048 * 1024 * 1024  # per task, above the warmed-up worker


@dataclass(slots=True)
class PoolStats:
    workers: int = 0
    started: int = 0  # worker processes started, replacements included
    failures: dict = field(default_factory=dict)  # kind -> count
    peak_rss_kb: int = 0  # the largest resident size any worker reached
    first_task_at: float | None = None  # perf_counter when the first task was sent
    last_result_at: float | None = None

    def count(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1

    @property
    def busy_seconds(self) -> float:
        """From the first task sent to the last result: the time without start-up."""
        if self.first_task_at is None or self.last_result_at is None:
            return 0.0
        return self.last_result_at - self.first_task_at

    def to_json(self) -> dict:
        return {"workers": self.workers, "started": self.started, "failures": dict(self.failures),
                "peak_rss_mb": round(self.peak_rss_kb / 1024, 1), "busy_seconds": round(self.busy_seconds, 2)}


class PoolError(RuntimeError):
    """The workers cannot start (the handler fails to build): no task can run."""


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _context() -> Any:
    """Workers forked from a fork server that has imported the pipeline once
    (pipeline.worker_preload), else spawned afresh."""
    try:
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["pipeline.worker_preload"])
        return ctx
    except ValueError:  # no fork server on this platform
        return get_context("spawn")


# --- the worker side -------------------------------------------------------------------------


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _peak_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _worker_main(conn: Any, factory_blob: bytes, memory_bytes: int | None) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    try:
        handler = pickle.loads(factory_blob)()
        try:
            import cv2

            cv2.setNumThreads(1)
        except ImportError:
            pass
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which stops the pool
        conn.send(("fatal", f"{type(exc).__name__}: {exc}"))
        return
    cap = limit_address_space(memory_bytes) if memory_bytes else None
    conn.send(("ready", status_kb("VmRSS") or 0, cap))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        # After a MemoryError or an exception nothing in the process is to be trusted: it says
        # so with its answer (the parent sends it nothing more) and exits.
        try:
            msg: tuple = ("done", handler(task), False)
        except MemoryError:
            msg = ("failed", Failure("memory", "MemoryError"), True)
        except Exception as exc:
            log.exception("worker: %s while handling a task", type(exc).__name__)
            msg = ("failed", Failure("error", type(exc).__name__), True)
        try:
            conn.send((*msg, _peak_kb()))
        except (OSError, ValueError, pickle.PicklingError, MemoryError):
            return
        if msg[2]:
            return


# --- the parent side -------------------------------------------------------------------------


class _Worker:
    def __init__(self, ctx: Any, slot: int, factory_blob: bytes, limits: WorkerLimits):
        self.slot = slot
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.conn = parent_end
        self.proc = ctx.Process(target=_worker_main, args=(child_end, factory_blob, limits.memory_bytes),
                                name=f"precheck-worker-{slot}", daemon=True)
        self.proc.start()
        child_end.close()
        self.ready = False
        self.task: Any = None
        self.sent_at = 0.0
        self.baseline_rss_kb = 0
        self.cap: int | None = None
        self.peak_kb = 0
        self.vm_kb = 0  # address space when last looked at
        self.retiring = False
        self.started_at = time.perf_counter()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def send(self, task: Any) -> None:
        self.task = task
        self.sent_at = time.perf_counter()
        self.conn.send(task)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            if self.proc.is_alive():
                self.conn.send(None)
        except (OSError, ValueError):
            pass


class LocalPool:
    """workers processes, each running handler_factory() once and then its tasks."""

    def __init__(self, workers: int, handler_factory: Callable[[], Callable[[Any], Any]],
                 limits: WorkerLimits = WorkerLimits(), poll: float = 0.2):
        self.n = max(1, workers)
        self.factory_blob = pickle.dumps(handler_factory)
        self.limits = limits
        self.poll = poll
        self.stats = PoolStats(workers=self.n)
        self._ctx = _context()
        self._start_failures = 0

    def run(self, tasks: Sequence[Any], on_done: Callable[[Any, Any], None]) -> PoolStats:
        """Handle every task; on_done(task, result or Failure) is called in this process, once
        per task, in the order they finish."""
        pending = deque(tasks)
        if not pending:
            return self.stats
        workers = [self._start(i) for i in range(min(self.n, len(pending)))]
        try:
            while pending or any(w.busy for w in workers):
                for w in workers:
                    if w.ready and not w.retiring and not w.busy and pending:
                        if self.stats.first_task_at is None:
                            self.stats.first_task_at = time.perf_counter()
                        w.send(pending.popleft())
                self._wait(workers, on_done)
                self._watch(workers, on_done)
                for i, w in enumerate(workers):
                    if not w.proc.is_alive() and not w.conn.closed and not w.conn.poll():
                        self._lost(w, on_done)
                    if w.conn.closed and (pending or w.busy):
                        workers[i] = self._start(w.slot)
        finally:
            for w in workers:
                w.stop()
            deadline = time.monotonic() + 5
            for w in workers:
                w.proc.join(max(0.0, deadline - time.monotonic()))
                if w.proc.is_alive():
                    w.proc.kill()
                    w.proc.join(1)
        return self.stats

    def _start(self, slot: int) -> _Worker:
        self.stats.started += 1
        return _Worker(self._ctx, slot, self.factory_blob, self.limits)

    def _wait(self, workers: list[_Worker], on_done: Callable[[Any, Any], None]) -> None:
        live = [w for w in workers if not w.conn.closed]
        ready = connection.wait([w.conn for w in live] + [w.proc.sentinel for w in live], timeout=self.poll)
        for w in live:
            if w.conn not in ready and w.proc.sentinel not in ready:
                continue
            while not w.conn.closed and w.conn.poll():
                try:
                    msg = w.conn.recv()
                except (EOFError, OSError):
                    self._lost(w, on_done)
                    break
                self._message(w, msg, on_done)

    def _message(self, w: _Worker, msg: tuple, on_done: Callable[[Any, Any], None]) -> None:
        kind = msg[0]
        if kind == "ready":
            w.ready, w.baseline_rss_kb, w.cap = True, msg[1], msg[2]
            self._start_failures = 0
            return
        if kind == "fatal":
            self._start_failures += 1
            log.error("a worker could not start: %s", msg[1])
            w.kill()
            if self._start_failures >= MAX_START_FAILURES:
                raise PoolError(f"workers cannot start: {msg[1]}")
            return
        _, outcome, retiring, peak = msg
        task, w.task = w.task, None
        w.retiring = w.retiring or retiring  # it gets no more tasks, and is replaced when gone
        w.peak_kb = max(w.peak_kb, peak)
        self.stats.peak_rss_kb = max(self.stats.peak_rss_kb, w.peak_kb)
        self.stats.last_result_at = time.perf_counter()
        if isinstance(outcome, Failure):
            self.stats.count(outcome.kind)
        on_done(task, outcome)

    def _watch(self, workers: list[_Worker], on_done: Callable[[Any, Any], None]) -> None:
        now = time.perf_counter()
        for w in workers:
            if not w.ready and not w.conn.closed and now - w.started_at > START_TIMEOUT:
                log.error("a worker did not start within %.0fs", START_TIMEOUT)
                w.kill()
                self._start_failures += 1
                if self._start_failures >= MAX_START_FAILURES:
                    raise PoolError(f"workers do not start within {START_TIMEOUT:.0f}s")
                continue
            if not w.busy or w.conn.closed:
                continue
            rss = status_kb("VmRSS", w.proc.pid) or 0
            w.vm_kb = status_kb("VmSize", w.proc.pid) or w.vm_kb
            w.peak_kb = max(w.peak_kb, rss)
            self.stats.peak_rss_kb = max(self.stats.peak_rss_kb, w.peak_kb)
            if self.limits.timeout is not None and now - w.sent_at > self.limits.timeout:
                self._fail(w, Failure("timeout", f"{now - w.sent_at:.0f}s"), on_done)
            elif self.limits.memory_bytes is not None and \
                    rss * 1024 > w.baseline_rss_kb * 1024 + self.limits.memory_bytes:
                self._fail(w, Failure("memory", f"{rss // 1024}MB resident"), on_done)

    def _fail(self, w: _Worker, failure: Failure, on_done: Callable[[Any, Any], None]) -> None:
        task, w.task = w.task, None
        w.kill()
        self.stats.count(failure.kind)
        self.stats.last_result_at = time.perf_counter()
        log.warning("worker %d killed (%s %s)", w.slot, failure.kind, failure.detail)
        on_done(task, failure)

    def _lost(self, w: _Worker, on_done: Callable[[Any, Any], None]) -> None:
        """The worker died. A task it held failed with it: near its memory cap, that was memory."""
        w.proc.join(1)
        code = w.proc.exitcode
        task, w.task = w.task, None
        w.kill()
        if not w.ready:
            self._start_failures += 1
            if self._start_failures >= MAX_START_FAILURES:
                raise PoolError(f"workers die while starting (exit code {code})")
            return
        if task is None:
            return
        near_cap = w.cap is not None and w.vm_kb * 1024 >= 0.9 * w.cap
        kind = "memory" if near_cap or code == -signal.SIGKILL else "crash"
        self.stats.count(kind)
        self.stats.last_result_at = time.perf_counter()
        log.warning("worker %d died (exit code %s) while checking a document", w.slot, code)
        on_done(task, Failure(kind, f"exit code {code}"))
