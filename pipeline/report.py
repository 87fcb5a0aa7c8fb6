"""The contract's JSON report and the batch summary, made from Report in one place."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from .model import Candidate, Evidence, Report, Severity

EXTRACTED_FIELDS = {
    "name": "names",
    "id_number": "id_numbers",
    "birth_date": "birth_dates",
    "grade": "grades",
    "certificate_number": "certificate_numbers",
    "honors": "honors",
    "gender": "genders",
}


def _candidates(cands: tuple[Candidate, ...]) -> list[dict]:
    return [c.to_json() for c in cands]


def extracted_json(ev: Evidence | None) -> dict:
    return {key: _candidates(getattr(ev, attr)) if ev else [] for key, attr in EXTRACTED_FIELDS.items()}


def report_json(report: Report) -> dict:
    ev = report.evidence
    narrative = None
    if ev and ev.narrative:
        n = ev.narrative
        narrative = {"pages": list(n.pages), "characters": n.characters, "from_text_layer": n.from_text_layer}
    return {
        "submission": report.submission,
        "status": report.status.value,
        "pages": report.pages,
        "extracted": extracted_json(ev),
        "page_details": [p.to_json() for p in report.page_details],
        "findings": [f.to_json() for f in report.findings],
        "category": report.form.category if report.form else None,
        "declared": report.form.to_json() if report.form else None,
        "narrative": narrative,
        "file": {"name": Path(report.pdf_path).name if report.pdf_path else None, "sha256": report.sha256},
        "meta": {**report.meta, "seconds": round(report.seconds, 3)},
    }


def write_atomic(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write then rename, so that no reader ever sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are for the reviewers' accounts too
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(out: Path, report: Report) -> Path:
    path = out / f"{report.submission}.json"
    write_atomic(path, json.dumps(report_json(report), ensure_ascii=False, indent=2))
    return path


SUMMARY_COLUMNS = ("submission", "status", "category", "name", "recommender", "pages", "errors", "warnings",
                   "codes", "seconds")


def summary_rows(reports: list[Report]) -> list[dict]:
    rows = []
    for r in reports:
        rows.append({
            "submission": r.submission,
            "status": r.status.value,
            "category": r.form.category if r.form else "",
            "name": r.form.name if r.form else "",
            "recommender": (r.form.recommender or "") if r.form else "",
            "pages": r.pages if r.pages is not None else "",
            "errors": sum(f.severity is Severity.ERROR for f in r.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in r.findings),
            "codes": ";".join(sorted({f.code for f in r.findings if f.severity is not Severity.INFO})),
            "seconds": f"{r.seconds:.2f}",
        })
    return rows


def write_summary_csv(out: Path, reports: list[Report]) -> Path:
    """UTF-8 with BOM, so that Excel opens the Chinese text correctly."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS)
    writer.writeheader()
    writer.writerows(summary_rows(reports))
    path = out / "summary.csv"
    write_atomic(path, "\ufeff" + buf.getvalue())
    return path


def write_batch_outputs(out: Path, reports: list[Report], *, mask_id: bool = False,
                        batch_seconds: float | None = None) -> None:
    """Everything a batch writes besides the per-submission JSON: the summary CSV and Excel
    workbook, OUT/<id>.html per submission and OUT/index.html (with the page images and crops
    that pipeline.evidence_images rendered during the run). mask_id: ID numbers shown as
    500101********1234 in the HTML and the workbook (the JSON reports keep them whole)."""
    from .html_report import write_index_html, write_submission_html
    from .xlsx_report import write_summary_xlsx

    write_summary_csv(out, reports)
    write_summary_xlsx(out, reports, mask_id=mask_id, batch_seconds=batch_seconds)
    for report in reports:
        write_submission_html(out, report, mask_id=mask_id)
    write_index_html(out, reports, mask_id=mask_id, batch_seconds=batch_seconds)
