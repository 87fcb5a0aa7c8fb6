"""OUT/summary.xlsx: a summary sheet (one row per submission), a findings sheet (one row per
finding) and the batch's provenance; frozen header rows, filters, widths that fit Chinese
text, status and severity cells coloured. Column headers are Chinese with the contract's
English key in the findings sheet's code column, so that a reviewer can filter in Excel."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import __version__
from .labels import SEVERITY_LABELS, STATUS_LABELS, beijing_time, code_label, masker
from .model import Report, Severity

SUMMARY_SHEET = "汇总"
FINDINGS_SHEET = "问题明细"
ABOUT_SHEET = "批次信息"

# (header, key); the keys are what tests and programs read back
SUMMARY_COLUMNS = [
    ("编号", "submission"),
    ("状态", "status"),
    ("状态说明", "status_label"),
    ("申报类别", "category"),
    ("姓名", "name"),
    ("身份证号", "id_number"),
    ("推荐单位", "recommender"),
    ("工作单位", "unit"),
    ("页数", "pages"),
    ("错误", "errors"),
    ("警告", "warnings"),
    ("问题代码", "codes"),
    ("问题", "labels"),
    ("用时(秒)", "seconds"),
    ("报告", "report"),
]
FINDINGS_COLUMNS = [
    ("编号", "submission"),
    ("姓名", "name"),
    ("状态", "status"),
    ("严重程度", "severity"),
    ("代码", "code"),
    ("问题", "label"),
    ("说明", "message"),
    ("申报值", "declared"),
    ("材料值", "found"),
    ("页码", "page"),
    ("位置(x0,top,x1,bottom 磅)", "bbox"),
]

FILLS = {
    "pass": ("E8F5E9", "1B5E20"),
    "review": ("FFF3E0", "8A4B00"),
    "fail": ("FFEBEE", "B71C1C"),
    "error": ("ECEFF1", "37474F"),
    "warning": ("FFF3E0", "8A4B00"),
    "info": ("F5F5F5", "555555"),
}
FILLS.update({SEVERITY_LABELS[k]: FILLS[k] for k in ("error", "warning", "info")})
FILLS["错误"] = FILLS["fail"]
HEADER_FILL = PatternFill("solid", fgColor="263238")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Border(bottom=Side(style="thin", color="D9DDE3"))
MAX_WIDTH = 60
WRAP_WIDTH = 48  # columns wider than this wrap instead


def display_width(value) -> int:
    """Columns a value takes in a spreadsheet: CJK and full-width characters count two."""
    if value is None:
        return 0
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


def _fill(key: str) -> tuple[PatternFill, Font]:
    bg, fg = FILLS[key]
    return PatternFill("solid", fgColor=bg), Font(bold=True, color=fg)


def summary_rows(reports: list[Report], mask_id: bool = False) -> list[dict]:
    mask = masker(mask_id)
    rows = []
    for r in sorted(reports, key=lambda r: r.submission):
        form = r.form
        problems = [f for f in r.findings if f.severity is not Severity.INFO]
        codes = sorted({f.code for f in problems})
        rows.append({
            "submission": r.submission,
            "status": r.status.value,
            "status_label": STATUS_LABELS.get(r.status.value, ""),
            "category": form.category if form else None,
            "name": form.name if form else None,
            "id_number": mask(form.id_number) if form else None,
            "recommender": form.recommender if form else None,
            "unit": form.unit if form else None,
            "pages": r.pages,
            "errors": sum(f.severity is Severity.ERROR for f in r.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in r.findings),
            "codes": ";".join(codes) or None,
            "labels": "；".join(code_label(c) for c in codes) or None,
            "seconds": round(r.seconds, 2),
            "report": f"{r.submission}.html",
        })
    return rows


def finding_rows(reports: list[Report], mask_id: bool = False) -> list[dict]:
    mask = masker(mask_id)
    rows = []
    for r in sorted(reports, key=lambda r: r.submission):
        for f in r.findings:
            rows.append({
                "submission": r.submission,
                "name": r.form.name if r.form else None,
                "status": r.status.value,
                "severity": SEVERITY_LABELS[f.severity.value],
                "code": f.code,
                "label": code_label(f.code),
                "message": mask(f.message),
                "declared": mask(f.declared),
                "found": mask(f.found),
                "page": f.page,
                "bbox": ",".join(f"{v:g}" for v in f.bbox.as_list()) if f.bbox else None,
            })
    return rows


def _sheet(ws: Worksheet, columns: list[tuple[str, str]], rows: list[dict]) -> None:
    ws.append([h for h, _ in columns])
    for row in rows:
        ws.append([row[k] for _, k in columns])
    for cell in ws[1]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    ws.row_dimensions[1].height = 22
    ws.freeze_panes = "B2"  # the header row and the submission column stay in view
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    keys = [k for _, k in columns]
    for i, (header, key) in enumerate(columns, 1):
        widest = max([display_width(header) + 3] + [display_width(row[key]) for row in rows])  # +3: filter arrow
        width = min(MAX_WIDTH, widest + 2)
        ws.column_dimensions[get_column_letter(i)].width = width
        if widest > WRAP_WIDTH:
            for cells in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cells[0].alignment = Alignment(wrap_text=True, vertical="top")
    for key in ("status", "severity"):
        if key in keys:
            col = keys.index(key) + 1
            for cells in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                c = cells[0]
                if c.value in FILLS:
                    c.fill, c.font = _fill(c.value)
    if "status_label" in keys:
        col = keys.index("status_label") + 1
        status_col = keys.index("status") + 1
        for r in range(2, len(rows) + 2):
            s = ws.cell(r, status_col).value
            if s in FILLS:
                ws.cell(r, col).fill, ws.cell(r, col).font = _fill(s)
    for row in ws.iter_rows(min_row=2):
        for c in row:
            c.border = THIN
            if c.alignment is None or not c.alignment.wrap_text:
                c.alignment = Alignment(vertical="top")


def write_summary_xlsx(out: Path, reports: list[Report], *, mask_id: bool = False,
                       batch_seconds: float | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_SHEET
    rows = summary_rows(reports, mask_id)
    _sheet(ws, SUMMARY_COLUMNS, rows)
    report_col = [k for _, k in SUMMARY_COLUMNS].index("report") + 1
    for r in range(2, len(rows) + 2):
        c = ws.cell(r, report_col)
        c.hyperlink = c.value  # relative to the workbook: OUT/<id>.html
        c.font = Font(color="1565C0", underline="single")
    _sheet(wb.create_sheet(FINDINGS_SHEET), FINDINGS_COLUMNS, finding_rows(reports, mask_id))

    about = wb.create_sheet(ABOUT_SHEET)
    meta = next((r.meta for r in reports if r.meta), {})
    statuses = Counter(r.status.value for r in reports)
    info = [
        ("生成时间（北京时间）", beijing_time(meta.get("generated_at"))),
        ("生成时间（ISO 8601）", meta.get("generated_at")),
        ("版本", meta.get("version", __version__)),
        ("规则文件", meta.get("rules")),
        ("规则标识", meta.get("rules_id")),
        ("OCR", f"{meta.get('ocr', '')} {meta.get('dpi', '')} dpi".strip()),
        ("申报份数", len(reports)),
        *((f"{STATUS_LABELS[s]}（{s}）", statuses.get(s, 0)) for s in ("pass", "review", "fail", "error")),
        ("检查用时合计(秒)", round(sum(r.seconds for r in reports), 2)),
        ("批次用时(秒)", round(batch_seconds, 2) if batch_seconds is not None else None),
        ("身份证号脱敏", "是" if mask_id else "否"),
    ]
    for k, v in info:
        about.append([k, v])
    for cell in about["A"]:
        cell.font = Font(bold=True)
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = max(24, min(MAX_WIDTH, max(display_width(v) for _, v in info) + 2))

    path = out / "summary.xlsx"
    tmp = out / ".summary.xlsx.tmp"
    wb.save(tmp)
    tmp.replace(path)
    return path

