"""Turn a PDF into PageContent: the text layer where the page has a usable one, OCR otherwise.

Geometry. Every box handed on is in PDF points, top-left origin, in the frame of the page as
displayed (see model.py). Two other frames occur here:
- the rendered image: the displayed frame in pixels (pdfium applies /Rotate), so
  pixels_to_points is a plain scale;
- the upright frame: the displayed frame turned `rotation` degrees clockwise so that its text
  reads left to right (a sideways or upside-down scan, or a text layer drawn sideways).
  rotate_box maps a box into it and unrotate_box maps it back.
"""

from __future__ import annotations

import io
import math
import time
import unicodedata
from collections import Counter
from dataclasses import replace
from typing import Any, Iterable

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
from pdfplumber.utils import chars_to_textmap
from PIL import Image

from extractors.textnorm import normalise as normalise_text
from pipeline.model import Box, PageContent, TextLine, boxes_union
from pipeline.limits import page_too_complex
from pipeline.errors import PrecheckError, UnreadablePdf
from pipeline.ocr import OcrEngine, OcrEngineUnavailable, OcrLine

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom, in pixels or points

# A text layer is used when it has at least this many readable characters...
TEXT_LAYER_MIN_CHARS = 10
# ...unless images cover a good share of the page: a scan with a typed caption, a
# scanner's partial OCR, or a Word page with a certificate photo pasted under its heading.
# The image holds the evidence then, so the whole rendered page (text included) is OCR-ed.
SCANNED_IMAGE_COVERAGE = 0.3

# Orientation of a scan: a sideways page yields mostly tall line boxes.
TALL_RATIO = 1.5
MIN_TALL_BOXES = 3
ORIENTATION_CROPS = 8
# Engines without a line classifier: a reading this confident is taken to be upright.
CONFIDENT_READING = 0.60


# --- geometry (pure) -----------------------------------------------------------------


def rotate_box(box: Rect, rotation: int, width: float, height: float) -> Rect:
    """The box after its frame (width x height) is turned `rotation` degrees clockwise."""
    x0, top, x1, bottom = box
    r = rotation % 360
    if r == 0:
        return (x0, top, x1, bottom)
    if r == 90:  # point (x, y) -> (height - y, x)
        return (height - bottom, x0, height - top, x1)
    if r == 180:  # (x, y) -> (width - x, height - y)
        return (width - x1, height - bottom, width - x0, height - top)
    if r == 270:  # (x, y) -> (y, width - x)
        return (top, width - x1, bottom, width - x0)
    raise ValueError(f"rotation must be a multiple of 90, not {rotation}")


def unrotate_box(box: Rect, rotation: int, width_px: float, height_px: float) -> Rect:
    """Map a box found in an image turned `rotation` degrees clockwise back to the image
    before turning, whose size was width_px x height_px."""
    r = rotation % 360
    turned_w, turned_h = (height_px, width_px) if r in (90, 270) else (width_px, height_px)
    return rotate_box(box, (360 - r) % 360, turned_w, turned_h)


def pixels_to_points(box: Rect, dpi: float) -> Box:
    """A pixel box of a page rendered at dpi, in points (1/72 inch)."""
    k = 72.0 / dpi
    x0, top, x1, bottom = box
    return Box(x0 * k, top * k, x1 * k, bottom * k)


def split_box(box: Rect, text: str) -> list[Rect]:
    """One slice of a horizontal line box per character of text, left to right, a CJK
    (full-width) character twice as wide as a digit or Latin letter. Equal slices would put
    the ID number after 公民身份号码： about 40 points too far left."""
    x0, top, x1, bottom = box
    units = [2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text]
    step = (x1 - x0) / max(1, sum(units))
    out, left = [], x0
    for u in units:
        out.append((left, top, left + u * step, bottom))
        left += u * step
    return out


# --- rendering -------------------------------------------------------------------------


