"""One submission from bytes to Report, and a batch over a folder."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.batch import check_batch
from checks.document import check_pages
from checks.rules import Rules, load_rules
from checks.submission import run_checks
from extractors.copy_marks import attestation_detail, seal_detail
from extractors.evidence import extract_evidence

from . import __version__
from .discover import SubmissionInput, discover
from .errors import FormInvalid, PrecheckError, ResourceLimit, UnreadablePdf
from .forms import parse_form
from .ingest import open_pdf
from .ocr import OcrEngineUnavailable
from .model import DeclaredForm, Finding, PageDetail, Report, Severity, Status, status_of
from .report import write_batch_outputs, write_report

if TYPE_CHECKING:
    from .cache import Cache

log = logging.getLogger(__name__)


def overlap_pays(workers: int) -> bool:
    """Whether each of this many worker processes has a core to spare for the seal search
    (Options.overlap): a worker of two busy threads, one per core at most."""
    from .parallel import default_workers

    return 2 * max(1, workers) <= default_workers()


@dataclass(frozen=True, slots=True)
class Options:
    ocr: str = "rapidocr"
    dpi: int = 300
    rules_path: str | None = None
    threads: int = 1
    # Pages read at most: a PDF far over the 15-page limit is reported, not OCR-ed whole.
    max_pages_read: int = 30
    # Reports: ID numbers shown as 500101********1234 in the HTML and spreadsheets (not the
    # JSON); page images and evidence crops rendered for the HTML during a batch.
    mask_id: bool = False
    images: bool = True
    # Look for seals on a second thread while a page is OCR-ed (pipeline.pages): it shortens a
    # page where a core would otherwise idle, and only costs where every core runs a worker.
    overlap: bool = field(default_factory=lambda: overlap_pays(1))


class Prechecker:
    """Holds the rules and an OCR engine loaded once, for many submissions."""

    def __init__(self, options: Options = Options(), rules: Rules | None = None, cache: Cache | None = None):
        self.options = options
        self.rules = rules or load_rules(options.rules_path)
        self._engine = None
        self.cache = cache  # page readings kept by content hash (pipeline.cache); None: read every page
        self.images_out: Path | None = None  # set by run_batch: page images and crops are rendered there

    def warm_up_ocr(self) -> None:
        """Load the OCR models now rather than at the first scanned page; with overlap, the
        twin's too (it reads the seals beside the page's OCR)."""
        engine = self.engine
        if hasattr(engine, "warm_up"):
            engine.warm_up()
        if self.options.overlap and hasattr(engine, "twin"):
            engine.twin().warm_up()

    @property
    def engine(self):
        if self._engine is None:
            from .ocr import make_engine

            self._engine = make_engine(self.options.ocr, threads=self.options.threads)
        return self._engine

    def meta(self) -> dict:
        return {
            "version": __version__,
            "rules": self.rules.source,
            "rules_id": self.rules.id,
            "ocr": self.options.ocr,
            "dpi": self.options.dpi,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def check(self, submission: str, pdf: bytes | None, form: bytes | None, *, pdf_name: str | None = None,
              problem: str | None = None) -> Report:
        """Never raises for bad input: every outcome is a Report."""
        start = time.perf_counter()
        report = self._check(submission, pdf, form, pdf_name, problem)
        report.seconds = time.perf_counter() - start
        report.meta = {**self.meta(), "stages": {k: round(v, 4) for k, v in report.stages.items()}}
        log.info("%s: %s %s (%.1fs)", submission, report.status.value,
                 ",".join(sorted({f.code for f in report.findings})) or "-", report.seconds)
        if self.images_out is not None and pdf is not None:  # while the bytes are in memory
            from .evidence_images import write_evidence_images

            write_evidence_images(self.images_out, report, pdf, mask_id=self.options.mask_id)
        return report

    def _check(self, sid: str, pdf: bytes | None, form_bytes: bytes | None, pdf_name: str | None,
               problem: str | None) -> Report:
        form, form_error = None, None
        if form_bytes is not None:
            try:
                form = parse_form(form_bytes, tuple(self.rules.categories), sid)
            except FormInvalid as exc:
                form_error = exc
        elif problem is None:
            form_error = FormInvalid("缺少表单数据")
        if pdf is None:
            err = UnreadablePdf(problem or "缺少PDF文件")
            return _error_report(sid, err, form, pdf_name)
        try:
            doc = open_pdf(pdf)
        except PrecheckError as exc:
            return _error_report(sid, exc, form, pdf_name)
        from functools import partial

        from .pages import read_pages

        read_pages = partial(read_pages, overlap=self.options.overlap)
        n_read = min(doc.pages, self.options.max_pages_read)
        started = time.perf_counter()
        try:
            contents = self._read_pages(doc, n_read, read_pages)
        except PrecheckError as exc:
            return _error_report(sid, exc, form, pdf_name)
        except (OcrEngineUnavailable, MemoryError):
            raise  # the machine's fault, not the file's
        except Exception as exc:  # noqa: BLE001 - a parser's failure on this file is the file's problem
            log.debug("%s: reading pages failed: %s", sid, type(exc).__name__)
            return _error_report(sid, UnreadablePdf(f"页面无法解析（{type(exc).__name__}）"), form, pdf_name)
        stages = {"pages": time.perf_counter() - started}
        started = time.perf_counter()
        evidence = extract_evidence(contents)
        stages["extract"] = time.perf_counter() - started
        started = time.perf_counter()
        findings: list[Finding] = []
        if problem:
            form_error = form_error or FormInvalid(problem)
        if form_error is not None or form is None:
            findings.append(_error_finding(form_error or FormInvalid("缺少表单数据")))
            findings.extend(check_pages(doc.pages, self.rules))
        else:
            findings.extend(run_checks(evidence, form, self.rules, doc.pages))
        details = tuple(
            PageDetail(c.page, kind, c.text_layer, c.ocr, c.rotation, c.seconds,
                       seal=seal_detail(c.marks), attestation=attestation_detail(c.marks))
            for c, kind in zip(contents, evidence.page_kinds)
        )
        stages["check"] = time.perf_counter() - started
        processed = form_error is None
        return Report(sid, status_of(findings, processed), doc.pages, evidence, details, findings, form,
                      pdf_name, doc.sha256, stages=stages)


    def _read_pages(self, doc, n_read: int, read_pages) -> list:
        """Pages 1..n_read, from the page cache where they were read before."""
        if self.cache is None:
            return read_pages(doc.data, self.engine, dpi=self.options.dpi, pages=range(1, n_read + 1))
        from .cache import read_pages_cached

        return read_pages_cached(self.cache, doc.data, doc.sha256, list(range(1, n_read + 1)), self.engine,
                                 self.options.dpi, read_pages)

def _error_finding(exc: PrecheckError) -> Finding:
    return Finding(exc.code, Severity.ERROR, exc.chinese)


def _error_report(sid: str, exc: PrecheckError, form: DeclaredForm | None, pdf_name: str | None) -> Report:
    return Report(sid, Status.ERROR, None, None, (), [_error_finding(exc)], form, pdf_name)


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """How a batch runs; what is checked is Options."""

    workers: int | None = None  # processes; None: one per core; 0: in this process (no isolation)
    engine: str = "local"  # "local": a pool of processes; "ray": a Ray actor pool (the `ray` extra)
    address: str | None = None  # the Ray cluster; None: a local Ray instance
    timeout: float | None = 300.0  # seconds one document may take
    memory_mb: int | None = 2048  # memory one document may take, above its worker's own
    cache: Path | None = None  # SQLite file of page readings and reports; None: OUT/.precheck/cache.sqlite3
    use_cache: bool = True
    resume: bool = True  # keep the reports an earlier run of the same input and rules finished


CACHE_FILE = Path(".precheck") / "cache.sqlite3"


@dataclass(frozen=True, slots=True)
class BatchResult:
    reports: list[Report]
    out: Path
    seconds: float
    kept: int = 0  # reports an earlier (stopped) run had finished, not checked again
    checked: int = 0  # submissions checked in this run
    stats: dict = field(default_factory=dict)  # the pool's figures: workers, failures, peak memory, pages


@dataclass(frozen=True, slots=True)
class Task:
    """One submission as a worker gets it: bytes, not paths (a Ray node cannot read them)."""

    sid: str
    pdf: bytes | None
    form: bytes | None
    pdf_name: str | None
    problem: str | None
    key: str  # pipeline.cache.input_key: the input, the options, the rules, the code


@dataclass(slots=True)
class SubmissionResult:
    report: Report
    # More files for OUT (path relative to it -> bytes), written by the batch atomically: how a
    # Ray actor on another machine ships the page images back.
    files: dict[str, bytes] = field(default_factory=dict)


class SubmissionHandler:
    """What a worker process (or a Ray actor) holds: a Prechecker whose OCR engine is loaded
    once, at the first page that needs it (a re-check from the page cache never loads it),
    checking one Task at a time."""

    def __init__(self, options: Options, rules: Rules, cache: Cache | None = None, images_out: Path | None = None,
                 warm_up: bool = True, warm_up_ocr: bool = False):
        self.checker = Prechecker(options, rules, cache=cache)
        self.checker.images_out = images_out
        if warm_up_ocr:
            try:
                self.checker.warm_up_ocr()
            except OcrEngineUnavailable as exc:  # text-layer PDFs can still be checked
                log.warning("OCR engine unavailable in this worker: %s", exc)
        if warm_up:
            _warm_up_extractors()

    def __call__(self, task: Task) -> SubmissionResult:
        return check_task(self.checker, task)


def _warm_up_extractors() -> None:
    """Load what the extractors load on first use (the spaCy patterns: about a second), so
    that a worker's first document is timed like the others."""
    from .model import Box, PageContent, TextLine

    text = "姓名：张三 性别：男 出生日期：1985年3月12日 职业技能等级：技师 证书编号：S000050123456232000123 荣誉：全国技术能手"
    line = TextLine(text, Box(0, 0, 400, 10), 1.0, 1, "text_layer")
    extract_evidence([PageContent(1, 595.0, 842.0, True, None, 0, (line,))])


