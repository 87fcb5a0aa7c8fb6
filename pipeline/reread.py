"""Lines read again where the first reading fell short: a long number a character or two
short, read again stretched; a label with nothing read beside it, read beside.

A line recogniser (CTC) reading 16 to 22 narrow digits merges repeated ones ("0000" read
"00"): too few of its time steps fall on each digit for a blank to separate two alike. The
same crop stretched along the line reads whole: on the 100-submission corpora two of the five
certificate numbers missed were such merges, both read right at 1.3-2x. Only lines holding a
run of letters and digits that is nearly, but not, a certificate or ID number are read again,
and the new reading is kept only when it makes more of them well formed.

A field's label read alone on its row (姓名： and nothing after it) most often means the text
detector, working on the page scaled down, did not box a short value standing apart (a two-
character name printed in a wide cell): the recogniser reads it surely from its own crop. The
ink beside the label, up to the next line on the row, is cropped and read once.

A number's label read on a swollen or doubtful line with no whole number after it (证书编:号
5003192016饮行), or a number read unsurely on a swollen line (a handwritten 0450102612108165
read 0450192912106165 at 0.71 in a box twice a line's height, or 0450126121108165 at 0.85),
means the detector ran the
number into a seal's words just under it: that line's region is detected and read again on
its own, at the page's full resolution.
"""

from __future__ import annotations

import re
from dataclasses import replace

import cv2
import numpy as np

from extractors import certificate_number, id_number

from .model import rect_mostly_within
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
# The wider crop tried next: (vertical, horizontal) margins in line heights.
_WIDE_MARGINS = (0.3, 0.5)
# ...and last, one reaching this many line heights to the right (vertical, left, right): the
# detector stops a line where a seal's ring crosses its end (S000050108066191 of 22
# characters in an independent probe's grey copies), and six digits span about four.
_REACHING_MARGINS = (0.3, 0.5, 4.0)