def render_page(pdf_bytes: bytes, page_no: int, dpi: int) -> Image.Image:
    """Page page_no (from 1) as an RGB image at dpi, in the displayed frame."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        if not 1 <= page_no <= len(doc):
            raise ValueError(f"page {page_no} out of range 1..{len(doc)}")
        return _render(doc[page_no - 1], dpi)
    finally:
        doc.close()


# A photo pasted as a page can measure a metre across: past this many pixels on its long
# side a page is rendered at a lower dpi (A4 at 300 dpi is 3508), or one page would cost
# gigabytes.
MAX_RENDER_SIDE = 3600


def render_dpi(width_pt: float, height_pt: float, dpi: float) -> float:
    """The dpi a page is actually rendered at: dpi, or less for a page too large for it."""
    longest = max(width_pt, height_pt, 1.0)
    return min(float(dpi), MAX_RENDER_SIDE * 72.0 / longest)


def _render(pdf_page: pdfium.PdfPage, dpi: float) -> Image.Image:
    w, h = pdf_page.get_size()
    return pdf_page.render(scale=render_dpi(w, h, dpi) / 72).to_pil().convert("RGB")


def remove_colour(rgb: np.ndarray) -> np.ndarray:
    """max(R, G, B) per pixel as a 3-channel image: red and blue stamp ink turn white, black
    text stays (research/ocr-engines.md: fixed every misreading under a seal)."""
    grey = np.maximum(np.maximum(rgb[:, :, 0], rgb[:, :, 1]), rgb[:, :, 2])
    return np.dstack((grey, grey, grey))  # 4x faster than rgb.max(axis=2) + np.repeat


def turn(image: np.ndarray, rotation: int) -> np.ndarray:
    """The image turned `rotation` degrees clockwise."""
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90) % 4))


# --- the page loop ---------------------------------------------------------------------


def read_pages(
    pdf_bytes: bytes, engine: OcrEngine | None, dpi: int = 300, pages: range | None = None
) -> list[PageContent]:
    """Read the pages (numbers from 1; all when None) of a PDF, each from its text layer or
    by OCR with engine. Raises OcrEngineUnavailable if a page needs OCR and engine is None,
    UnreadablePdf when a parser fails on the file (pdfminer's syntax errors, pdfium's, a page
    count the parsers disagree on)."""
    try:
        return _read_pages(pdf_bytes, engine, dpi, pages)
    except (PrecheckError, OcrEngineUnavailable, MemoryError):
        raise
    except ValueError as exc:
        if pages is not None and any(n < 1 for n in pages):
            raise  # the caller's mistake, not the file's
        raise UnreadablePdf(f"页面无法解析（{type(exc).__name__}）") from exc
    except Exception as exc:  # noqa: BLE001 - a parser's failure on this file is the file's problem
        raise UnreadablePdf(f"页面无法解析（{type(exc).__name__}）") from exc


def _read_pages(
    pdf_bytes: bytes, engine: OcrEngine | None, dpi: int = 300, pages: range | None = None
) -> list[PageContent]:
    from extractors.marks import find_marks  # it imports this module's geometry

    out: list[PageContent] = []
    doc: pdfium.PdfDocument | None = None  # opened only when a page needs OCR
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        try:
            for number in _page_numbers(len(pdf.pages), pages):
                start = time.perf_counter()
                page = pdf.pages[number - 1]
                # a page of too many operators would cost pdfminer minutes: read it as a scan
                if not page_too_complex(page) and has_usable_text_layer(page):
                    content = read_text_layer(page, number)
                else:
                    if engine is None:
                        raise OcrEngineUnavailable(
                            f"page {number} has no usable text layer and needs OCR, but no OCR engine was given"
                        )
                    doc = doc or pdfium.PdfDocument(pdf_bytes)
                    pdf_page = doc[number - 1]
                    image = np.asarray(_render(pdf_page, dpi))
                    used_dpi = render_dpi(*pdf_page.get_size(), dpi)
                    content = read_image(image, engine, used_dpi, number, float(page.width), float(page.height))
                    # seals and stamps need the colours, which the OCR'd copy has lost
                    content = replace(content, marks=find_marks(image, content, engine, used_dpi))
                page.close()  # pdfplumber caches every parsed object per page otherwise
                out.append(replace(content, seconds=time.perf_counter() - start))
        finally:
            if doc is not None:
                doc.close()
    return out


def _page_numbers(count: int, pages: range | None) -> range:
    if pages is None:
        return range(1, count + 1)
    bad = [n for n in pages if not 1 <= n <= count]
    if bad:
        raise ValueError(f"pages are numbered 1..{count}; asked for {bad[:5]}")
    return pages


# --- text layer ------------------------------------------------------------------------


def usable_text_layer(readable_chars: int, image_share: float) -> bool:
    """Whether a page with this many readable characters and this share of its area under
    images is read from its text layer rather than OCR-ed."""
    if readable_chars < TEXT_LAYER_MIN_CHARS:
        return False
    return image_share <= SCANNED_IMAGE_COVERAGE


def has_usable_text_layer(page: Any) -> bool:
    """usable_text_layer for a pdfplumber page."""
    readable = sum(1 for c in page.chars if _readable(c["text"]))
    if readable < TEXT_LAYER_MIN_CHARS:
        return False  # no need to look at the images
    return usable_text_layer(readable, image_coverage(page))


def _readable(text: str) -> bool:
    # Fonts without a ToUnicode map come out as "(cid:123)", U+FFFD or control
    # characters: such a layer is no better than none.
    return bool(text.strip()) and text.isprintable() and not text.startswith("(cid:") and "\ufffd" not in text


def image_coverage(page: Any) -> float:
    """Share of the page's area under images (overlaps counted twice, capped at 1)."""
    px0, ptop, px1, pbottom = page.bbox
    area = 0.0
    for im in page.images:
        w = min(im["x1"], px1) - max(im["x0"], px0)
        h = min(im["bottom"], pbottom) - max(im["top"], ptop)
        if w > 0 and h > 0:
            area += w * h
    page_area = (px1 - px0) * (pbottom - ptop)
    return min(1.0, area / page_area) if page_area > 0 else 0.0