def check_task(checker: Prechecker, task: Task) -> SubmissionResult:
    """The per-submission step of a batch, run where the PDF bytes are (a worker): the check,
    and with it (Prechecker.check, images_out) the page images of the HTML report. Whatever
    else is to be made from the bytes belongs here too. Never raises for the file's sake;
    MemoryError propagates (the worker reports RESOURCE_LIMIT and is replaced)."""
    try:
        report = checker.check(task.sid, task.pdf, task.form, pdf_name=task.pdf_name, problem=task.problem)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
        log.error("%s: unexpected %s while checking", task.sid, type(exc).__name__)
        log.debug("details", exc_info=True)
        report = _failure_report(checker, task, UnreadablePdf(f"处理时发生内部错误（{type(exc).__name__}）"))
    return SubmissionResult(report)


def run_batch(root: Path, out: Path, options: Options = Options(),
              progress: Callable[[int, int, str], None] | None = None,
              batch: BatchOptions = BatchOptions()) -> BatchResult:
    """Check every submission under root and write the reports; one bad file never stops it.

    The submissions are checked in worker processes (batch.workers, one per core by default),
    each document under a time and a memory limit: a document that hangs, exhausts memory or
    crashes its worker gets an error report (RESOURCE_LIMIT, PDF_UNREADABLE) and the batch
    goes on. Each report is written (atomically) as it comes in and kept in the cache with
    its input's key, so a run stopped in any way and started again checks only what is left;
    page readings are kept too, so a run after a rules change OCRs nothing. Then the
    batch-level checks, the rewritten reports they change, and the summaries.
    """
    start = time.perf_counter()
    checker = Prechecker(options)  # the rules, and the reports made here; its engine is never loaded
    images_out = out if options.images else None  # page images, written by the workers (check_task)
    inputs = discover(root)
    out.mkdir(parents=True, exist_ok=True)
    from .cache import Cache, code_fingerprint, rules_text

    cache = Cache(batch.cache or out / CACHE_FILE) if batch.use_cache else None
    settings = _settings(options, rules_text(options.rules_path), code_fingerprint())
    limits_sig = f"|limits:{batch.timeout}:{batch.memory_mb}"
    results: dict[str, Report] = {}
    tasks: list[Task] = []
    kept = 0
    for item in inputs:
        task = _task(checker, item, settings)
        if isinstance(task, Report):  # could not even be read: reported here
            write_report(out, task)
            results[item.id] = task
            continue
        old = _kept(cache, task.key, limits_sig) if cache is not None and batch.resume else None
        if old is not None:
            results[item.id] = old
            kept += 1
        else:
            tasks.append(task)
    total = len(inputs)
    if hasattr(progress, "begin"):
        progress.begin(total, total - len(tasks))  # type: ignore[union-attr]
    pages = 0

    def finished(task: Task, outcome: Any) -> None:
        nonlocal pages
        from .parallel import Failure

        if isinstance(outcome, Failure):
            result = SubmissionResult(_failure_report(checker, task, _failure_error(outcome, batch)))
            key = task.key + limits_sig
        else:
            result, key = outcome, task.key
        report = result.report
        report.meta["input"] = task.key
        # its evidence images, then the cache, then the report: a run stopped in between keeps
        # a report it has not yet written (the resume writes it from the cache) rather than
        # checking one already written again; a kept report's images are already on disk
        _write_files(out, result.files)
        if cache is not None:
            try:
                cache.put_report(key, report)
            except Exception as exc:  # noqa: BLE001 - a full disk costs the resume, not the batch
                log.warning("could not keep %s in the cache: %s", task.sid, exc)
        write_report(out, report)
        results[task.sid] = report
        pages += len(report.page_details)
        if progress:
            progress(len(results), total, task.sid)

    # The largest files first (scans are large): the batch does not end with one worker on a
    # long document while the others wait.
    tasks.sort(key=lambda t: -len(t.pdf or b""))
    stats = _run_tasks(tasks, finished, options, checker.rules, cache, images_out, batch)
    stats["pages"] = pages
    reports = apply_batch_checks([results[item.id] for item in inputs], checker.rules)
    for r in reports:
        _write_if_changed(out, r)
    write_batch_outputs(out, reports, mask_id=options.mask_id, batch_seconds=time.perf_counter() - start)
    if cache is not None:
        cache.close()
    return BatchResult(reports, out, time.perf_counter() - start, kept, len(tasks), stats)