def reread_numbers(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> list[OcrLine]:
    """lines (boxes in image's pixels) with every nearly-number line read again stretched
    where that reading is better; engines without a line reader are left as they are."""
    read_line = getattr(engine, "read_line", None)
    if read_line is None:
        return lines
    out = []
    for line in lines:
        if _wanting(line.text):
            # the line's own box, then a wider one: the detector's box can cut off a first
            # digit standing against a table's rule or a seal's ink
            for margins in (_MARGIN, _WIDE_MARGINS, _REACHING_MARGINS):
                crop = _crop(image, line.box, margins)
                if crop is None:
                    continue
                text, conf = read_line(cv2.resize(crop, None, fx=STRETCH, fy=1.0, interpolation=cv2.INTER_CUBIC))
                if _whole_numbers(text) > _whole_numbers(line.text):
                    line = replace(line, text=text, confidence=min(conf, line.confidence))
                    break
        out.append(line)
    return out


# A line holding a whole certificate number read less surely than this is read once more:
# on the seed 2030 damaged corpus the two numbers misread into other whole numbers (0 read
# 9 and 6 in small print) were read at 0.979 and 0.988, and every value read at 0.99 or
# over (387, all fields) was right.
_RECHECK_BELOW = 0.99


def read_unsure_numbers_again(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> list[OcrLine]:
    """lines, each that holds a whole certificate number read under _RECHECK_BELOW read once
    more, stretched; where that reading holds other whole certificate numbers it is kept as
    the line's second reading. A line recogniser misreads one digit as another without
    doubt; the same print seen at another width rarely makes the same mistake."""
    read_line = getattr(engine, "read_line", None)
    if read_line is None:
        return lines
    out = []
    for line in lines:
        first = _certificate_numbers(line.text)
        x0, top, x1, bottom = line.box
        # a tall box is a line printed sideways on an upright page, which its box's crop
        # does not read (nor does that of a line printed aslant, which reads no number)
        if first and line.confidence < _RECHECK_BELOW and x1 - x0 > bottom - top:
            crop = _crop(image, line.box)
            if crop is not None:
                text, conf = read_line(cv2.resize(crop, None, fx=STRETCH, fy=1.0, interpolation=cv2.INTER_CUBIC))
                again = _certificate_numbers(text)
                if again and again != first:
                    line = replace(line, second=text, second_confidence=conf)
        out.append(line)
    return out


def _certificate_numbers(text: str) -> list[str]:
    return [n for n in (certificate_number.canonical(run) for run in _runs(text)) if certificate_number.well_formed(n)]


# A line that is nothing but a field's label (spaces, colon allowed), its value missing.
_LONE_LABEL = re.compile(
    r"^(?:姓名|性别|民族|出生日期|出生年月|身份证号码?|公民身份号码|证件号码?|证书编号|"
    r"职业[（(]?工种[)）]?|职业名称|工种|等级|技能等级|发证日期)[:：]?$"
)
# How far right of a lone label its value is looked for, in label heights.
_BESIDE = 14
# A value begins within this many label heights of its label...
_START_WITHIN = 4
# ...and ink is a pixel this much darker than the paper of the crop.
_INK_BELOW_PAPER = 0.6
# Second readings under this confidence are not kept.
_KEEP_AT = 0.6


def read_beside_lone_labels(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> list[OcrLine]:
    """lines, and for each line that is only a field's label with no line beside it on its
    row, the reading of the ink to its right (boxes in image's pixels, image upright)."""
    read_line = getattr(engine, "read_line", None)
    if read_line is None:
        return lines
    added = []
    for line in lines:
        if not _LONE_LABEL.match(re.sub(r"\s", "", line.text)):
            continue
        box = _ink_beside(image, line.box, lines)
        if box is None:
            continue
        crop = _crop(image, box)
        if crop is None:
            continue
        text, conf = read_line(crop)
        if len(text.strip()) >= 1 and conf >= _KEEP_AT:
            added.append(OcrLine(text.strip(), box, conf))
    return lines + added


def _ink_beside(image: np.ndarray, label: tuple[float, float, float, float],
                lines: list[OcrLine]) -> tuple[float, float, float, float] | None:
    """The box of the ink right of a label up to the next line on its row, or None when
    another line starts within reach (the value was read) or there is no ink."""
    x0, top, x1, bottom = label
    h = bottom - top
    if h <= 0:
        return None
    reach = x1 + _BESIDE * h
    for other in lines:
        ox0, otop, ox1, obottom = other.box
        overlap = min(bottom, obottom) - max(top, otop)
        if other.box != label and overlap > 0.5 * min(h, obottom - otop) and ox1 > x1:
            if ox0 < x1 + _START_WITHIN * h:
                return None  # something was read beside the label
            reach = min(reach, ox0)
    img_h, img_w = image.shape[:2]
    left, right = int(x1 + 0.2 * h), int(min(reach - 0.2 * h, img_w))
    y0, y1 = max(0, int(top - 0.15 * h)), min(img_h, int(np.ceil(bottom + 0.15 * h)))
    if right - left < h or y1 - y0 < 4:
        return None
    grey = image[y0:y1, left:right]
    if grey.ndim == 3:
        grey = grey.min(axis=2)
    paper = float(np.percentile(grey, 90))
    ink_columns = np.flatnonzero((grey < _INK_BELOW_PAPER * paper).sum(axis=0) >= 2)
    if ink_columns.size == 0:
        return None
    first, last = int(ink_columns[0]), int(ink_columns[-1])
    if first > _START_WITHIN * h or last - first < 0.6 * h:
        return None  # no value starts near the label, or only a speck
    return (left + max(0, first - 0.3 * h), top, left + min(right - left, last + 1 + 0.3 * h), bottom)


# A number's label (证书编号, 证件号码, 身份证号, read with a colon misplaced or a character
# missing).
_NUMBER_LABEL = re.compile(r"(?:证书|证件|身份证|公民身份)[编号码:：\s]{1,4}")
# A line box this many times the page's median line height took in more than its line.
_SWOLLEN = 1.6
# A labelled line read with less confidence than this is also detected again...
_DOUBTFUL = 0.8
# ...and a swollen line holding a number read with less than this (a number run into a
# seal's words is misread at 0.7-0.85, and read again on its own at 1.0).
_SWOLLEN_DOUBTFUL = 0.9


def redetect_number_lines(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> list[OcrLine]:
    """lines, where the page's detector (on the page scaled down) ran a number into a seal's
    text below it, with that line's region detected and read again on its own: a number's
    label read without a whole number after it on a swollen or doubtful line, or a number
    read unsurely on a swollen line. The lines found there replace it when they make more
    whole numbers, or as many read surer."""
    heights = sorted(line.box[3] - line.box[1] for line in lines)
    if not heights:
        return lines
    median = heights[len(heights) // 2]
    out: list[OcrLine] = []
    for line in lines:
        _, top, _, bottom = line.box
        swollen = bottom - top > _SWOLLEN * median
        labelled = (_NUMBER_LABEL.search(line.text) and not _whole_numbers(line.text)
                    and (swollen or line.confidence < _DOUBTFUL))
        if labelled or (swollen and line.confidence < _SWOLLEN_DOUBTFUL and _runs(line.text)):
            crop, bounds = _crop(image, line.box), _crop_bounds(image, line.box)
            found = engine.read(crop) if crop is not None else []
            if bounds is not None and _better(found, line):
                left, up = bounds[0], bounds[1]
                moved = [replace(f, box=(f.box[0] + left, f.box[1] + up, f.box[2] + left, f.box[3] + up))
                         for f in found]
                # a neighbouring line the crop took in was read already
                out += [f for f in moved if not any(o is not line and rect_mostly_within(f.box, o.box) for o in lines)]
                continue
        out.append(line)
    return out


def _better(found: list[OcrLine], line: OcrLine) -> bool:
    """Whether the lines found again make more whole numbers than the line, or as many
    (at least one) each read surer than it was."""
    numbered = [f for f in found if _whole_numbers(f.text)]
    whole, before = sum(_whole_numbers(f.text) for f in numbered), _whole_numbers(line.text)
    if whole != before:
        return whole > before
    return whole > 0 and all(f.confidence > line.confidence for f in numbered)


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


def _crop_bounds(image: np.ndarray, box: tuple[float, float, float, float],
                 margins: float | tuple[float, ...] = _MARGIN) -> tuple[int, int, int, int] | None:
    """The pixel bounds (x0, top, x1, bottom) _crop takes for a line box: the box with a
    margin (vertical, (vertical, horizontal) or (vertical, left, right), in line heights),
    clipped to the image; None when too small to read."""
    h, w = image.shape[:2]
    x0, top, x1, bottom = box
    if not isinstance(margins, tuple):
        margins = (margins, 0.0)
    vertical, left, right = margins if len(margins) == 3 else (margins[0], margins[1], margins[1])
    m = vertical * (bottom - top)
    x0, x1 = max(0, int(x0 - left * (bottom - top))), min(w, int(np.ceil(x1 + right * (bottom - top))))
    top, bottom = max(0, int(top - m)), min(h, int(np.ceil(bottom + m)))
    if x1 - x0 < 8 or bottom - top < 4:
        return None
    return x0, top, x1, bottom


def _crop(image: np.ndarray, box: tuple[float, float, float, float],
          margins: float | tuple[float, ...] = _MARGIN) -> np.ndarray | None:
    bounds = _crop_bounds(image, box, margins)
    if bounds is None:
        return None
    x0, top, x1, bottom = bounds
    crop = image[top:bottom, x0:x1]
    return cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB) if crop.ndim == 2 else np.ascontiguousarray(crop)
