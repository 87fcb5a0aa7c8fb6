"""Where the time goes: per-stage medians per page, and the pipeline against raw OCR.

For every PDF of a corpus, in one process: the whole pipeline (Prechecker.check) with its
stage times and, on the same scanned pages, the page rendered alone and the OCR engine's own
read of it alone. The ratio of the two tells what the pipeline costs beyond the engine.

The two alternate which goes first, document by document: onnxruntime's first run on an input
of a new size costs up to 0.2 s more than the next (measured on the damaged corpus), and the
one run second on a page would always meet it warm.
"""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .discover import discover
from .errors import PrecheckError
from .ingest import open_pdf
from .pages import pages_to_ocr, remove_colour, render_page_as_read
from .report import report_json
from .runner import Options, Prechecker


@dataclass
class BenchResult:
    ocr: str
    dpi: int
    open_s: list[float] = field(default_factory=list)  # per document
    render_s: list[float] = field(default_factory=list)  # per scanned page
    raw_ocr_s: list[float] = field(default_factory=list)  # per scanned page
    # per scanned page: the pipeline's time for it (its render when on the page's path, its
    # reading, any wait for the second thread) over the raw OCR's
    page_ratios: list[float] = field(default_factory=list)
    scanned_page_s: list[float] = field(default_factory=list)  # pipeline's read of a scanned page
    text_page_s: list[float] = field(default_factory=list)  # pipeline's read of a text-layer page
    extract_per_page_s: list[float] = field(default_factory=list)
    check_per_page_s: list[float] = field(default_factory=list)
    report_per_page_s: list[float] = field(default_factory=list)
    # whole-pipeline seconds of the documents with scanned pages, less their text-layer pages'
    # own reading: opening, parsing, extraction and checks are all counted against the scans
    pipeline_scanned_total: float = 0.0
    raw_ocr_total: float = 0.0
    # CPU seconds (all threads) of the documents that have scanned pages, and of the raw OCR
    # of those pages: the pipeline runs its seal search beside the OCR on a second core, which
    # shortens the wall time but not the work
    pipeline_cpu_total: float = 0.0
    raw_ocr_cpu_total: float = 0.0
    pages: int = 0
    mismatched_documents: int = 0  # the pipeline OCR-ed other pages than pages_to_ocr named
    wall: float = 0.0
    peak_rss_mb: float = 0.0

    def lines(self) -> list[str]:
        def med(xs: list[float]) -> str:
            return f"{statistics.median(xs) * 1000:8.1f} ms" if xs else "       -   "

        ratio = self.pipeline_scanned_total / self.raw_ocr_total if self.raw_ocr_total else float("nan")
        cpu_ratio = self.pipeline_cpu_total / self.raw_ocr_cpu_total if self.raw_ocr_cpu_total else float("nan")
        return [
            f"engine {self.ocr}, {self.dpi} dpi; {self.pages} pages "
            f"({len(self.scanned_page_s)} scanned, {len(self.text_page_s)} text layer), "
            "after one untimed warm-up submission; raw OCR and pipeline take turns going first",
            "median per page:",
            f"  open (per document)      {med(self.open_s)}",
            f"  render                   {med(self.render_s)}",
            f"  raw OCR (engine alone)   {med(self.raw_ocr_s)}",
            f"  scanned page, pipeline   {med(self.scanned_page_s)}   (render if not done ahead, orientation, OCR, marks)",
            f"  text-layer page          {med(self.text_page_s)}",
            f"  extract                  {med(self.extract_per_page_s)}",
            f"  check                    {med(self.check_per_page_s)}",
            f"  report (JSON)            {med(self.report_per_page_s)}",
            f"pages per second (pipeline, one process): {self.pages / self.wall:.2f}" if self.wall else "",
            f"pipeline / raw OCR time on the same scanned pages: {ratio:.2f}x "
            "(whole documents with scanned pages, less their text-layer pages)",
            f"  median per page: {statistics.median(self.page_ratios):.2f}x" if self.page_ratios else "",
            f"CPU time (all threads), documents with scanned pages / raw OCR of those pages: {cpu_ratio:.2f}x",
            f"peak memory (RSS): {self.peak_rss_mb:.0f} MB",
        ] + ([f"documents whose OCR-ed pages the raw OCR did not match: {self.mismatched_documents}"]
             if self.mismatched_documents else [])


def run_bench(corpus: Path, options: Options = Options(), limit: int | None = None) -> BenchResult:
    checker = Prechecker(options)
    engine = checker.engine
    checker.warm_up_ocr()
    result = BenchResult(options.ocr, options.dpi)
    items = [s for s in discover(corpus) if s.pdf is not None and s.form is not None][:limit]
    if items:
        # the first check of a process imports spaCy and the page readers (~0.8 s), which a
        # batch or the service pays once, not per page: one untimed read first, as the OCR's
        # own warm-up above
        checker.check(items[0].id, items[0].pdf.read_bytes(), items[0].form.read_bytes())
    raw_first = True
    for item in items:
        data, form = item.pdf.read_bytes(), item.form.read_bytes()
        t = time.perf_counter()
        try:
            doc = open_pdf(data)
        except PrecheckError:
            continue
        result.open_s.append(time.perf_counter() - t)
        try:
            to_ocr = pages_to_ocr(data, options.max_pages_read)
        except Exception:  # noqa: BLE001 - a file the page readers refuse: the check reports it
            to_ocr = []
        raw_first = not raw_first if to_ocr else raw_first
        raw: dict[int, float] = {}
        if raw_first:
            raw = _time_raw_ocr(result, data, to_ocr, options, engine)
        t, cpu = time.perf_counter(), time.process_time()
        report = checker.check(item.id, data, form)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        if not raw_first:
            raw = _time_raw_ocr(result, data, to_ocr, options, engine)
        if report.evidence is None:
            continue
        t = time.perf_counter()
        report_json(report)
        report_s = time.perf_counter() - t
        n = len(report.page_details)
        result.pages += n
        result.wall += wall
        share = {k: v / n for k, v in report.stages.items()}
        result.extract_per_page_s += [share.get("extract", 0.0)] * n
        result.check_per_page_s += [share.get("check", 0.0)] * n
        result.report_per_page_s += [report_s / n] * n
        for detail in report.page_details:
            (result.text_page_s if detail.text_layer else result.scanned_page_s).append(detail.seconds)
            if not detail.text_layer and raw.get(detail.page):
                result.page_ratios.append(detail.seconds / raw[detail.page])
        if [d.page for d in report.page_details if not d.text_layer] != to_ocr:
            result.mismatched_documents += 1
        if to_ocr:
            result.pipeline_scanned_total += wall - sum(d.seconds for d in report.page_details if d.text_layer)
            result.pipeline_cpu_total += cpu
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _time_raw_ocr(result: BenchResult, data: bytes, pages: list[int], options: Options, engine) -> dict[int, float]:
    """The raw OCR's seconds per page."""
    out = {}
    for number in pages:
        t = time.perf_counter()
        image = render_page_as_read(data, number, options.dpi)
        result.render_s.append(time.perf_counter() - t)
        grey = remove_colour(image)
        t, cpu = time.perf_counter(), time.process_time()
        engine.read(grey)
        raw = time.perf_counter() - t
        result.raw_ocr_cpu_total += time.process_time() - cpu
        result.raw_ocr_s.append(raw)
        result.raw_ocr_total += raw
        out[number] = raw
    return out