def _run_tasks(tasks: list[Task], finished: Callable[[Task, Any], None], options: Options, rules: Rules,
               cache: Cache | None, images_out: Path | None, batch: BatchOptions) -> dict:
    """Every task through the engine batch names; finished(task, SubmissionResult or Failure)."""
    from functools import partial

    from .parallel import LocalPool, WorkerLimits, default_workers

    limits = WorkerLimits(batch.timeout, batch.memory_mb * 1024 * 1024 if batch.memory_mb else None)
    workers = default_workers() if batch.workers is None else batch.workers
    options = replace(options, overlap=overlap_pays(workers))
    if batch.engine == "ray":
        from .ray_engine import RayPool

        pool: Any = RayPool(max(1, workers), options, rules, cache, images_out, limits, address=batch.address)
    elif batch.engine != "local":
        raise ValueError(f"unknown engine {batch.engine!r}: local or ray")
    elif workers == 0:
        handler = SubmissionHandler(options, rules, cache, images_out)
        for task in tasks:
            try:
                outcome: Any = handler(task)
            except MemoryError:
                from .parallel import Failure

                outcome = Failure("memory", "MemoryError")
            finished(task, outcome)
        return {"workers": 0}
    else:
        pool = LocalPool(workers, partial(SubmissionHandler, options, rules, cache, images_out), limits)
    return pool.run(tasks, finished).to_json()


