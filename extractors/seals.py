"""Official seals (公章) on a page image: found by colour where the scan has colour and by
shape where it is grey.

A seal is a ring (circle or oval) with the organisation's name along its inside and, usually,
a five-pointed star in the middle. The detector works on the page shrunk to about 70 dpi:
- ink maps: one mask per stamp colour (red, purple, blue: hue and chroma) and one of the
  dark, colourless ink (for grey scans and for seals photocopied in black and white);
- candidates: Hough circles on each map, and for the colour maps also ellipses fitted to
  blobs (oval seals);
- each candidate is refitted to the outer edge of its ring (an ellipse, so ovals come out
  right) and judged in the seal's own polar frame: how much of the ring is inked, how much
  less ink lies just outside it, the text band inside it, the star in the middle.
A red heading, a red logo or a red frame line is not a seal: none has a thin closed ring
with text inside it at a seal's size.

Everything here is pure: an RGB array in, SealHit values out, in pixels of the image given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom in pixels

# The page is examined at dpi / k for the whole k nearest to dpi / WORK_DPI.
WORK_DPI = 72.0
# Official seals: 38-45 mm across for units, 40 x 30 mm ovals; copies are often reduced.
MIN_RADIUS_MM = 12.0
MAX_RADIUS_MM = 30.0
# At least this share of the ring must lie on the page (a seal half off the edge counts).
MIN_VISIBLE = 0.35
# Hough candidates examined per ink map, best accumulator first.
MAX_CANDIDATES = 14
# Colour families by OpenCV hue (degrees / 2) and the least chroma (max - min of RGB)
# that counts as coloured ink; paper tints and JPEG noise stay under it.
HUES: dict[str, tuple[tuple[int, int], ...]] = {
    "red": ((0, 12), (166, 180)),
    "purple": ((130, 166),),
    "blue": ((95, 130),),
}
MIN_CHROMA = 30
# A seal's colour needs this many work pixels of it on the page to be looked at.
MIN_COLOUR_PIXELS = 150
# Confidence at and above which a candidate is reported as a seal; weaker ones are kept as
# doubtful candidates so that a check can tell "nothing there" from "not sure".
SEAL_AT = 0.5
DOUBT_AT = 0.15


@dataclass(frozen=True, slots=True)
class SealHit:
    """One seal (or a doubtful seal-like candidate) in pixels of the image examined.

    The outline is the ellipse centred (cx, cy) with semi-axes a (along `angle` degrees from
    the x axis, clockwise as the image shows it) and b; a circle has a == b.
    """

    cx: float
    cy: float
    a: float
    b: float
    angle: float
    shape: str  # "circle" / "oval"
    colour: str  # "red" / "purple" / "blue" / "grey"
    confidence: float
    visible: float  # share of the outline inside the image
    box: Rect  # the outline's bounding box, clipped to the image
    ring: float = 0.0  # share of the ring inked
    text_band: float = 0.0  # share of the angles with ink in the text band
    star: float = 0.0  # ink share of the middle

    @property
    def radius(self) -> float:
        return (self.a + self.b) / 2


@dataclass(frozen=True, slots=True)
class InkMaps:
    """The page at work resolution: scale (work px per image px) and one 0/1 mask per ink."""

    scale: float
    masks: dict[str, np.ndarray]  # colour name or "grey" -> uint8 0/255
    shape: tuple[int, int]  # image height, width in image pixels


# --- ink ---------------------------------------------------------------------------------


def work_factor(dpi: float) -> int:
    """The whole shrink factor that brings dpi nearest to WORK_DPI (at least 1)."""
    return max(1, round(dpi / WORK_DPI))


def ink_maps(rgb: np.ndarray, dpi: float) -> InkMaps:
    """Masks of coloured and of dark colourless ink on the page shrunk by work_factor."""
    k = work_factor(dpi)
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA) if k > 1 else rgb
    r, g, b = small[:, :, 0], small[:, :, 1], small[:, :, 2]
    hi = cv2.max(cv2.max(r, g), b)
    lo = cv2.min(cv2.min(r, g), b)
    chroma = cv2.subtract(hi, lo)
    coloured = chroma >= MIN_CHROMA
    hue = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)[:, :, 0]
    masks: dict[str, np.ndarray] = {}
    for name, ranges in HUES.items():
        m = np.zeros(hue.shape, dtype=bool)
        for lo_h, hi_h in ranges:
            m |= (hue >= lo_h) & (hue < hi_h)
        m &= coloured
        if int(m.sum()) >= MIN_COLOUR_PIXELS:
            masks[name] = m.astype(np.uint8) * 255
    lum = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    paper = float(np.percentile(lum[:: 4, :: 4], 90))
    # Dark enough to be ink and not coloured: black text, and seals in a grey scan (a red
    # seal photocopied in grey is a mid grey, a faint one a light grey: the margin is small).
    grey = (lum < paper - max(18.0, 0.09 * paper)) & ~coloured
    masks["grey"] = grey.astype(np.uint8) * 255
    return InkMaps(1.0 / k, masks, (h, w))


# --- candidates --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ellipse:
    cx: float
    cy: float
    a: float
    b: float
    angle: float  # degrees


def _hough(mask: np.ndarray, r_min: float, r_max: float, grey: bool) -> list[_Ellipse]:
    blur = cv2.GaussianBlur(mask, (0, 0), 1.2)
    circles = cv2.HoughCircles(
        blur,
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=max(4.0, r_min * 0.5),
        param1=100,
        param2=max(10.0, r_min * (0.55 if grey else 0.45)),
        minRadius=int(r_min),
        maxRadius=int(math.ceil(r_max)),
    )
    if circles is None:
        return []
    return [_Ellipse(float(x), float(y), float(r), float(r), 0.0) for x, y, r in circles[0][:MAX_CANDIDATES]]


def _blob_ellipses(mask: np.ndarray, r_min: float, r_max: float) -> list[_Ellipse]:
    """Ellipses fitted to the outlines of colour blobs of a seal's size (oval seals, which a
    circle transform finds poorly)."""
    k = max(3, int(r_min * 0.12) | 1)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = []
    for c in contours:
        if len(c) < 20:
            continue
        x, y, w, h = cv2.boundingRect(c)
        if not (1.6 * r_min <= max(w, h) <= 2.2 * r_max and min(w, h) >= 1.2 * r_min):
            continue
        hull = cv2.convexHull(c)
        if len(hull) < 5:
            continue
        (ex, ey), (d1, d2), ang = cv2.fitEllipse(hull)
        out.append(_Ellipse(ex, ey, d1 / 2, d2 / 2, ang))
    return out


# --- the seal's own frame ----------------------------------------------------------------

_ANGLES = 180  # polar samples around the ring


def _polar(mask: np.ndarray, e: _Ellipse, reach: float = 1.35) -> tuple[np.ndarray, np.ndarray]:
    """(samples, inside): the mask read along rays from the centre, the ellipse mapped to
    the unit circle; samples[i, j] is the ink at angle i and radius j / 100 of the outline,
    radii up to `reach`; inside says whether the sample lies on the page."""
    h, w = mask.shape
    n_r = int(100 * reach)
    t = np.linspace(0.0, 2 * math.pi, _ANGLES, endpoint=False)
    u = np.arange(n_r) / 100.0
    ca, sa = math.cos(math.radians(e.angle)), math.sin(math.radians(e.angle))
    # point on the normalised circle -> image: x = c + u (a cos t * axis_a + b sin t * axis_b)
    ex = (e.a * np.cos(t))[:, None] * u[None, :]
    ey = (e.b * np.sin(t))[:, None] * u[None, :]
    xs = (e.cx + ex * ca - ey * sa).astype(np.float32)
    ys = (e.cy + ex * sa + ey * ca).astype(np.float32)
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    samples = cv2.remap(mask, xs, ys, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return samples > 127, inside


def _refit(mask: np.ndarray, e: _Ellipse) -> _Ellipse | None:
    """The ellipse through the outer edge of the ring near e, or None if there is no ring."""
    lo, hi = 78, 125
    t = np.linspace(0.0, 2 * math.pi, _ANGLES, endpoint=False)
    for _ in range(2):
        ink, inside = _polar(mask, e, 1.3)
        band = ink[:, lo:hi]
        n = band.shape[1]
        # per angle: the ink sample nearest the current outline ...
        pos = np.where(band, np.arange(n)[None, :], 10_000)
        j0 = np.argmin(np.abs(pos - (100 - lo)), axis=1)
        ok = band[np.arange(_ANGLES), j0] & inside[:, min(hi - 1, 100)]
        # ... and the outer end of the run of ink it belongs to
        run_end = np.tile(np.arange(n), (_ANGLES, 1))
        for j in range(n - 2, -1, -1):
            run_end[:, j] = np.where(band[:, j] & band[:, j + 1], run_end[:, j + 1], j)
        j1 = run_end[np.arange(_ANGLES), j0]
        if ok.sum() < 0.3 * _ANGLES:
            return None
        u = (j1[ok] + lo + 0.5) / 100.0
        tt = t[ok]
        ex, ey = e.a * u * np.cos(tt), e.b * u * np.sin(tt)
        ca, sa = math.cos(math.radians(e.angle)), math.sin(math.radians(e.angle))
        pts = np.stack([e.cx + ex * ca - ey * sa, e.cy + ex * sa + ey * ca], axis=1).astype(np.float32)
        fitted = _fit_trimmed(pts, e)
        if fitted is None:
            return None
        e = fitted
    return e


def _ring_coverage(mask: np.ndarray, e: _Ellipse) -> float:
    """Share of the visible angles with ink within 20 % of the outline: a quick first test."""
    ink, inside = _polar(mask, e, 1.25)
    vis = inside[:, 100]
    if vis.mean() < MIN_VISIBLE:
        return 0.0
    return float(ink[vis, 80:121].any(axis=1).mean())


def _fit_trimmed(pts: np.ndarray, prior: _Ellipse) -> _Ellipse | None:
    """An ellipse fitted to pts, refitted without the points far from the first fit."""
    e = prior
    for _ in range(2):
        if len(pts) < 12:
            return None
        (x, y), (d1, d2), ang = cv2.fitEllipse(pts)
        if not (np.isfinite([x, y, d1, d2]).all()) or min(d1, d2) <= 2:
            return None
        e = _Ellipse(float(x), float(y), d1 / 2, d2 / 2, float(ang))
        # radial distance of each point to the ellipse, in units of its radius
        ca, sa = math.cos(math.radians(ang)), math.sin(math.radians(ang))
        dx, dy = pts[:, 0] - x, pts[:, 1] - y
        px_, py_ = dx * ca + dy * sa, -dx * sa + dy * ca
        rr = np.sqrt((px_ / e.a) ** 2 + (py_ / e.b) ** 2)
        keep = np.abs(rr - 1.0) < 0.05
        if keep.all():
            break
        pts = pts[keep]
    if e.a > 1.6 * prior.a + 4 or e.b > 1.6 * prior.b + 4:
        return None  # ran off to something bigger than what was found
    return e


@dataclass(frozen=True, slots=True)
class _Features:
    ring: float  # share of the (visible) angles with ink in the ring band
    ring_fill: float  # ink share of the ring band
    outside: float  # ink share just outside the ring
    inside: float  # ink share just inside the ring band (text tops)
    band: float  # share of the angles with ink in the text band
    band_fill: float  # ink share of the text band
    core: float  # ink share of the middle (the star)
    visible: float  # share of the outline on the page


def _features(mask: np.ndarray, e: _Ellipse) -> _Features:
    ink, inside = _polar(mask, e, 1.35)
    vis = inside[:, 100]
    visible = float(vis.mean())
    rows = vis if vis.any() else np.ones_like(vis)
    ring_band = ink[rows, 88:103]
    out_band = ink[rows, 110:132]
    in_band = ink[rows, 80:88]
    text_band = ink[rows, 48:86]
    core_ok = inside[:, :28].all()
    return _Features(
        ring=float(ring_band.any(axis=1).mean()),
        ring_fill=float(ring_band.mean()),
        outside=float(out_band.mean()),
        inside=float(in_band.mean()),
        band=float(text_band.any(axis=1).mean()),
        band_fill=float(text_band.mean()),
        core=float(ink[:, :28].mean()) if core_ok else -1.0,
        visible=visible,
    )


def seal_score(f: _Features) -> float:
    """0..1: how much the features look like a seal's (hand-set from generated pages)."""
    if f.visible < MIN_VISIBLE:
        return 0.0
    contrast = f.ring_fill - f.outside
    if f.band_fill > 0.55 or f.ring < 0.45 or contrast < 0.08:
        return 0.0  # a filled disc (a logo, a photo) or no ring at all
    s = 5.0 * (f.ring - 0.72) + 5.0 * (contrast - 0.25) + 2.0 * (min(f.band, 0.7) - 0.4)
    if f.core > 0.08:
        s += 0.8  # the star
    return float(1.0 / (1.0 + math.exp(-s)))


