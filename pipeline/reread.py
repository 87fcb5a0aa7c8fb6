"""Lines whose long number came out a character or two short, read again stretched.

A line recogniser (CTC) reading 16 to 22 narrow digits merges repeated ones ("0000" read
"00"): too few of its time steps fall on each digit for a blank to separate two alike. The
same crop stretched along the line reads whole: on the 100-submission corpora two of the five
certificate numbers missed were such merges, both read right at 1.3-2x. Only lines holding a
run of letters and digits that is nearly, but not, a certificate or ID number are read again,
and the new reading is kept only when it makes more of them well formed.
"""

from __future__ import annotations

import re
from dataclasses import replace

import cv2
import numpy as np

from extractors import certificate_number, id_number

from .ocr import OcrEngine, OcrLine

# How much wider the crop is made: each digit then spans more of the recogniser's steps.
STRETCH = 1.5
# A run this long, of the characters numbers are printed and misread with, is a number.
_RUN = re.compile(r"[0-9A-Za-z|!]{12,26}")
# Lengths a number has when whole: qualification 16, ID 18, skill-level certificate 22.
_WHOLE = (16, 18, 22)
# ...and how far short (or long) of one a reading may be to be worth a second look.
_NEAR = 3
# Vertical margin kept around the line box, as a share of its height.
_MARGIN = 0.1


def reread_numbers(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> list[OcrLine]:
    """lines (boxes in image's pixels) with every nearly-number line read again stretched
    where that reading is better; engines without a line reader are left as they are."""
    read_line = getattr(engine, "read_line", None)
    if read_line is None:
        return lines
    out = []
    for line in lines:
        if _wanting(line.text):
            crop = _crop(image, line.box)
            if crop is not None:
                text, conf = read_line(cv2.resize(crop, None, fx=STRETCH, fy=1.0, interpolation=cv2.INTER_CUBIC))
                if _whole_numbers(text) > _whole_numbers(line.text):
                    line = replace(line, text=text, confidence=min(conf, line.confidence))
        out.append(line)
    return out


def _runs(text: str) -> list[str]:
    return _RUN.findall(text.replace(" ", ""))


def _whole(run: str) -> bool:
    if certificate_number.well_formed(certificate_number.canonical(run)):
        return True
    return id_number.repair(run) is not None


def _whole_numbers(text: str) -> int:
    return sum(1 for run in _runs(text) if _whole(run))


def _wanting(text: str) -> bool:
    """A run of number characters near a whole number's length that is not one."""
    return any(not _whole(run) and any(abs(len(run) - n) <= _NEAR for n in _WHOLE) for run in _runs(text))


def _crop(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray | None:
    h, w = image.shape[:2]
    x0, top, x1, bottom = box
    m = _MARGIN * (bottom - top)
    x0, x1 = max(0, int(x0)), min(w, int(np.ceil(x1)))
    top, bottom = max(0, int(top - m)), min(h, int(np.ceil(bottom + m)))
    if x1 - x0 < 8 or bottom - top < 4:
        return None
    crop = image[top:bottom, x0:x1]
    return cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB) if crop.ndim == 2 else np.ascontiguousarray(crop)