def _settings(options: Options, rules: str, code: str) -> str:
    """Everything besides the input that a report depends on, as one string for input_key."""
    import hashlib

    from .ocr import OcrEngineUnavailable as Unavailable, make_engine

    try:
        engine_version = make_engine(options.ocr, threads=options.threads).version  # no model is loaded
    except Unavailable:
        engine_version = "unavailable"
    rules_hash = hashlib.sha256(rules.encode("utf-8")).hexdigest()[:16]
    return (f"{__version__}|{code}|{rules_hash}|{options.ocr}:{engine_version}|{options.dpi}|"
            f"{options.max_pages_read}|{options.mask_id}|{options.images}")


MAX_FORM_BYTES = 1024 * 1024


def _task(checker: Prechecker, item: SubmissionInput, settings: str) -> Task | Report:
    """The submission's bytes and key; the report itself when its files cannot be read."""
    from .cache import input_key
    from .ingest import MAX_BYTES

    pdf_name = item.pdf.name if item.pdf else None
    problem = item.problem
    try:
        form = None
        if item.form is not None:
            if item.form.stat().st_size > MAX_FORM_BYTES:
                problem = problem or f"表单文件过大（超过{MAX_FORM_BYTES // 1024}KB）"
            else:
                form = item.form.read_bytes()
        if item.pdf is not None and item.pdf.stat().st_size > MAX_BYTES:
            report = checker.check(item.id, None, form, pdf_name=pdf_name,
                                   problem=f"文件大小超过{MAX_BYTES // (1024 * 1024)}MB")
            report.meta["input"] = input_key(item.id, None, form, pdf_name, report.findings[0].message, settings)
            return report
        pdf = item.pdf.read_bytes() if item.pdf else None
    except OSError as exc:
        return checker.check(item.id, None, None, pdf_name=pdf_name, problem=f"文件无法读取（{exc.strerror}）")
    return Task(item.id, pdf, form, pdf_name, problem, input_key(item.id, pdf, form, pdf_name, problem, settings))