def read_text_layer(page: Any, number: int) -> PageContent:
    """The page's lines from its text layer, one box per character."""
    width, height = float(page.width), float(page.height)
    chars = [c for c in page.chars if c["text"]]
    rotation = text_rotation(chars)
    if rotation:
        chars = [_turned_char(c, rotation, width, height) for c in chars]
    lines = []
    for text, boxes in _textmap_lines(chars_to_textmap(chars).tuples):
        if rotation:
            boxes = [unrotate_box(b, rotation, width, height) for b in boxes]
        char_boxes = tuple(Box(*b) for b in boxes)
        union = boxes_union(char_boxes)
        assert union is not None
        lines.append(TextLine(text, union, 1.0, number, "text_layer", char_boxes))
    return PageContent(number, width, height, True, None, rotation, tuple(lines))


def text_rotation(chars: list[dict]) -> int:
    """Degrees clockwise the displayed page must be turned for most of its text to read left
    to right: 0 normally, 270 for a portrait page shown with /Rotate 90, and so on."""
    votes: Counter[int] = Counter()
    for c in chars:
        a, b = c.get("matrix", (1, 0))[:2]
        if a or b:
            # (a, b) is the text direction in PDF space (y up); the text is turned this
            # many degrees clockwise, and turning the page back undoes it.
            turned_cw = round(-math.degrees(math.atan2(b, a)) / 90) % 4 * 90
            votes[(360 - turned_cw) % 360] += 1
    return votes.most_common(1)[0][0] if votes else 0


