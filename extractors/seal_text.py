"""The organisation's name along a seal's arc, read by unrolling the ring.

As PaddleX's seal recognition does: the ring is unrolled about the fitted centre (a polar
transform, the oval mapped to a circle first) into a straight strip with the outer edge on
top, so that the characters stand upright and run left to right; the strip is cut where the
arc text has its gap (the bottom of the seal, whatever way the seal was turned) and OCR-ed as
one line. A coloured seal is read from its own colour only, so text printed under it does not
mix in; a grey seal is read as it is.

Matching the name read against the form's organisations is in extractors.orgs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.ocr import OcrEngine
from pipeline.pages import channel_max, channel_min

from .orgs import edit_distance
from .seals import HUES, MIN_CHROMA, SealHit
from .textnorm import normalise

# The text band: from just inside the ring to about half the radius (the star and the line
# at the bottom lie further in).
BAND_OUTER = 0.97
BAND_INNER = 0.52
# Radius (share of the outline) at which the strip keeps lengths true.
TRUE_LENGTH_AT = 0.76
# The rows where the gap below the name is looked for.
GAP_OUTER, GAP_INNER = 0.9, 0.74
MARGIN_PX = 16
# Two readings of a strip agree when at most this share of characters differs.
AGREE = 0.9
# Blue and purple stamp ink is bright (its brightest channel about 190); a blue ballpoint's is
# darker (about 110) and is left out of a blue seal's strip. (Red seals keep their darkest
# ink: where it lies over black text, leaving it out cost characters.)
STAMP_MIN_VALUE = 118


@dataclass(frozen=True, slots=True)
class SealText:
    text: str  # what was read, normalised, in reading order
    confidence: float  # the OCR's, weighted by characters; 0 when nothing was read


def seal_ink(crop: np.ndarray, colour: str) -> np.ndarray:
    """A grey image (dark ink on white) of the seal's own ink in an RGB crop: for a coloured
    seal, its darkness only where its colour is, so that black text under it vanishes."""
    if colour not in HUES:
        return cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    hi = channel_max(crop).astype(np.int16)
    lo = channel_min(crop).astype(np.int16)
    chroma = hi - lo
    hue = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)[:, :, 0]
    family = np.zeros(hue.shape, dtype=bool)
    for lo_h, hi_h in HUES[colour]:
        family |= (hue >= lo_h) & (hue < hi_h)
    if colour != "red":
        family &= hi >= STAMP_MIN_VALUE  # not the pen
    inked = family & (chroma >= MIN_CHROMA // 2)
    # JPEG keeps colour at half the resolution of brightness, so the seal's strokes are drawn
    # from the brightness (sharp), taken only where the seal's colour is.
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    paper = float(np.percentile(grey, 90))
    strength = np.where(inked, np.clip(paper - grey, 0, 255), 0).astype(np.float32)
    # a faint stamp is read as well as a strong one: its strongest ink becomes black
    top = float(np.percentile(strength[inked], 95)) if inked.sum() > 50 else 0.0
    strength = np.clip(strength * (255.0 / max(top, 40.0)), 0, 255)
    return (255 - strength).astype(np.uint8)


def unroll(ink: np.ndarray, hit: SealHit, origin: tuple[int, int]) -> np.ndarray:
    """The full ring of a seal as a strip (height: outer edge on top down to BAND_INNER;
    width: once round, clockwise from the seal's own x axis); ink is a crop whose top-left
    pixel is at origin in the page."""
    r_mean = hit.radius
    n_t = max(64, int(2 * math.pi * TRUE_LENGTH_AT * r_mean))
    n_u = max(16, int((BAND_OUTER - BAND_INNER) * r_mean))
    t = np.linspace(0.0, 2 * math.pi, n_t, endpoint=False)[None, :]
    u = np.linspace(BAND_OUTER, BAND_INNER, n_u)[:, None]
    ca, sa = math.cos(math.radians(hit.angle)), math.sin(math.radians(hit.angle))
    ex, ey = hit.a * u * np.cos(t), hit.b * u * np.sin(t)
    xs = (hit.cx - origin[0] + ex * ca - ey * sa).astype(np.float32)
    ys = (hit.cy - origin[1] + ex * sa + ey * ca).astype(np.float32)
    return cv2.remap(ink, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def text_arc(strip: np.ndarray) -> tuple[int, int]:
    """(start, length) in columns of the arc that holds the text: everything but the widest
    gap without ink (the bottom of the seal). The ring's own row at the top is left out."""
    n_u = strip.shape[0]
    # the upper part of the characters only: the line at the bottom of some seals (专用章)
    # reaches that far out only at its two ends
    rows = [int((BAND_OUTER - u) / (BAND_OUTER - BAND_INNER) * n_u) for u in (GAP_OUTER, GAP_INNER)]
    body = strip[rows[0] : rows[1]]
    paper = float(np.percentile(strip, 90))
    ink = (body < paper - 40).sum(axis=0) > max(1, body.shape[0] // 12)
    n = len(ink)
    k = max(3, n // 60)
    inked = np.convolve(np.concatenate([ink, ink]).astype(float), np.ones(k), "same")[:n] > 0
    if inked.all() or not inked.any():
        return 0, n
    # the widest circular run of columns without ink
    doubled = np.concatenate([inked, inked])
    best_len, best_end, run = 0, 0, 0
    for i, v in enumerate(doubled):
        run = 0 if v else run + 1
        if run > best_len:
            best_len, best_end = run, i
    best_len = min(best_len, n)
    start = (best_end + 1) % n
    return start, n - best_len


def read_seal_text(rgb: np.ndarray, hit: SealHit, engine: OcrEngine, confirm: bool = False) -> SealText:
    """Unroll a seal found on an RGB page image and OCR the strip. confirm: read it a second
    way too (detection and recognition, rather than recognition of the whole strip) and
    trust the reading only as far as the two agree (OCR of seals drops and swaps characters
    with a confident face)."""
    plain, confirmed = read_seal_texts(rgb, hit, engine, confirm)
    return confirmed if confirm else plain


def read_seal_texts(rgb: np.ndarray, hit: SealHit, engine: OcrEngine, confirm: bool = True) -> tuple[SealText, SealText]:
    """(the strip's reading, that reading trusted as far as a second way of reading it
    agrees); without confirm, the first twice. Both at once: a seal's reading is made before
    it is known whether the seal certifies a copy (pipeline.pages reads seals beside the page's
    OCR)."""
    image = _strip_image(rgb, hit)
    if image is None:
        return SealText("", 0.0), SealText("", 0.0)
    read_line = getattr(engine, "read_line", None)
    if read_line is None:
        read = _read_lines(engine, image)
        return read, read
    text, conf = read_line(image)  # the strip is one line: recognition alone reads it
    first = SealText(normalise(text).replace(" ", ""), conf)
    if not confirm or not first.text:
        return first, first
    second = _read_lines(engine, image)
    agree = 1.0 - edit_distance(first.text, second.text) / max(len(first.text), len(second.text), 1)
    conf = min(first.confidence, second.confidence)
    return first, SealText(first.text, conf if agree >= AGREE else conf * agree * 0.5)


def _strip_image(rgb: np.ndarray, hit: SealHit) -> np.ndarray | None:
    """The seal's name unrolled into one line (RGB, with a white margin), or None when the
    seal is too small to unroll."""
    h, w = rgb.shape[:2]
    pad = 4
    x0, y0 = max(0, int(hit.cx - hit.a - pad)), max(0, int(hit.cy - hit.a - pad))
    x1, y1 = min(w, int(hit.cx + hit.a + pad)), min(h, int(hit.cy + hit.a + pad))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    ink = seal_ink(np.ascontiguousarray(rgb[y0:y1, x0:x1]), hit.colour)
    ring = unroll(ink, hit, (x0, y0))
    start, length = text_arc(ring)
    strip = np.roll(ring, -start, axis=1)[:, :length]
    strip = cv2.copyMakeBorder(strip, MARGIN_PX, MARGIN_PX, MARGIN_PX, MARGIN_PX, cv2.BORDER_CONSTANT, value=255)
    return cv2.cvtColor(strip, cv2.COLOR_GRAY2RGB)


def _read_lines(engine: OcrEngine, image: np.ndarray) -> SealText:
    lines = sorted(engine.read(image), key=lambda line: line.box[0])
    text = normalise("".join(line.text for line in lines)).replace(" ", "")
    n = sum(len(line.text) for line in lines)
    conf = sum(line.confidence * len(line.text) for line in lines) / n if n else 0.0
    return SealText(text, conf)