# --- the detector ------------------------------------------------------------------------


def find_seals(rgb: np.ndarray, dpi: float) -> list[SealHit]:
    """Seals on an RGB page image (H x W x 3, uint8) scanned at dpi, best first; candidates
    scoring at least DOUBT_AT are included, those under SEAL_AT being doubtful."""
    maps = ink_maps(rgb, dpi)
    px_per_mm = dpi * maps.scale / 25.4
    r_min, r_max = MIN_RADIUS_MM * px_per_mm, MAX_RADIUS_MM * px_per_mm
    hits: list[SealHit] = []
    for colour, mask in maps.masks.items():
        grey = colour == "grey"
        cands = _hough(mask, r_min, r_max, grey)
        if not grey:
            cands += _blob_ellipses(mask, r_min, r_max)
        for cand in cands:
            hit = _judge(mask, cand, colour, maps, r_min, r_max)
            if hit is not None:
                hits.append(hit)
    return _suppress(hits)


def _judge(mask: np.ndarray, cand: _Ellipse, colour: str, maps: InkMaps, r_min: float,
           r_max: float) -> SealHit | None:
    if _ring_coverage(mask, cand) < 0.6:
        return None
    e = _refit(mask, cand)
    if e is None:
        return None
    a, b = max(e.a, e.b), min(e.a, e.b)
    if not (r_min * 0.9 <= b and a <= r_max * 1.1) or a > 1.9 * b:
        return None
    f = _features(mask, e)
    score = seal_score(f)
    if score < DOUBT_AT:
        return None
    inv = 1.0 / maps.scale
    angle = e.angle if e.a >= e.b else e.angle + 90.0
    h, w = maps.shape
    cx, cy = e.cx * inv, e.cy * inv
    # the axis-aligned box of the rotated ellipse
    t = math.radians(angle)
    hx = math.sqrt((a * math.cos(t)) ** 2 + (b * math.sin(t)) ** 2) * inv
    hy = math.sqrt((a * math.sin(t)) ** 2 + (b * math.cos(t)) ** 2) * inv
    box = (max(0.0, cx - hx), max(0.0, cy - hy), min(float(w), cx + hx), min(float(h), cy + hy))
    return SealHit(
        cx=cx,
        cy=cy,
        a=a * inv,
        b=b * inv,
        angle=angle % 180.0,
        shape="circle" if a - b <= 0.08 * a else "oval",
        colour=colour,
        confidence=round(score, 3),
        visible=round(f.visible, 3),
        box=box,
        ring=round(f.ring, 3),
        text_band=round(f.band, 3),
        star=round(f.core, 3),
    )


def _suppress(hits: list[SealHit]) -> list[SealHit]:
    """One hit per seal: of hits whose centres lie within half a radius, the most confident
    (a colour hit before a grey one of the same seal)."""
    ordered = sorted(hits, key=lambda h: (h.colour != "grey", h.confidence), reverse=True)
    kept: list[SealHit] = []
    for h in ordered:
        if all(math.hypot(h.cx - k.cx, h.cy - k.cy) > 0.5 * min(h.radius, k.radius) for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: -h.confidence)