def _turned_char(c: dict, rotation: int, width: float, height: float) -> dict:
    """A copy of a pdfplumber char with its box in the upright frame."""
    x0, top, x1, bottom = rotate_box((c["x0"], c["top"], c["x1"], c["bottom"]), rotation, width, height)
    return {**c, "x0": x0, "top": top, "x1": x1, "bottom": bottom, "upright": True, "doctop": top}


def _textmap_lines(tuples: Iterable[tuple[str, dict | None]]) -> list[tuple[str, list[Rect]]]:
    """Split a pdfplumber text map into lines of (text, one box per character).

    The map holds one (letter, char) pair per letter of the text, with char None for the
    spaces pdfplumber inserts between words; those get the box of the gap they stand for.
    """
    lines: list[list[tuple[str, dict | None]]] = [[]]
    for letter, char in tuples:
        if letter == "\n" and char is None:
            lines.append([])
        else:
            lines[-1].append((letter, char))
    out = []
    for line in lines:
        while line and not line[0][0].strip():
            line.pop(0)
        while line and not line[-1][0].strip():
            line.pop()
        if line:
            # Some writers emit Kangxi radicals (⼯ U+2F2F) for ordinary characters (工).
            text = normalise_text("".join(letter for letter, _ in line))
            out.append((text, _fill_gaps([c for _, c in line])))
    return out


def _fill_gaps(chars: list[dict | None]) -> list[Rect]:
    """Boxes of a line's chars; a run of inserted spaces shares the gap between its neighbours."""
    real = [c for c in chars if c is not None]
    top = min(c["top"] for c in real)
    bottom = max(c["bottom"] for c in real)
    boxes: list[Rect | None] = [
        (c["x0"], c["top"], c["x1"], c["bottom"]) if c is not None else None for c in chars
    ]
    i = 0
    while i < len(boxes):
        if boxes[i] is not None:
            i += 1
            continue
        j = i
        while boxes[j] is None:  # lines are stripped, so a real char follows the run
            j += 1
        left = boxes[i - 1][2]  # type: ignore[index]
        right = max(left, boxes[j][0])  # type: ignore[index]
        step = (right - left) / (j - i)
        for k in range(i, j):
            boxes[k] = (left + (k - i) * step, top, left + (k - i + 1) * step, bottom)
        i = j
    return boxes  # type: ignore[return-value]


# --- OCR -----------------------------------------------------------------------------


def read_image(
    image: np.ndarray, engine: OcrEngine, dpi: int, number: int, width: float, height: float
) -> PageContent:
    """OCR a rendered page image (RGB, displayed frame) into a PageContent in points."""
    grey = remove_colour(image)
    rotation, ocr_lines = read_upright(grey, engine)
    h_px, w_px = grey.shape[:2]
    source = f"ocr:{engine.name}"
    lines = tuple(_text_line(line, rotation, w_px, h_px, dpi, number, source) for line in ocr_lines)
    return PageContent(number, width, height, False, engine.name, rotation, lines, image_dpi=dpi)


def _text_line(
    line: OcrLine, rotation: int, w_px: int, h_px: int, dpi: int, number: int, source: str
) -> TextLine:
    # Engines give line boxes only. Character boxes are sliced here rather than left to
    # TextLine.span_box: slices can weigh CJK against digits, and on a turned page a line
    # does not run left to right in the displayed frame, so slicing must happen upright.
    box = pixels_to_points(unrotate_box(line.box, rotation, w_px, h_px), dpi)
    char_boxes = tuple(
        pixels_to_points(unrotate_box(b, rotation, w_px, h_px), dpi) for b in split_box(line.box, line.text)
    )
    return TextLine(line.text, box, line.confidence, number, source, char_boxes)


