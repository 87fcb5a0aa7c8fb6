"""Check workers: processes that each own a Prechecker, fed from the SQLite queue.

OCR is CPU-heavy and its engine is not thread-safe, so no check runs in the HTTP process.
Each worker slot is a thread of the server that owns one child process (spawned, not
forked) and one pipe to it: it claims the oldest queued job from the store, sends it, and
waits for the answer up to the per-job time limit. A worker that overruns is killed and
replaced, and its job fails with RESOURCE_LIMIT; a worker that dies mid-job has its job
queued again (at most Settings.max_attempts tries in all), as has every job that was running
when the server itself was killed.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from ..errors import ResourceLimit
from .settings import TEST_SLEEP_ENV, Settings
from .store import Job, Store

log = logging.getLogger("pipeline.service")

# Failure codes a job can end with (besides the contract's RESOURCE_LIMIT), and their
# messages, safe to show the applicant.
PROCESSING_FAILED = ("PROCESSING_FAILED", "文件处理失败，请检查文件后重新提交")
JOB_INTERRUPTED = ("JOB_INTERRUPTED", "处理被中断，请重新提交")
UPLOAD_LOST = ("UPLOAD_LOST", "上传的文件已丢失，请重新提交")
INTERNAL_ERROR = ("INTERNAL_ERROR", "服务内部错误，请稍后重新提交")

_START_TIMEOUT = 180.0  # seconds a new worker may take to load and warm up its OCR engine
_POLL = 0.25


# --- the worker process ----------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: be killed when the server is, even by SIGKILL, rather than live on as an orphan."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _warm_up_pdf() -> bytes:
    """Two pages written by hand: typed text (text layer, extraction, checks) and a blank
    page (render and OCR), so that the first applicant's check pays no loading time."""
    lines = ["Vocational skill level certificate", "Name: Warm Up", "ID 11010519491231002X",
             "Grade: technician", "Certificate No. S000050123456232000123"]
    stream = "BT /F1 14 Tf 72 760 Td 18 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("ascii")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    return out


def _warm_up(checker) -> None:
    checker.warm_up_ocr()
    form = {"category": list(checker.rules.categories)[0], "name": "预热", "id_number": "11010519491231002X",
            "birth_date": "1949-12-31", "grade": "技师"}
    quiet = logging.getLogger("RapidOCR")  # the blank page: "text detection result is empty"
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        report = checker.check("warm-up", _warm_up_pdf(), json.dumps(form, ensure_ascii=False).encode("utf-8"))
        _html_report(report)
    finally:
        quiet.setLevel(level)


def _html_report(report) -> str | None:
    """The reviewer's page for one report (pipeline.html_report, without the page images the
    batch renders to files beside it), or None where the pipeline has no HTML report."""
    try:
        from ..html_report import submission_html
    except ImportError:
        return None
    try:
        return submission_html(report)
    except Exception as exc:  # noqa: BLE001 - the JSON report stands without its page
        log.warning("HTML report failed: %s", type(exc).__name__)
        return None


