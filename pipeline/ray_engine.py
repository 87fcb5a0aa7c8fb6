"""The batch on Ray: `precheck batch DIR --out OUT --engine ray [--address ADDR]`.

The same stages as the local pool (runner.check_task in a SubmissionHandler), in a pool of
Ray actors, each of which loads and warms up its OCR engine once. The PDFs travel to the
actors as bytes and the reports (with the page images of the HTML report, as files) come
back to this process, which writes everything into OUT: a node of the cluster needs the
package installed, not access to the input or output folders. The page cache is opened by
each actor at the batch's cache path; on a cluster that path is on each node (a cache of
that node's own pages), on a local instance it is the batch's one cache.

Limits as in the local pool: a task past the time limit gets its actor killed and replaced;
each actor caps its own address space (RLIMIT_AS), and a MemoryError, an actor that dies or
Ray's own out-of-memory killer become RESOURCE_LIMIT / PDF_UNREADABLE for that document.

Without an address a local Ray instance is started for the batch (node IP 127.0.0.1, no
dashboard, one CPU per worker) and shut down after it. Ray is the `ray` extra
(pip install '.[ray]'); the local pool needs none of it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .parallel import Failure, PoolStats, WorkerLimits

log = logging.getLogger(__name__)


class _CheckActor:
    """One Ray actor: a SubmissionHandler kept for many tasks."""

    def __init__(self, options: Any, rules: Any, cache: Any, ship_images: bool, memory_bytes: int | None) -> None:
        from .limits import limit_address_space
        from .runner import SubmissionHandler

        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        self.ship_images = ship_images
        self.handler = SubmissionHandler(options, rules, cache, images_out=None)
        self.cap = limit_address_space(memory_bytes) if memory_bytes else None

    def ready(self) -> int:
        return os.getpid()

    def check(self, task: Any) -> tuple[str, Any, int]:
        """("done", SubmissionResult, peak KB) or ("memory", detail, peak KB)."""
        import resource

        tmp = Path(tempfile.mkdtemp(prefix="precheck-ray-")) if self.ship_images else None
        self.handler.checker.images_out = tmp
        try:
            result = self.handler(task)
            if tmp is not None:
                for f in sorted(tmp.rglob("*")):
                    if f.is_file() and not f.name.startswith("."):
                        result.files[str(f.relative_to(tmp))] = f.read_bytes()
            out: tuple[str, Any] = ("done", result)
        except MemoryError:
            out = ("memory", "MemoryError")
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        return (*out, int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def start_ray(address: str | None, workers: int) -> bool:
    """Connect to the cluster at address, or start a local instance; True when started here."""
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--engine ray needs Ray: pip install 'evidence-precheck[ray]'") from exc
    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
        return False
    ray.init(address=None, _node_ip_address="127.0.0.1", include_dashboard=False, num_cpus=max(1, workers),
             log_to_driver=False)
    return True


class RayPool:
    """The local pool's interface (run(tasks, on_done) -> PoolStats) on Ray actors."""

    def __init__(self, workers: int, options: Any, rules: Any, cache: Any, images_out: Path | None,
                 limits: WorkerLimits = WorkerLimits(), address: str | None = None, poll: float = 0.2):
        self.n = max(1, workers)
        self.args = (options, rules, cache, images_out is not None, limits.memory_bytes)
        self.limits = limits
        self.address = address
        self.poll = poll
        self.stats = PoolStats(workers=self.n)

    def run(self, tasks: Sequence[Any], on_done: Callable[[Any, Any], None]) -> PoolStats:
        if not tasks:
            return self.stats
        import ray

        started_here = start_ray(self.address, self.n)
        actor_class = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_CheckActor)
        try:
            self._run(ray, actor_class, list(tasks), on_done)
        finally:
            if started_here:
                ray.shutdown()
        return self.stats

    def _start(self, ray: Any, actor_class: Any) -> tuple[Any, Any]:
        self.stats.started += 1
        actor = actor_class.remote(*self.args)
        return actor, actor.ready.remote()

    def _run(self, ray: Any, actor_class: Any, pending: list, on_done: Callable[[Any, Any], None]) -> None:
        from ray.exceptions import GetTimeoutError, RayActorError, RayError

        pending.reverse()  # popped from the end, in order
        starting: dict[Any, Any] = {}  # ready ref -> actor
        idle: list[Any] = []
        running: dict[Any, tuple[Any, Any, float]] = {}  # result ref -> (actor, task, sent at)
        start_failures = 0
        for _ in range(min(self.n, len(pending))):
            actor, ref = self._start(ray, actor_class)
            starting[ref] = actor
        while pending or running:
            while idle and pending:
                actor, task = idle.pop(), pending.pop()
                if self.stats.first_task_at is None:
                    self.stats.first_task_at = time.perf_counter()
                running[actor.check.remote(task)] = (actor, task, time.perf_counter())
            refs = list(starting) + list(running)
            if not refs:
                raise RuntimeError("no Ray actor is left to check the remaining submissions")
            ready, _ = ray.wait(refs, num_returns=1, timeout=self.poll)
            for ref in ready:
                if ref in starting:
                    actor = starting.pop(ref)
                    try:
                        ray.get(ref)
                        idle.append(actor)
                        start_failures = 0
                    except RayError as exc:
                        start_failures += 1
                        log.error("a Ray actor could not start: %s", exc)
                        if start_failures >= 3:
                            raise RuntimeError(f"Ray actors cannot start: {exc}") from exc
                        actor, new_ref = self._start(ray, actor_class)
                        starting[new_ref] = actor
                    continue
                actor, task, _sent = running.pop(ref)
                replace = False
                try:
                    kind, value, peak = ray.get(ref, timeout=60)
                    self.stats.peak_rss_kb = max(self.stats.peak_rss_kb, peak)
                    outcome: Any = value if kind == "done" else Failure("memory", str(value))
                    replace = kind != "done"
                except GetTimeoutError:
                    outcome, replace = Failure("timeout", "result not delivered"), True
                except RayActorError as exc:
                    oom = "OutOfMemory" in type(exc).__name__ or "memory" in str(exc).lower()
                    outcome, replace = Failure("memory" if oom else "crash", type(exc).__name__), True
                except RayError as exc:
                    outcome, replace = Failure("error", type(exc).__name__), True
                self._finish(task, outcome, on_done)
                if replace:
                    ray.kill(actor, no_restart=True)
                    if pending:
                        new_actor, new_ref = self._start(ray, actor_class)
                        starting[new_ref] = new_actor
                else:
                    idle.append(actor)
            if self.limits.timeout is not None:
                now = time.perf_counter()
                for ref, (actor, task, sent) in list(running.items()):
                    if now - sent > self.limits.timeout:
                        running.pop(ref)
                        ray.kill(actor, no_restart=True)
                        log.warning("%s: over the time limit, its Ray actor killed", getattr(task, "sid", "?"))
                        self._finish(task, Failure("timeout", f"{now - sent:.0f}s"), on_done)
                        if pending:
                            new_actor, new_ref = self._start(ray, actor_class)
                            starting[new_ref] = new_actor
        for actor in idle:
            ray.kill(actor, no_restart=True)

    def _finish(self, task: Any, outcome: Any, on_done: Callable[[Any, Any], None]) -> None:
        if isinstance(outcome, Failure):
            self.stats.count(outcome.kind)
        self.stats.last_result_at = time.perf_counter()
        on_done(task, outcome)