def read_upright(image: np.ndarray, engine: OcrEngine) -> tuple[int, list[OcrLine]]:
    """Read an image whatever way up it was scanned: (degrees it was turned clockwise,
    lines in the turned image)."""
    lines = engine.read(image)
    classify = getattr(engine, "classify_orientation", None)
    if classify is None:
        return _upright_by_confidence(image, lines, engine)
    rotation = 0
    if looks_sideways(lines):
        turned = _sideways_turn(image, lines, classify)
        turned_lines = engine.read(turn(image, turned))
        # Tall boxes after turning too: the page was upright after all (a table of narrow
        # cells, vertical text); keep the first reading.
        if not looks_sideways(turned_lines):
            rotation, lines = turned, turned_lines
    if lines and _upside_down(turn(image, rotation), lines, classify):
        rotation = (rotation + 180) % 360
        lines = engine.read(turn(image, rotation))
    return rotation, lines


def looks_sideways(lines: list[OcrLine]) -> bool:
    """Most elongated boxes are tall: the text runs up or down the page."""
    tall = sum(1 for line in lines if _height(line.box) > TALL_RATIO * _width(line.box))
    wide = sum(1 for line in lines if _width(line.box) > TALL_RATIO * _height(line.box))
    return tall >= MIN_TALL_BOXES and tall > wide


def _width(box: Rect) -> float:
    return box[2] - box[0]


def _height(box: Rect) -> float:
    return box[3] - box[1]


def _sideways_turn(image: np.ndarray, lines: list[OcrLine], classify: Any) -> int:
    """90 or 270: turn the tall line crops 90° clockwise and ask whether they are upside down."""
    tall = [line.box for line in lines if _height(line.box) > TALL_RATIO * _width(line.box)]
    tall.sort(key=_height, reverse=True)
    crops = [turn(crop, 90) for crop in _crops(image, tall[:ORIENTATION_CROPS])]
    return 270 if _mostly_180(classify(crops)) else 90


def _upside_down(upright: np.ndarray, lines: list[OcrLine], classify: Any) -> bool:
    """The line classifier's majority verdict on the widest lines."""
    widest = sorted((line.box for line in lines), key=_width, reverse=True)[:ORIENTATION_CROPS]
    return _mostly_180(classify(_crops(upright, widest)))


def _upright_by_confidence(image: np.ndarray, lines: list[OcrLine], engine: OcrEngine) -> tuple[int, list[OcrLine]]:
    """For engines without a line classifier (tesseract): a page the wrong way up reads
    with low confidence (tesseract: 0.20-0.25 against 0.86-0.90 upright), so try the other
    ways up until one reads confidently, else keep the best."""
    if not lines:
        return 0, lines  # a blank page reads as nothing every way up
    readings = {0: lines}

    def good(rotation: int) -> bool:
        found = readings[rotation]
        return mean_confidence(found) >= CONFIDENT_READING and not looks_sideways(found)

    if good(0):
        return 0, lines
    for rotation in (90, 270, 180) if looks_sideways(lines) else (180, 90, 270):
        readings[rotation] = engine.read(turn(image, rotation))
        if good(rotation):
            return rotation, readings[rotation]
    best = max(readings, key=lambda r: (not looks_sideways(readings[r]), mean_confidence(readings[r])))
    return best, readings[best]


def _mostly_180(votes: list[tuple[str, float]]) -> bool:
    return bool(votes) and sum(1 for label, _ in votes if label == "180") * 2 > len(votes)


def mean_confidence(lines: list[OcrLine]) -> float:
    """Mean confidence weighted by characters read (0 for nothing read)."""
    n = sum(len(line.text) for line in lines)
    return sum(line.confidence * len(line.text) for line in lines) / n if n else 0.0


def _crops(image: np.ndarray, boxes: list[Rect]) -> list[np.ndarray]:
    """The non-empty pixel crops of boxes."""
    h, w = image.shape[:2]
    out = []
    for box in boxes:
        x0, top, x1, bottom = (int(round(v)) for v in box)
        crop = image[max(0, top) : min(h, bottom), max(0, x0) : min(w, x1)]
        if crop.shape[0] >= 2 and crop.shape[1] >= 2:
            out.append(crop)
    return out
