"""The Python API a web platform calls instead of the service."""

from __future__ import annotations

import json
from pathlib import Path

from .model import Report
from .runner import Options, Prechecker

_checkers: dict[Options, Prechecker] = {}


def prechecker(options: Options = Options()) -> Prechecker:
    """The Prechecker precheck() uses for these options, made once (the service warms it up)."""
    checker = _checkers.get(options)
    if checker is None:
        checker = _checkers[options] = Prechecker(options)
    return checker


def precheck(pdf: bytes | Path, form: dict | bytes | Path, *, submission: str = "upload",
             options: Options = Options()) -> Report:
    """Pre-check one PDF against its declared form; the OCR engine is loaded once per options."""
    checker = prechecker(options)
    pdf_bytes = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    if isinstance(form, Path):
        form_bytes = form.read_bytes()
    elif isinstance(form, dict):
        form_bytes = json.dumps(form, ensure_ascii=False).encode("utf-8")
    else:
        form_bytes = form
    name = pdf.name if isinstance(pdf, Path) else None
    return checker.check(submission, pdf_bytes, form_bytes, pdf_name=name)