def worker_main(conn: Connection, options: dict, log_level: int) -> None:
    """A check process: load and warm the engine, say ready, then check jobs until told to stop."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s worker %(process)d %(name)s: %(message)s")
    # The pipeline's per-submission line names only the submission id; still, quiet unless asked.
    logging.getLogger("pipeline.runner").setLevel(max(log_level, logging.WARNING))
    logging.getLogger("pdfminer").setLevel(logging.WARNING)  # its DEBUG lines quote the file's objects
    from ..api import precheck, prechecker
    from ..report import report_json
    from ..runner import Options

    opts = Options(**options)
    _warm_up(prechecker(opts))
    sleep_hook = os.environ.get(TEST_SLEEP_ENV) == "1"
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg[0] != "job":
            return
        _, job_id, pdf_path, form, submission = msg
        try:
            if sleep_hook and submission.startswith("sleep-"):
                time.sleep(float(submission.split("-")[1]))
            pdf = Path(pdf_path).read_bytes()
            report = precheck(pdf, form, submission=submission, options=opts)
            data = report_json(report)
            codes = sorted({f["code"] for f in data["findings"]})
            answer = ("done", job_id, json.dumps(data, ensure_ascii=False), report.status.value, report.pages,
                      _html_report(report), codes, report.seconds)
        except MemoryError:
            answer = ("failed", job_id, ResourceLimit.code, ResourceLimit("内存不足").chinese)
        except Exception as exc:  # noqa: BLE001 - any failure is this job's, the worker goes on
            log.error("job %s: %s while checking", job_id, type(exc).__name__)
            answer = ("failed", job_id, *PROCESSING_FAILED)
        try:
            conn.send(answer)
        except (BrokenPipeError, OSError):
            return


# --- the server side -------------------------------------------------------------------------


class _Slot(threading.Thread):
    """One worker process and the thread that feeds it."""

    def __init__(self, manager: JobManager, number: int):
        super().__init__(name=f"precheck-worker-{number}", daemon=True)
        self.manager = manager
        self.number = number
        self.proc: mp.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.ready = False

    # process life

    def _start_process(self) -> bool:
        m = self.manager
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        from ..runner import overlap_pays

        options = {"ocr": m.settings.ocr, "dpi": m.settings.dpi, "rules_path": m.settings.rules_path,
                   "overlap": overlap_pays(m.settings.workers)}
        level = logging.getLogger("pipeline.service").getEffectiveLevel()
        proc = ctx.Process(target=worker_main, args=(child, options, level), name=f"precheck-worker-{self.number}",
                           daemon=True)
        proc.start()
        child.close()
        self.proc, self.conn = proc, parent
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and not m.stopping.is_set():
            try:
                if parent.poll(_POLL):
                    msg = parent.recv()
                    if msg[0] == "ready":
                        self.ready = True
                        log.info("worker %d ready (pid %d)", self.number, proc.pid)
                        return True
            except (EOFError, OSError):
                break
            if not proc.is_alive():
                break
        log.error("worker %d could not start (exit code %s)", self.number, proc.exitcode)
        self._kill()
        return False

    def _kill(self) -> None:
        self.ready = False
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(10)
        if self.conn is not None:
            self.conn.close()
        self.proc, self.conn = None, None

    def stop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.send(("stop",))
            except (OSError, ValueError):
                pass

    # the loop

    def run(self) -> None:
        m = self.manager
        failures = 0
        while not m.stopping.is_set():
            if self.proc is None or not self.proc.is_alive():
                self._kill()
                if not self._start_process():
                    failures += 1
                    m.stopping.wait(min(60.0, 2.0 * failures))
                    continue
                failures = 0
            generation = m.generation
            job = m.store.claim_next()
            if job is None:
                m.wait_for_work(generation, timeout=1.0)
                continue
            try:
                self._run(job)
            except Exception:  # noqa: BLE001 - the slot must live on
                log.exception("worker %d: unexpected failure around job %s", self.number, job.id)
                m.fail(job, *INTERNAL_ERROR)
                self._kill()
        self.stop()
        self._kill()

    def _run(self, job: Job) -> None:
        m = self.manager
        path = m.settings.uploads_dir / (job.pdf_file or "")
        if not job.pdf_file or not path.is_file():
            m.fail(job, *UPLOAD_LOST)
            return
        assert self.conn is not None and self.proc is not None
        started = time.monotonic()
        try:
            self.conn.send(("job", job.id, str(path), job.form, job.submission or job.id))
        except (OSError, ValueError):
            m.store.requeue(job.id)  # the worker was gone before it had the job
            self._kill()
            return
        deadline = started + m.settings.job_timeout
        while True:
            if m.stopping.is_set():
                return  # left running in the store: the next start queues it again
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning("job %s: over the %gs time limit; worker %d killed", job.id,
                            m.settings.job_timeout, self.number)
                self._kill()
                m.fail(job, ResourceLimit.code, ResourceLimit(f"处理时间超过{m.settings.job_timeout:g}秒").chinese)
                return
            try:
                if self.conn.poll(min(_POLL, remaining)):
                    msg = self.conn.recv()
                    break
            except (EOFError, OSError):
                msg = None
                break
            if not self.proc.is_alive() and not self.conn.poll(0):
                msg = None
                break
        if msg is None:  # the worker died mid-job
            code = self.proc.exitcode if self.proc else None
            self._kill()
            if job.attempts < m.settings.max_attempts:
                log.warning("job %s: worker %d died (exit code %s); job queued again", job.id, self.number, code)
                m.store.requeue(job.id)
                m.wake()
            else:
                log.warning("job %s: worker %d died (exit code %s); job failed", job.id, self.number, code)
                m.fail(job, *PROCESSING_FAILED)
            return
        if msg[0] == "done":
            _, _, report, status, pages, html, codes, seconds = msg
            m.store.finish(job.id, status=status, report=report, html=html, pages=pages, seconds=seconds)
            m.remove_upload(job)
            m.record_time(time.monotonic() - started)
            log.info("job %s done: %s %s in %.2fs", job.id, status, ",".join(codes) or "-",
                     time.monotonic() - started)
            m.finished(job.id)
        else:
            _, _, code, message = msg
            m.fail(job, code, message)


class JobManager:
    """The worker slots, the queue's wake-up, and recovery after a restart."""

    def __init__(self, settings: Settings, store: Store, on_finished: Callable[[str], None] | None = None):
        self.settings = settings
        self.store = store
        self.on_finished = on_finished
        self.stopping = threading.Event()
        self._cond = threading.Condition()
        self.generation = 0
        self._avg_seconds = 5.0
        self.slots = [_Slot(self, i + 1) for i in range(settings.workers)]

    # life

    def start(self) -> None:
        self.recover()
        for slot in self.slots:
            slot.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake()
        for slot in self.slots:
            slot.stop()
        for slot in self.slots:
            slot.join(15)

    def recover(self) -> None:
        """Account for every job a previous run accepted: queue again what it was running
        (or fail what has had its tries), fail queued jobs whose file is gone, and delete
        partial uploads and orphan files."""
        s = self.settings
        s.uploads_dir.mkdir(parents=True, exist_ok=True)
        s.tmp_dir.mkdir(parents=True, exist_ok=True)
        for path in s.tmp_dir.iterdir():
            path.unlink(missing_ok=True)
        requeued = failed = 0
        for job in self.store.interrupted():
            if job.attempts >= s.max_attempts:
                self.fail(job, *JOB_INTERRUPTED)
                failed += 1
            else:
                self.store.requeue(job.id)
                requeued += 1
        for job in self.store.queued_jobs():
            if not job.pdf_file or not (s.uploads_dir / job.pdf_file).is_file():
                self.store.fail(job.id, *UPLOAD_LOST)
                failed += 1
        live = self.store.live_files()
        for path in s.uploads_dir.iterdir():
            if path.name not in live:
                path.unlink(missing_ok=True)
        if requeued or failed:
            log.warning("restart: %d interrupted jobs queued again, %d failed", requeued, failed)

    # the queue

    def wake(self) -> None:
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait_for_work(self, generation: int, timeout: float) -> None:
        with self._cond:
            if self.generation == generation and not self.stopping.is_set():
                self._cond.wait(timeout)

    @property
    def ready_workers(self) -> int:
        return sum(1 for s in self.slots if s.ready)

    def record_time(self, seconds: float) -> None:
        self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * seconds

    def retry_after(self) -> int:
        """Seconds until a place in the queue is likely to be free."""
        counts = self.store.counts()
        ahead = counts.get("queued", 0) + counts.get("running", 0)
        return int(min(600, max(1, math.ceil(self._avg_seconds * ahead / max(1, len(self.slots)) / 2))))

    # outcomes

    def fail(self, job: Job, code: str, message: str) -> None:
        self.store.fail(job.id, code, message)
        self.remove_upload(job)
        log.info("job %s failed: %s", job.id, code)
        self.finished(job.id)

    def remove_upload(self, job: Job) -> None:
        if job.pdf_file:
            (self.settings.uploads_dir / job.pdf_file).unlink(missing_ok=True)

    def finished(self, job_id: str) -> None:
        if self.on_finished is not None:
            self.on_finished(job_id)