def _kept(cache: Cache, key: str, limits_sig: str) -> Report | None:
    try:
        return cache.get_report(key) or cache.get_report(key + limits_sig)
    except Exception as exc:  # noqa: BLE001 - an unreadable cache means checking again
        log.warning("cache unreadable (%s): checking again", exc)
        return None


def _failure_error(failure: Any, batch: BatchOptions) -> PrecheckError:
    if failure.kind == "timeout":
        return ResourceLimit(f"处理超过{batch.timeout:g}秒的时间限制")
    if failure.kind == "memory":
        return ResourceLimit(f"处理所需内存超过{batch.memory_mb}MB的限制")
    if failure.kind == "crash":
        return UnreadablePdf("处理该文件时程序异常退出")
    return UnreadablePdf(f"处理时发生内部错误（{failure.detail}）")


def _failure_report(checker: Prechecker, task: Task, exc: PrecheckError) -> Report:
    """The error report of a submission whose check did not finish, with its form where it parses."""
    form = None
    if task.form is not None:
        try:
            form = parse_form(task.form, tuple(checker.rules.categories), task.sid)
        except Exception:  # noqa: BLE001 - the form's own problem is not the one to report here
            form = None
    report = _error_report(task.sid, exc, form, task.pdf_name)
    report.meta = {**checker.meta(), "stages": {}}
    return report


def _write_files(out: Path, files: dict[str, bytes]) -> None:
    import os
    import tempfile

    root = out.resolve()
    for name, data in files.items():
        path = (out / name).resolve()
        if root not in path.parents:
            log.warning("a worker's file %r is outside the output folder; not written", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _write_if_changed(out: Path, report: Report) -> None:
    """Write the report unless the file already says the same (a kept report, or one the
    batch-level checks left alone)."""
    import json

    from .report import report_json

    path = out / f"{report.submission}.json"
    try:
        if path.read_text("utf-8") == json.dumps(report_json(report), ensure_ascii=False, indent=2):
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_report(out, report)


def apply_batch_checks(reports: list[Report], rules: Rules) -> list[Report]:
    """Add the batch-level findings (duplicates, quotas) and recompute the statuses."""
    forms = {r.submission: r.form for r in reports if r.form is not None}
    extra: dict[str, list[Finding]] = {}
    for bf in check_batch(forms, rules):
        extra.setdefault(bf.submission, []).append(bf.finding)
    out = []
    for r in reports:
        if r.submission in extra:
            findings = r.findings + extra[r.submission]
            r = replace(r, findings=findings, status=status_of(findings, r.status is not Status.ERROR))
        out.append(r)
    return out
