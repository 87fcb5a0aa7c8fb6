"""One submission from bytes to Report, and a batch over a folder."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from checks.batch import check_batch
from checks.document import check_pages
from checks.rules import Rules, load_rules
from checks.submission import run_checks
from extractors.evidence import extract_evidence

from . import __version__
from .discover import SubmissionInput, discover
from .errors import FormInvalid, PrecheckError, UnreadablePdf
from .forms import parse_form
from .ingest import open_pdf
from .ocr import OcrEngineUnavailable
from .model import DeclaredForm, Finding, PageDetail, Report, Severity, Status, status_of
from .report import write_batch_outputs, write_report

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Options:
    ocr: str = "rapidocr"
    dpi: int = 300
    rules_path: str | None = None
    threads: int = 1
    # Pages read at most: a PDF far over the 15-page limit is reported, not OCR-ed whole.
    max_pages_read: int = 30


class Prechecker:
    """Holds the rules and an OCR engine loaded once, for many submissions."""

    def __init__(self, options: Options = Options(), rules: Rules | None = None):
        self.options = options
        self.rules = rules or load_rules(options.rules_path)
        self._engine = None

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
        from .pages import read_pages

        n_read = min(doc.pages, self.options.max_pages_read)
        started = time.perf_counter()
        try:
            contents = read_pages(doc.data, self.engine, dpi=self.options.dpi, pages=range(1, n_read + 1))
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
            PageDetail(c.page, kind, c.text_layer, c.ocr, c.rotation, c.seconds)
            for c, kind in zip(contents, evidence.page_kinds)
        )
        stages["check"] = time.perf_counter() - started
        processed = form_error is None
        return Report(sid, status_of(findings, processed), doc.pages, evidence, details, findings, form,
                      pdf_name, doc.sha256, stages=stages)


def _error_finding(exc: PrecheckError) -> Finding:
    return Finding(exc.code, Severity.ERROR, exc.chinese)


def _error_report(sid: str, exc: PrecheckError, form: DeclaredForm | None, pdf_name: str | None) -> Report:
    return Report(sid, Status.ERROR, None, None, (), [_error_finding(exc)], form, pdf_name)


@dataclass(frozen=True, slots=True)
class BatchResult:
    reports: list[Report]
    out: Path
    seconds: float


def run_batch(root: Path, out: Path, options: Options = Options(),
              progress: Callable[[int, int, str], None] | None = None) -> BatchResult:
    """Check every submission under root and write the reports; one bad file never stops it."""
    start = time.perf_counter()
    checker = Prechecker(options)
    inputs = discover(root)
    out.mkdir(parents=True, exist_ok=True)
    reports: list[Report] = []
    for i, item in enumerate(inputs, 1):
        report = _check_input(checker, item)
        write_report(out, report)
        reports.append(report)
        if progress:
            progress(i, len(inputs), item.id)
    reports = apply_batch_checks(reports, checker.rules)
    for r in reports:
        if any(f.code in ("DUPLICATE_APPLICANT", "QUOTA_EXCEEDED") for f in r.findings):
            write_report(out, r)
    write_batch_outputs(out, reports)
    return BatchResult(reports, out, time.perf_counter() - start)


def _check_input(checker: Prechecker, item: SubmissionInput) -> Report:
    try:
        pdf = item.pdf.read_bytes() if item.pdf else None
        form = item.form.read_bytes() if item.form else None
    except OSError as exc:
        return checker.check(item.id, None, None, problem=f"文件无法读取（{exc.strerror}）")
    try:
        return checker.check(item.id, pdf, form, pdf_name=item.pdf.name if item.pdf else None, problem=item.problem)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
        log.error("%s: unexpected %s while checking", item.id, type(exc).__name__)
        log.debug("details", exc_info=True)
        err = UnreadablePdf(f"处理时发生内部错误（{type(exc).__name__}）")
        return _error_report(item.id, err, None, item.pdf.name if item.pdf else None)


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
