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

import ctypes
import io
import math
import time
import unicodedata
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Iterable

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.utils import chars_to_textmap
from PIL import Image

from extractors.textnorm import normalise as normalise_text
from pipeline.model import Box, PageContent, TextLine
from pipeline.limits import page_too_complex
from pipeline.errors import PrecheckError, UnreadablePdf
from pipeline.ocr import OcrEngine, OcrEngineUnavailable, OcrLine
from pipeline.reread import read_beside_lone_labels, read_unsure_numbers_again, redetect_number_lines, reread_numbers
from pipeline.scan_image import scaled_page_image

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


def render_page_as_read(pdf_bytes: bytes, page_no: int, dpi: int) -> np.ndarray:
    """Page page_no (from 1) as read_pages renders it for OCR (an RGB array)."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        if not 1 <= page_no <= len(doc):
            raise ValueError(f"page {page_no} out of range 1..{len(doc)}")
        page = doc[page_no - 1]
        try:
            return _render_array(page, dpi, _pdfminer_pages(pdf_bytes, page_no)[page_no - 1])
        finally:
            page.close()
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


def _render_array(pdf_page: pdfium.PdfPage, dpi: float, miner_page: Any = None) -> np.ndarray:
    """np.asarray(_render(...)), the same pixels, made with one copy instead of three (pdfium
    renders the bytes in RGB order; PIL's decode, convert and asarray each copied); for a page
    that is one plain image filling it (miner_page: pdfminer's parse of it), that image scaled,
    which gives the render's pixels in a third of its time."""
    w, h = pdf_page.get_size()
    scale = render_dpi(w, h, dpi) / 72
    if miner_page is not None:
        image = scaled_page_image(pdf_page, miner_page, scale)
        if image is not None:
            return image
    bitmap = pdf_page.render(scale=scale, rev_byteorder=True)
    try:
        if bitmap.mode != "RGB":
            return np.asarray(bitmap.to_pil().convert("RGB"))
        return np.array(bitmap.to_numpy())  # a copy: pdfium frees the bitmap's memory
    finally:
        bitmap.close()


def remove_colour(rgb: np.ndarray) -> np.ndarray:
    """max(R, G, B) per pixel as a 3-channel image: red and blue stamp ink turn white, black
    text stays (research/ocr-engines.md: fixed every misreading under a seal)."""
    grey = channel_max(rgb)
    if grey.dtype == np.uint8 and grey.size:
        return cv2.merge((grey, grey, grey))
    return np.dstack((grey, grey, grey))


def channel_max(rgb: np.ndarray) -> np.ndarray:
    """rgb.max(axis=2): the same values, 10-50x faster for an H x W x 3 uint8 image or crop
    (numpy reduces over the short last axis slowly: 35 ms for an 800 x 800 crop)."""
    return _channel_reduce(rgb, cv2.max) if _cv2_rgb(rgb) else rgb.max(axis=2)


def channel_min(rgb: np.ndarray) -> np.ndarray:
    """rgb.min(axis=2), as channel_max."""
    return _channel_reduce(rgb, cv2.min) if _cv2_rgb(rgb) else rgb.min(axis=2)


def _cv2_rgb(rgb: np.ndarray) -> bool:
    return rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.size > 0


def _channel_reduce(rgb: np.ndarray, op: Any) -> np.ndarray:
    try:
        r, g, b = cv2.split(rgb)
    except cv2.error:  # a view cv2 cannot take as it is
        r, g, b = cv2.split(np.ascontiguousarray(rgb))
    out = op(op(r, g), b)
    return out.reshape(rgb.shape[:2])


_CV2_TURNS = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn(image: np.ndarray, rotation: int) -> np.ndarray:
    """The image turned `rotation` degrees clockwise."""
    k = (rotation // 90) % 4
    if k and image.dtype == np.uint8 and (image.ndim == 2 or (image.ndim == 3 and 1 < image.shape[2] <= 4)):
        return cv2.rotate(image, _CV2_TURNS[k])  # a page turned sideways: 12 ms against numpy's 36
    return np.ascontiguousarray(np.rot90(image, k=-k % 4))


# --- the page loop ---------------------------------------------------------------------


def read_pages(
    pdf_bytes: bytes, engine: OcrEngine | None, dpi: int = 300, pages: range | None = None, overlap: bool = True
) -> list[PageContent]:
    """Read the pages (numbers from 1; all when None) of a PDF, each from its text layer or
    by OCR with engine. overlap: look for seals on a second thread while a page is OCR-ed
    (off where every core already runs a worker of its own). Raises OcrEngineUnavailable if a
    page needs OCR and engine is None, UnreadablePdf when a parser fails on the file
    (pdfminer's syntax errors, pdfium's, a page count the parsers disagree on)."""
    try:
        return _read_pages(pdf_bytes, engine, dpi, pages, overlap)
    except (PrecheckError, OcrEngineUnavailable, MemoryError):
        raise
    except ValueError as exc:
        if pages is not None and any(n < 1 for n in pages):
            raise  # the caller's mistake, not the file's
        raise UnreadablePdf(f"页面无法解析（{type(exc).__name__}）") from exc
    except Exception as exc:  # noqa: BLE001 - a parser's failure on this file is the file's problem
        raise UnreadablePdf(f"页面无法解析（{type(exc).__name__}）") from exc


def _read_pages(
    pdf_bytes: bytes, engine: OcrEngine | None, dpi: int, pages: range | None, overlap: bool
) -> list[PageContent]:
    from extractors.marks import find_marks, look_for_seals  # it imports this module's geometry

    out: list[PageContent] = []
    # While a page is OCR-ed, a second thread looks for its seals and reads their names (with
    # an engine of its own: engines keep state), then opens and renders the next page and makes
    # its colourless copy for the OCR: the engine computes on one core, and OpenCV, NumPy,
    # onnxruntime and pdfium release the GIL, so these leave a page's wall time. pdfium is
    # never called from both threads at once: the main thread touches the document only after
    # the next page is ready. Without a twin engine (tesseract) the seals' names are read after
    # the page.
    side = ThreadPoolExecutor(1, thread_name_prefix="seals") if engine is not None and overlap else None
    twin = engine.twin() if side is not None and hasattr(engine, "twin") else None
    # pdfium reads the text layer and renders; pdfminer's parse of the file (no page is laid
    # out) serves only page_too_complex. pdfplumber laid every page out in Python: ~100 ms a
    # text page against ~5 ms here, for the same lines.
    doc = pdfium.PdfDocument(pdf_bytes)
    # OpenCV's own threads would take the OCR's core from it (measured: the engine 15-25%
    # slower beside a seal search on two threads, no slower beside one on one)
    cv_threads = cv2.getNumThreads()
    if side is not None:
        cv2.setNumThreads(1)
    try:
        numbers = list(_page_numbers(len(doc), pages))
        miner_pages = _pdfminer_pages(pdf_bytes, max(numbers, default=0))

        def prepare(number: int) -> _Prepared:
            return _prepare(doc, miner_pages[number - 1], number, dpi, engine)

        def timed_prepare(number: int) -> tuple[_Prepared, float]:
            t = time.perf_counter()
            return prepare(number), time.perf_counter() - t

        # a page's time is its own: its opening and rendering when done on this thread (none
        # when done beside the page before), its reading, and any wait for the other thread.
        # A scanned page followed by another has its marks found beside that one's OCR.
        ready, carry = timed_prepare(numbers[0]) if numbers else (None, 0.0)
        behind: tuple[int, _Prepared, PageContent, Any] | None = None  # marks still to find
        for i, number in enumerate(numbers):
            start = time.perf_counter()
            page, ready = ready, None
            after = numbers[i + 1] if i + 1 < len(numbers) else None
            if page.content is not None:
                content = page.content
            else:
                seen = side.submit(look_for_seals, page.image, page.dpi, twin) if side is not None else None
                ahead = side.submit(prepare, after) if side is not None and after is not None else None
                marked = side.submit(_marks_of, behind, twin) if behind is not None else None
                behind = None
                try:
                    content = read_image(page.image, engine, page.dpi, number, page.width, page.height, page.grey)
                finally:  # none is left running past its page
                    seals = seen.result() if seen is not None else None
                    ready = ahead.result() if ahead is not None else None
                    if marked is not None:
                        j, marks = marked.result()
                        out[j] = replace(out[j], marks=marks)
                if twin is not None and ready is not None and ready.content is None:
                    behind = (len(out), page, content, seals)
                else:
                    # seals and stamps need the colours, which the OCR'd copy has lost
                    content = replace(content, marks=find_marks(page.image, content, engine, page.dpi, seals))
            out.append(replace(content, seconds=time.perf_counter() - start + carry))
            carry = 0.0
            if ready is None and after is not None:
                ready, carry = timed_prepare(after)
    finally:
        if side is not None:
            side.shutdown(wait=True)
            cv2.setNumThreads(cv_threads)
        doc.close()
    return out


def _marks_of(behind: tuple[int, "_Prepared", PageContent, Any], engine: OcrEngine) -> tuple[int, tuple]:
    """(where the page is in the output, its marks), for a page whose marks are found beside
    the next page's OCR."""
    from extractors.marks import find_marks

    j, page, content, seals = behind
    return j, find_marks(page.image, content, engine, page.dpi, seals)


@dataclass
class _Prepared:
    """A page opened: read from its text layer (content), or rendered for OCR (image)."""

    content: PageContent | None
    image: np.ndarray | None = None
    grey: np.ndarray | None = None  # remove_colour(image), what the OCR reads
    dpi: float = 0.0
    width: float = 0.0  # points, displayed
    height: float = 0.0


def _prepare(doc: pdfium.PdfDocument, miner: Any, number: int, dpi: int, engine: OcrEngine | None) -> _Prepared:
    pdf_page = doc[number - 1]
    try:
        layer = _text_layer(pdf_page, miner)
        if layer is not None and layer.usable():
            return _Prepared(layer.read(number))
        if engine is None:
            raise OcrEngineUnavailable(
                f"page {number} has no usable text layer and needs OCR, but no OCR engine was given"
            )
        width, height = layer.size if layer is not None else _displayed_size(pdf_page, *_miner_frame(miner))
        image = _render_array(pdf_page, dpi, miner)
        return _Prepared(None, image, remove_colour(image), render_dpi(*pdf_page.get_size(), dpi), width, height)
    finally:
        pdf_page.close()


def _text_layer(pdf_page: pdfium.PdfPage, miner: Any) -> "PdfiumTextLayer | None":
    # a page of too many operators would cost minutes to parse: read it as a scan
    return None if page_too_complex(_MinerPage(miner)) else PdfiumTextLayer(pdf_page, *_miner_frame(miner))


def pages_to_ocr(pdf_bytes: bytes, last: int | None = None) -> list[int]:
    """The numbers (from 1, up to last) of the pages read_pages would OCR: those without a
    usable text layer."""
    doc = pdfium.PdfDocument(pdf_bytes)
    try:
        count = len(doc) if last is None else min(len(doc), last)
        miners = _pdfminer_pages(pdf_bytes, count)
        out = []
        for number in range(1, count + 1):
            page = doc[number - 1]
            try:
                layer = _text_layer(page, miners[number - 1])
                if layer is None or not layer.usable():
                    out.append(number)
            finally:
                page.close()
        return out
    finally:
        doc.close()


class _MinerPage:
    """What page_too_complex reads of a pdfplumber page: the pdfminer page object."""

    __slots__ = ("page_obj",)

    def __init__(self, page_obj: Any):
        self.page_obj = page_obj


def _pdfminer_pages(pdf_bytes: bytes, count: int) -> list[Any]:
    """pdfminer's first count page objects (parsed, not laid out), as pdfplumber.open made them."""
    from itertools import islice

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    document = PDFDocument(PDFParser(io.BytesIO(pdf_bytes)))
    found = list(islice(PDFPage.create_pages(document), count))
    if len(found) < count:
        raise ValueError(f"pdfminer finds {len(found)} pages, pdfium {count} or more")
    return found


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
    """The page's lines from its text layer, one box per character (a pdfplumber page)."""
    return _text_layer_content([c for c in page.chars if c["text"]], float(page.width), float(page.height), number)


def _text_layer_content(chars: list[dict], width: float, height: float, number: int) -> PageContent:
    rotation = text_rotation(chars)
    if rotation:
        chars = [_turned_char(c, rotation, width, height) for c in chars]
    lines = []
    for text, boxes in _textmap_lines(chars_to_textmap(chars).tuples) if chars else ():
        if rotation:
            boxes = [unrotate_box(b, rotation, width, height) for b in boxes]
        char_boxes = tuple(Box(*b) for b in boxes)
        union = Box(min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                    max(b[3] for b in boxes))  # boxes_union, without a Box per step
        lines.append(TextLine(text, union, 1.0, number, "text_layer", char_boxes))
    return PageContent(number, width, height, True, None, rotation, tuple(lines))


class PdfiumTextLayer:
    """A page's text layer read by pdfium, as the chars pdfplumber would give (the keys
    chars_to_textmap and text_rotation use): boxes in points, top-left origin, displayed
    frame, from pdfium's loose char boxes (advance width by font ascent/descent, as pdfminer's
    are); matrix the text direction in the displayed frame; the characters pdfium generates
    (spaces and line ends it infers) left out, as pdfminer has none."""

    def __init__(self, pdf_page: pdfium.PdfPage, mediabox: Any = None, rotation: int | None = None):
        """mediabox and rotation: the page's /MediaBox and /Rotate as pdfminer parsed them
        (the exact numbers pdfplumber used; pdfium's are single precision); pdfium's when None."""
        self.page = pdf_page
        self.rotation = int(pdf_page.get_rotation() if rotation is None else rotation) % 360
        x0, y0, x1, y1 = (float(v) for v in (pdf_page.get_mediabox() if mediabox is None else mediabox))
        self._mb = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        w, h = self._mb[2] - self._mb[0], self._mb[3] - self._mb[1]
        self._unrotated = (w, h)
        self.size = (float(h), float(w)) if self.rotation in (90, 270) else (float(w), float(h))
        self.chars = self._read_chars()

    def usable(self) -> bool:
        """usable_text_layer for this page."""
        readable = sum(1 for c in self.chars if _readable(c["text"]))
        if readable < TEXT_LAYER_MIN_CHARS:
            return False  # no need to look at the images
        return usable_text_layer(readable, self.image_coverage())

    def read(self, number: int) -> PageContent:
        """read_text_layer for this page."""
        return _text_layer_content([c for c in self.chars if c["text"]], *self.size, number)

    def _read_chars(self) -> list[dict]:
        raw = pdfium_c
        textpage = self.page.get_textpage()
        try:
            tp = textpage.raw
            n = raw.FPDFText_CountChars(tp)
            if n <= 0:
                return []
            units = _text_units(tp, n)
            is_generated, map_error = raw.FPDFText_IsGenerated, raw.FPDFText_HasUnicodeMapError
            loose_box, get_matrix, font_size = raw.FPDFText_GetLooseCharBox, raw.FPDFText_GetMatrix, raw.FPDFText_GetFontSize
            rect, m = raw.FS_RECTF(), raw.FS_MATRIX()
            mx0, _, _, my1 = self._mb
            w, h = self._unrotated
            r = self.rotation
            hypot = math.hypot
            chars: list[dict] = []
            skip = False
            for i in range(n):
                if skip:
                    skip = False
                    continue
                code = units[i] if units is not None else raw.FPDFText_GetUnicode(tp, i)
                # pdfium's generated characters (the spaces and line ends it infers) are
                # whitespace; pdfminer has none of them
                if code in (0x20, 0x0D, 0x0A) and is_generated(tp, i) == 1:
                    continue
                if 0xD800 <= code < 0xDC00 and i + 1 < n:  # a character past the BMP, in two
                    low = units[i + 1] if units is not None else raw.FPDFText_GetUnicode(tp, i + 1)
                    if 0xDC00 <= low < 0xE000:
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        skip = True
                if code == 0 or 0xD800 <= code < 0xE000 or map_error(tp, i) == 1:
                    text = "\ufffd"  # no ToUnicode map (pdfminer's "(cid:n)"): unreadable
                else:
                    text = chr(code)
                if not loose_box(tp, i, rect):
                    continue
                # user space (y up) -> top-left origin -> displayed frame (rotate_box)
                bx0, bx1 = rect.left - mx0, rect.right - mx0
                if bx0 > bx1:
                    bx0, bx1 = bx1, bx0
                bt, bb = my1 - rect.top, my1 - rect.bottom
                if bt > bb:
                    bt, bb = bb, bt
                if r == 0:
                    x0, top, x1, bottom = bx0, bt, bx1, bb
                else:
                    x0, top, x1, bottom = rotate_box((bx0, bt, bx1, bb), r, w, h)
                if get_matrix(tp, i, m):
                    a, b = _turn_direction(m.a, m.b, r)
                    c, d = _turn_direction(m.c, m.d, r)
                else:
                    a, b, c, d = 1.0, 0.0, 0.0, 1.0
                # pdfium's loose box runs from the font's descent to its ascent; pdfminer's
                # (hence pdfplumber's, which the rest was tuned on) from the descent one em
                # up: keep the descent edge, measure one em from it.
                em = font_size(tp, i) * hypot(c, d)
                if abs(a) >= abs(b):
                    if a >= 0:
                        top = bottom - em
                    else:
                        bottom = top + em
                elif b > 0:  # runs up the page: the glyphs' tops point left
                    x0 = x1 - em
                else:
                    x1 = x0 + em
                chars.append({
                    "text": text, "x0": x0, "top": top, "x1": x1, "bottom": bottom, "doctop": top,
                    "upright": 0 < a * d and b * c <= 0, "matrix": (a, b, c, d, 0.0, 0.0),
                })
            return chars
        finally:
            textpage.close()

    def image_coverage(self) -> float:
        """image_coverage: share of the page's area under images, those inside form
        XObjects included (their bounds are in the form's space, mapped to the page's)."""
        mx0, my0, mx1, my1 = self._mb
        area = 0.0
        for left, bottom, right, top in _image_bounds(self.page.raw, None, (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), 0):
            w = min(right, mx1) - max(left, mx0)
            h = min(top, my1) - max(bottom, my0)
            if w > 0 and h > 0:
                area += w * h
        page_area = (mx1 - mx0) * (my1 - my0)
        return min(1.0, area / page_area) if page_area > 0 else 0.0


def _turn_direction(a: float, b: float, rotation: int) -> tuple[float, float]:
    """A direction in user space (y up) turned with the page as displayed (clockwise)."""
    if rotation == 90:
        return b, -a
    if rotation == 180:
        return -a, -b
    if rotation == 270:
        return -b, a
    return a, b


def _text_units(textpage: Any, n: int) -> list[int] | None:
    """The UTF-16 code unit of each of a text page's n characters, in one call; None when
    they do not map one to one (then each is asked for on its own)."""
    buffer = (ctypes.c_ushort * (n + 1))()
    written = pdfium_c.FPDFText_GetText(textpage, 0, n, buffer)
    if written != n + 1:
        return None
    return list(buffer)[:n]


# Form XObjects nested deeper than this are not searched for images (pdfminer's own limit
# is the recursion; pypdfium2's get_objects stops at 15).
_MAX_FORM_DEPTH = 15

_Matrix = tuple[float, float, float, float, float, float]


def _apply(m: _Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    """inner then outer (PDF row-vector convention: inner x outer)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _image_bounds(page: Any, form: Any, to_page: _Matrix, depth: int) -> Iterable[Rect]:
    """(left, bottom, right, top) in page space of every image object on a page or in a form."""
    raw = pdfium_c
    count = raw.FPDFFormObj_CountObjects(form) if form is not None else raw.FPDFPage_CountObjects(page)
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for i in range(max(count, 0)):
        obj = raw.FPDFFormObj_GetObject(form, i) if form is not None else raw.FPDFPage_GetObject(page, i)
        if not obj:
            continue
        kind = raw.FPDFPageObj_GetType(obj)
        if kind == raw.FPDF_PAGEOBJ_IMAGE:
            if raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
                corners = [_apply(to_page, x, y) for x in (left.value, right.value) for y in (bottom.value, top.value)]
                xs, ys = [p[0] for p in corners], [p[1] for p in corners]
                yield (min(xs), min(ys), max(xs), max(ys))
        elif kind == raw.FPDF_PAGEOBJ_FORM and depth < _MAX_FORM_DEPTH:
            m = raw.FS_MATRIX()
            inner = (m.a, m.b, m.c, m.d, m.e, m.f) if raw.FPDFPageObj_GetMatrix(obj, m) else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
            yield from _image_bounds(page, obj, _compose(inner, to_page), depth + 1)


def _displayed_size(pdf_page: pdfium.PdfPage, mediabox: Any = None, rotation: int | None = None) -> tuple[float, float]:
    """Width and height in points of the page as displayed (the MediaBox, /Rotate applied)."""
    x0, y0, x1, y1 = (float(v) for v in (pdf_page.get_mediabox() if mediabox is None else mediabox))
    w, h = abs(x1 - x0), abs(y1 - y0)
    r = pdf_page.get_rotation() if rotation is None else rotation
    return (float(h), float(w)) if int(r) % 360 in (90, 270) else (float(w), float(h))


def _miner_frame(miner_page: Any) -> tuple[Any, int | None]:
    """(MediaBox, Rotate) of a pdfminer page when they are four numbers and a multiple of 90
    degrees, as pdfplumber read them; else (None, None): pdfium's are used."""
    box, rotate = getattr(miner_page, "mediabox", None), getattr(miner_page, "rotate", None)
    try:
        box = [float(v) for v in box] if box is not None else None
    except (TypeError, ValueError):
        box = None
    if box is None or len(box) != 4 or box[0] == box[2] or box[1] == box[3]:
        box = None
    if not isinstance(rotate, int) or rotate % 90:
        rotate = None
    return box, rotate


def text_rotation(chars: list[dict]) -> int:
    """Degrees clockwise the displayed page must be turned for most of its text to read left
    to right: 0 normally, 270 for a portrait page shown with /Rotate 90, and so on."""
    directions = Counter(c.get("matrix", (1, 0))[:2] for c in chars)  # a page has few
    votes: Counter[int] = Counter()
    for (a, b), count in directions.items():
        if a or b:
            # (a, b) is the text direction in PDF space (y up); the text is turned this
            # many degrees clockwise, and turning the page back undoes it.
            turned_cw = round(-math.degrees(math.atan2(b, a)) / 90) % 4 * 90
            votes[(360 - turned_cw) % 360] += count
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
    image: np.ndarray, engine: OcrEngine, dpi: int, number: int, width: float, height: float,
    grey: np.ndarray | None = None,
) -> PageContent:
    """OCR a rendered page image (RGB, displayed frame) into a PageContent in points; grey:
    remove_colour(image), when already made."""
    grey = remove_colour(image) if grey is None else grey
    rotation, ocr_lines = read_upright(grey, engine)
    upright = turn(grey, rotation) if rotation else grey
    ocr_lines = redetect_number_lines(upright, reread_numbers(upright, ocr_lines, engine), engine)
    ocr_lines = read_unsure_numbers_again(upright, ocr_lines, engine)
    ocr_lines = read_beside_lone_labels(upright, ocr_lines, engine)
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
    return TextLine(line.text, box, line.confidence, number, source, char_boxes, line.second, line.second_confidence)


def read_upright(image: np.ndarray, engine: OcrEngine) -> tuple[int, list[OcrLine]]:
    """Read an image whatever way up it was scanned: (degrees it was turned clockwise,
    lines in the turned image)."""
    classify = getattr(engine, "classify_orientation", None)
    if classify is not None and hasattr(engine, "detect") and hasattr(engine, "read_detected"):
        return _read_upright_once(image, engine, classify)
    lines = engine.read(image)
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


def _read_upright_once(image: np.ndarray, engine: Any, classify: Any) -> tuple[int, list[OcrLine]]:
    """read_upright with one detection per page: the turn is decided from the detected
    line boxes (tall boxes: sideways; the line classifier tells which way, and whether the
    page is upside down), then the lines are cropped the right way up and read, never the
    whole turned page detected again."""
    detection = engine.detect(image)
    boxes = list(detection.boxes)
    h, w = image.shape[:2]
    rotation = 0
    if boxes_sideways(boxes):
        rotation = _sideways_turn_of_boxes(image, boxes, classify)
    classified = None
    if boxes:
        turned = [rotate_box(b, rotation, w, h) for b in boxes]
        widest = sorted(range(len(boxes)), key=lambda i: _width(turned[i]), reverse=True)[:ORIENTATION_CROPS]
        if rotation == 0 and hasattr(engine, "classify_detected"):
            # the verdict on every line, which reading the page upright needs anyway, gives
            # the widest lines' votes too (one classifier pass instead of two)
            classified = engine.classify_detected(detection)
            labels = engine.classified_labels(classified)
            upside_down = _mostly_180([(labels[i], 1.0) for i in widest])
        else:
            upside_down = _mostly_180(classify([turn(c, rotation) for c in _crops(image, [boxes[i] for i in widest])]))
        if upside_down:
            rotation, classified = (rotation + 180) % 360, None
    return rotation, engine.read_detected(detection, rotation, classified)


def looks_sideways(lines: list[OcrLine]) -> bool:
    """Most elongated boxes are tall: the text runs up or down the page."""
    return boxes_sideways([line.box for line in lines])


def boxes_sideways(boxes: list[Rect]) -> bool:
    """looks_sideways for line boxes."""
    tall = sum(1 for box in boxes if _height(box) > TALL_RATIO * _width(box))
    wide = sum(1 for box in boxes if _width(box) > TALL_RATIO * _height(box))
    return tall >= MIN_TALL_BOXES and tall > wide


def _width(box: Rect) -> float:
    return box[2] - box[0]


def _height(box: Rect) -> float:
    return box[3] - box[1]


def _sideways_turn(image: np.ndarray, lines: list[OcrLine], classify: Any) -> int:
    """90 or 270: turn the tall line crops 90° clockwise and ask whether they are upside down."""
    return _sideways_turn_of_boxes(image, [line.box for line in lines], classify)


def _sideways_turn_of_boxes(image: np.ndarray, boxes: list[Rect], classify: Any) -> int:
    """_sideways_turn for line boxes."""
    tall = [box for box in boxes if _height(box) > TALL_RATIO * _width(box)]
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
