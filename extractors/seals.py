"""Official seals (公章) on a page image: found by colour where the scan has colour and by
shape where it is grey.

A seal is a ring (circle or oval) with the organisation's name along its inside and, usually,
a five-pointed star in the middle. The detector works on the page shrunk to about 70 dpi:
- ink maps: one mask per stamp colour (red, purple, blue: hue and chroma) and one of the
  dark, colourless ink (for grey scans and for seals photocopied in black and white);
- candidates: Hough circles on each map, and for the colour maps also ellipses fitted to
  blobs (oval seals), for the grey map circles round blobs shaped like a seal's star (an oval
  seal among grey print);
- each candidate is refitted to the outer edge of its ring (an ellipse, so ovals come out
  right) and judged in the seal's own polar frame: how much of the ring is inked, how much
  less ink lies just outside it, the text band inside it, the star in the middle.
A red heading, a red logo or a red frame line is not a seal: none has a thin closed ring
with text inside it at a seal's size.

Everything here is pure: an RGB array in, SealHit values out, in pixels of the image given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

Rect = tuple[float, float, float, float]  # x0, top, x1, bottom in pixels

# The page is examined at dpi / k for the whole k nearest to dpi / WORK_DPI.
WORK_DPI = 72.0
# Official seals: 38-45 mm across for units, 40 x 30 mm ovals; copies are often reduced.
MIN_RADIUS_MM = 13.0
MAX_RADIUS_MM = 30.0
# At least this share of the ring must lie on the page (a seal half off the edge counts).
MIN_VISIBLE = 0.35
# A seal's centre may lie this share of the largest radius off the page.
OFF_PAGE = 0.5
# A candidate circle with ink near less of its outline than this is not refitted (an oval
# seal's best circle can cover as little as a third of it).
RING_PREFILTER = 0.3
# A candidate with ink near at least this much of its outline is also tried as a circle,
# where the ellipse fitted to it ran off.
CIRCLE_REFIT_AT = 0.8
# A candidate with less of its outline on the page than this is also tried as an upright
# circle or oval (UPRIGHT_SHAPES: width over height), its visible arc being too short to fit
# an ellipse to.
PARTLY_OFF = 0.7
UPRIGHT_SHAPES = (1.0, 4 / 3, 3 / 4)
# Hough candidates examined per ink map, best accumulator first.
MAX_CANDIDATES = 14
# A seal's star spans about this share of its radius from its centre to a point (half its
# width), fills this share of its convex hull, and at most MAX_STARS are looked round.
STAR_OF_RADIUS = (0.15, 0.45)
STAR_SOLIDITY = (0.35, 0.7)
STAR_NOTCH = 0.2  # a notch's depth, as a share of half the star's width
MAX_STARS = 6
# Colour families by OpenCV hue (degrees / 2) and the least chroma (max - min of RGB)
# that counts as coloured ink; paper tints and JPEG noise stay under it.
HUES: dict[str, tuple[tuple[int, int], ...]] = {
    "red": ((0, 12), (166, 180)),
    "purple": ((130, 166),),
    "blue": ((95, 130),),
}
MIN_CHROMA = 30
# The paper's brightness is taken as the brightest within this many mm (more than any stroke
# is wide, less than the light changes over).
PAPER_WINDOW_MM = 5.0
# Fainter ink still counts when judging a candidate: this much chroma on a bright pixel (paper
# tints stay under about 15).
FAINT_CHROMA = 20
FAINT_MIN_VALUE = 150
# ...and at least this much more coloured than the median within GROUND_WINDOW_MM.
FAINT_ABOVE_GROUND = 8
GROUND_WINDOW_MM = 10.0
# A seal's colour needs this many work pixels of it on the page to be looked at.
MIN_COLOUR_PIXELS = 150
# Confidence at and above which a candidate is reported as a seal; weaker ones are kept as
# doubtful candidates so that a check can tell "nothing there" from "not sure".
SEAL_AT = 0.5
DOUBT_AT = 0.15
# What a thick ring with a star in it and a clean outer edge scores (seal_score): a seal struck
# twice, or over a stamp's frame or the words and signature under it, whose outlines ran
# together. At 0.35 (a doubt) such certifying seals gave false SEAL_MISSING warnings on clean
# scans (3 of the 5 on two 100-submission corpora); found at 0.6, no logo or rule trap of the
# seal bench became a seal.
THICK_RING_WITH_STAR = 0.6
_KEEP_ALL = False  # tuning: keep every judged candidate


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
    edge: float = 0.0  # share of the ring with a clean outer edge
    text_band: float = 0.0  # share of the angles with ink in the text band
    star: float = 0.0  # ink share of the middle
    features: tuple[float, ...] = ()  # everything measured, for tuning

    @property
    def radius(self) -> float:
        return (self.a + self.b) / 2


@dataclass(frozen=True, slots=True)
class InkMaps:
    """The page at work resolution: scale (work px per image px) and one 0/1 mask per ink."""

    scale: float
    masks: dict[str, np.ndarray]  # colour name or "grey" -> uint8 0/255
    shape: tuple[int, int]  # image height, width in image pixels
    # per colour, a mask of fainter ink of the colour (bright pixels only), on which a
    # candidate found in `masks` is judged: a faint seal's ring is broken in the strict mask
    faint: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def has_colour(self) -> bool:
        """Whether the page shows coloured ink (a grey scan shows none; where a scan kept a red
        heading's colour it keeps a seal's)."""
        return any(name != "grey" for name in self.masks)


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
    faint: dict[str, np.ndarray] = {}
    # Faint ink is more coloured than the ground around it: a tinted ground (a desk, the back
    # of a booklet scanned beside the sheet, coloured paper) is as coloured as a faint stamp,
    # but evenly, so the median colour of a window wider than a seal's strokes is its own.
    ground_window = max(3, int(GROUND_WINDOW_MM * dpi / k / 25.4) | 1)
    ground = cv2.medianBlur(chroma, ground_window)
    pale = (chroma >= FAINT_CHROMA) & (hi >= FAINT_MIN_VALUE) & (cv2.subtract(chroma, ground) >= FAINT_ABOVE_GROUND)
    # Pale ink takes the tint of the paper under it (a pink seal on cream paper, or in a
    # phone's warm light, is orange): its hue is judged with the ground's colour divided out.
    paper_hue = _hue_on_white(small, ground_window)
    for name, ranges in HUES.items():
        in_hue = np.zeros(hue.shape, dtype=bool)
        pale_in_hue = np.zeros(hue.shape, dtype=bool)
        for lo_h, hi_h in ranges:
            in_hue |= (hue >= lo_h) & (hue < hi_h)
            pale_in_hue |= (paper_hue >= lo_h) & (paper_hue < hi_h)
        m = in_hue & coloured
        if int(m.sum()) >= MIN_COLOUR_PIXELS:
            masks[name] = m.astype(np.uint8) * 255
            faint[name] = (((in_hue | pale_in_hue) & pale) | m).astype(np.uint8) * 255
    lum = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    # Dark enough to be ink and not coloured: black text, and seals in a grey scan (a red
    # seal photocopied in grey is a mid grey, a faint one a light grey: the margin is small).
    # Darker than the paper around it, that is: the light falls off across a phone's photo.
    win = max(3, int(PAPER_WINDOW_MM * dpi / k / 25.4) | 1)
    paper = cv2.dilate(lum, cv2.getStructuringElement(cv2.MORPH_RECT, (win, win))).astype(np.int16)
    grey = (lum.astype(np.int16) < paper - np.maximum(18, paper // 11)) & ~coloured
    masks["grey"] = grey.astype(np.uint8) * 255
    return InkMaps(1.0 / k, masks, (h, w), faint)


def _hue_on_white(small: np.ndarray, window: int) -> np.ndarray:
    """The hue of each pixel of an RGB image with the median colour of the window round it
    (the paper, and the light on it) taken as white."""
    # the median at a quarter of the scale: a ground changes over centimetres, and the full
    # median cost a third of the seal search
    f = 4 if window >= 12 else 1
    h, w = small.shape[:2]
    tiny = cv2.resize(small, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1 else small
    ground = cv2.medianBlur(np.ascontiguousarray(tiny), max(3, (window // f) | 1))
    if f > 1:
        ground = cv2.resize(ground, (w, h), interpolation=cv2.INTER_LINEAR)
    balanced = cv2.divide(small, np.maximum(ground, 1), scale=255.0)
    return cv2.cvtColor(balanced, cv2.COLOR_RGB2HSV)[:, :, 0]


# --- candidates --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Ellipse:
    cx: float
    cy: float
    a: float
    b: float
    angle: float  # degrees


def _hough(mask: np.ndarray, r_min: float, r_max: float, grey: bool) -> list[_Ellipse]:
    """Circles on a mask, their centres allowed up to half the largest radius off the page
    (a seal stamped half over the edge)."""
    pad = int(OFF_PAGE * r_max)
    blur = cv2.GaussianBlur(cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0), (0, 0), 1.2)
    circles = cv2.HoughCircles(
        blur,
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=max(4.0, r_min * 0.5),
        param1=100,
        param2=max(10.0, r_min * (0.55 if grey else 0.45)),
        minRadius=int(r_min),
        maxRadius=math.ceil(r_max),
    )
    if circles is None:
        return []
    return [_Ellipse(float(x) - pad, float(y) - pad, float(r), float(r), 0.0) for x, y, r in circles[0][:MAX_CANDIDATES]]


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
        _, _, w, h = cv2.boundingRect(c)
        if not (1.6 * r_min <= max(w, h) <= 2.2 * r_max and min(w, h) >= 1.2 * r_min):
            continue
        hull = cv2.convexHull(c)
        if len(hull) < 5:
            continue
        (ex, ey), (d1, d2), ang = cv2.fitEllipse(hull)
        out.append(_Ellipse(ex, ey, d1 / 2, d2 / 2, ang))
    return out


def _around_stars(mask: np.ndarray, r_min: float, r_max: float) -> list[_Ellipse]:
    """Circles of a few sizes round the blobs most like a seal's filled five-pointed star (a
    grey oval seal, which the circle transform misses among the print of a grey scan; its
    star marks its centre). A star: a solid blob about as wide as tall, STAR_OF_RADIUS of a
    seal's radius across, cut by four to seven deep notches (five, and print run into it),
    filling about half its convex hull; the MAX_STARS nearest that half are taken."""
    disc = lambda k: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))  # noqa: E731
    solid = cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc(3))
    # A signature or a character run into the star joins it on a thin stroke: the blobs
    # that survive a wider opening, grown back within what the narrow one kept, part them.
    bodies = solid & cv2.dilate(cv2.morphologyEx(mask, cv2.MORPH_OPEN, disc(5)), disc(7))
    stars = sorted(_stars(solid, r_min, r_max))[:MAX_STARS]
    parted = [s for s in sorted(_stars(bodies, r_min, r_max)) if not _near_any(s, stars, 0.3 * r_min)]
    out: list[_Ellipse] = []
    for _, cx, cy in stars + parted[:MAX_STARS]:
        out += [_Ellipse(cx, cy, r, r, 0.0) for r in np.linspace(1.1 * r_min, 0.85 * r_max, 3)]
    return out


def _near_any(star: tuple[float, float, float], others: list[tuple[float, float, float]], near: float) -> bool:
    return any(math.hypot(star[1] - o[1], star[2] - o[2]) <= near for o in others)


def _stars(solid: np.ndarray, r_min: float, r_max: float) -> list[tuple[float, float, float]]:
    """(distance of its solidity from 0.5, x, y) of each blob of solid shaped like a star."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(solid, connectivity=8)
    lo, hi = STAR_OF_RADIUS[0] * r_min, STAR_OF_RADIUS[1] * r_max
    stars: list[tuple[float, float, float]] = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        half = max(w, h) / 2
        if not (lo <= half <= hi and 0.75 <= w / max(h, 1) <= 1.33):
            continue
        blob = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
        contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline = max(contours, key=cv2.contourArea)
        hull = np.sort(cv2.convexHull(outline, returnPoints=False), axis=0)
        solidity = area / max(cv2.contourArea(outline[hull[:, 0]]), 1.0)
        if not (STAR_SOLIDITY[0] <= solidity <= STAR_SOLIDITY[1]) or len(hull) < 4:
            continue
        try:
            defects = cv2.convexityDefects(outline, hull)
        except cv2.error:
            continue
        deep = 0 if defects is None else int((defects.reshape(-1, 4)[:, 3] / 256.0 > STAR_NOTCH * half).sum())
        if 4 <= deep <= 7:
            stars.append((abs(solidity - 0.5), float(centroids[i][0]), float(centroids[i][1])))
    return stars


# --- the seal's own frame ----------------------------------------------------------------

_ANGLES = 180  # polar samples around the ring


@lru_cache(maxsize=4)
def _unit_grid(reach: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """cos t * u, sin t * u for _ANGLES angles and radii u = 0, 0.01, ... < reach."""
    t = np.linspace(0.0, 2 * math.pi, _ANGLES, endpoint=False)
    u = np.arange(int(100 * reach)) / 100.0
    return (np.cos(t)[:, None] * u[None, :]).astype(np.float32), (np.sin(t)[:, None] * u[None, :]).astype(
        np.float32
    ), t


def _polar(mask: np.ndarray, e: _Ellipse, reach: float = 1.35) -> tuple[np.ndarray, np.ndarray]:
    """(samples, inside): the mask read along rays from the centre, the ellipse mapped to
    the unit circle; samples[i, j] is the ink at angle i and radius j / 100 of the outline,
    radii up to `reach`; inside says whether the sample lies on the page."""
    h, w = mask.shape
    cu, su, _ = _unit_grid(reach)
    ca, sa = math.cos(math.radians(e.angle)), math.sin(math.radians(e.angle))
    # a point u (cos t, sin t) of the unit circle -> the ellipse's frame -> the image
    xs = (e.cx + (e.a * ca) * cu - (e.b * sa) * su).astype(np.float32, copy=False)
    ys = (e.cy + (e.a * sa) * cu + (e.b * ca) * su).astype(np.float32, copy=False)
    inside = (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    samples = cv2.remap(mask, xs, ys, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return samples > 127, inside


def _refit(mask: np.ndarray, e: _Ellipse) -> _Ellipse | None:
    """The ellipse through the outer edge of the ring near e, or None if there is no ring."""
    lo, hi = 78, 125
    t = np.linspace(0.0, 2 * math.pi, _ANGLES, endpoint=False)
    for _ in range(4):
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
        moved = abs(fitted.cx - e.cx) + abs(fitted.cy - e.cy) + abs(fitted.a - e.a) + abs(fitted.b - e.b)
        e = fitted
        if moved < 0.02 * (e.a + e.b):
            break
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
    ring: float  # share of the (visible) angles with ink just inside the outline
    edge: float  # share of the angles where the ink ends at the outline (paper just outside)
    outside: float  # ink share of the band just outside the ring
    hollow: float  # share of the angles with no ink a little inside the ring
    band: float  # share of the angles with ink in the text band
    band_fill: float  # ink share of the text band
    core: float  # ink share of the middle (the star); -1 when off the page
    visible: float  # share of the outline on the page
    ring_run: float  # share of the angles in long runs of ring ink (a drawn ring is continuous)
    edge_run: float  # the same for the clean outer edge
    rim: float  # share of the angles with ink just inside the ring (a logo's thick ring)


def _features(mask: np.ndarray, e: _Ellipse) -> _Features:
    ink, inside = _polar(mask, e, 1.35)
    vis = inside[:, 100]
    visible = float(vis.mean())
    rows = vis if vis.any() else np.ones_like(vis)
    ink = ink[rows]
    ring = ink[:, 92:101].any(axis=1)
    clear_out = ~ink[:, 103:108].any(axis=1)
    core_ok = inside[:, :28].all()
    return _Features(
        ring=float(ring.mean()),
        edge=float((ink[:, 95:101].any(axis=1) & clear_out).mean()),
        outside=float(ink[:, 108:130].mean()),
        hollow=float((~ink[:, 78:86].any(axis=1)).mean()),
        band=float(ink[:, 50:86].any(axis=1).mean()),
        band_fill=float(ink[:, 50:86].mean()),
        core=float(ink[:, :28].mean()) if core_ok else -1.0,
        visible=visible,
        ring_run=_in_long_runs(ring, vis),
        edge_run=_in_long_runs(ink[:, 95:101].any(axis=1) & clear_out, vis),
        rim=float(ink[:, 85:89].any(axis=1).mean()),
    )


LONG_RUN = 5  # angle samples (10 degrees)


def _in_long_runs(flags: np.ndarray, visible: np.ndarray) -> float:
    """Share of the flags (one per visible angle, in order round the ring) that belong to
    runs of at least LONG_RUN; a run may wrap round when the whole ring is visible."""
    n = len(flags)
    if n == 0:
        return 0.0
    full = bool(visible.all())
    f = np.concatenate([flags, flags]) if full else flags
    padded = np.concatenate([[False], f, [False]]).astype(np.int8)
    d = np.diff(padded)
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    covered = np.zeros(len(f), dtype=bool)
    for a, b in zip(starts, ends):
        if b - a >= LONG_RUN:
            covered[a:b] = True
    if full:
        covered = covered[:n] | covered[n:]
    return float(covered.mean())


def seal_score(f: _Features) -> float:
    """0..1: how much the features look like a seal's (set on generated pages: true seals
    had ring >= 0.85 where table cells, photos and text blocks had <= 0.8)."""
    if f.visible < MIN_VISIBLE or f.ring < 0.7:
        return 0.0
    if f.band_fill > 0.5 or f.hollow < 0.1:
        return 0.0  # a filled disc: a logo, a photo
    if f.rim > 0.8:
        # a thick ring: a logo; or a seal struck twice, or stamped over a frame, whose
        # outlines run together. With a star inside and a clean outer edge, a seal.
        return THICK_RING_WITH_STAR if f.core > 0.15 and f.edge >= 0.8 and f.ring >= 0.95 else 0.0
    if f.band < 0.2 and f.core < 0.15:
        return 0.0  # an empty ring: a drawn circle, an emblem's outline
    s = 20.0 * (f.ring - 0.84) + 6.0 * (f.edge - 0.45) + 1.5 * (min(f.band, 0.7) - 0.4)
    if f.core > 0.15:
        s += 0.8  # the star
    return float(1.0 / (1.0 + math.exp(-s)))


# --- the detector ------------------------------------------------------------------------


def find_seals(rgb: np.ndarray, dpi: float, maps: InkMaps | None = None) -> list[SealHit]:
    """Seals on an RGB page image (H x W x 3, uint8) scanned at dpi, best first; candidates
    scoring at least DOUBT_AT are included, those under SEAL_AT being doubtful. maps: the
    page's ink_maps when already made."""
    maps = maps or ink_maps(rgb, dpi)
    px_per_mm = dpi * maps.scale / 25.4
    r_min, r_max = MIN_RADIUS_MM * px_per_mm, MAX_RADIUS_MM * px_per_mm
    hits: list[SealHit] = []
    for colour, mask in maps.masks.items():
        grey = colour == "grey"
        cands = _hough(mask, r_min, r_max, grey)
        if not grey:
            cands += _blob_ellipses(mask, r_min, r_max)
        else:
            cands += _around_stars(mask, r_min, r_max)
        for cand in cands:
            if _explained(cand, hits, maps.scale):
                continue  # another circle of a seal already found
            hit = _judge(maps.faint.get(colour, mask), cand, colour, maps, r_min, r_max)
            if hit is not None:
                hits.append(hit)
    return _suppress(hits)


def _explained(cand: _Ellipse, hits: list[SealHit], scale: float) -> bool:
    """Whether a candidate (work pixels) lies within a seal found with confidence."""
    for h in hits:
        if h.confidence >= 0.9:
            d = math.hypot(cand.cx / scale - h.cx, cand.cy / scale - h.cy)
            if d + cand.a / scale <= 1.3 * h.radius or d <= 0.5 * h.radius:
                return True
    return False


def _judge(mask: np.ndarray, cand: _Ellipse, colour: str, maps: InkMaps, r_min: float,
           r_max: float) -> SealHit | None:
    """A candidate refitted and scored: the ellipse through its ring's outer edge, or, where
    that runs off (print around a grey seal pulls it out of shape), the circle round the
    candidate's centre whose outer edge is inked the most."""
    if _ring_coverage(mask, cand) < RING_PREFILTER:
        return None
    best: tuple[float, _Ellipse, _Features] | None = None
    refits = (_refit, _refit_circle) if _ring_coverage(mask, cand) >= CIRCLE_REFIT_AT else (_refit,)
    if _visible(mask, cand) < PARTLY_OFF:
        refits += (_refit_upright,)
    for refit in refits:
        e = refit(mask, cand)
        if e is None or not _plausible(e, r_min, r_max):
            continue
        f = _features(mask, e)
        score = seal_score(f)
        if best is None or score > best[0]:
            best = (score, e, f)
        if score >= 0.9:
            break
    if best is None or (best[0] < DOUBT_AT and not _KEEP_ALL):
        return None
    return _hit(*best, colour, maps)


def _plausible(e: _Ellipse, r_min: float, r_max: float) -> bool:
    a, b = max(e.a, e.b), min(e.a, e.b)
    return r_min * 0.9 <= b and a <= r_max * 1.1 and a <= 1.9 * b


def _refit_circle(mask: np.ndarray, e: _Ellipse) -> _Ellipse | None:
    """The circle near e (centre moved by up to 3 % of its radius, in two rounds) whose
    ring's outer edge has ink just inside and paper just outside at the most angles."""
    r = (e.a + e.b) / 2
    score, found = _edge_search(mask, _Ellipse(e.cx, e.cy, r, r, 0.0), (0.02 * r, 0.01 * r), 1)
    return found if score > 0 else None


def _visible(mask: np.ndarray, e: _Ellipse) -> float:
    """Share of e's outline on the page."""
    h, w = mask.shape
    t = np.linspace(0.0, 2 * math.pi, _ANGLES, endpoint=False)
    xs, ys = e.cx + e.a * np.cos(t), e.cy + e.b * np.sin(t)
    return float(((xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)).mean())


def _refit_upright(mask: np.ndarray, e: _Ellipse) -> _Ellipse | None:
    """For a seal partly off the page, whose visible arc is too short to fit an ellipse to:
    the circle or upright 40 x 30 mm oval (either way round) near e, centre moved by up to
    about a quarter of its radius in two rounds, whose outer edge has ink just inside and
    paper just outside at the most visible angles."""
    r = (e.a + e.b) / 2
    score, found = max((_edge_search(mask, _Ellipse(e.cx, e.cy, r * math.sqrt(k), r / math.sqrt(k), 0.0),
                                     (0.1 * r, 0.04 * r), 2) for k in UPRIGHT_SHAPES), key=lambda sf: sf[0])
    return found if score > 0 else None


def _edge_search(mask: np.ndarray, start: _Ellipse, steps: tuple[float, ...], span: int) -> tuple[float, _Ellipse]:
    """(score, ellipse) of the outline of start's shape, its centre moved up to span steps
    each way in each round (of the given step sizes, round on round from the best so far),
    whose outer edge _outer_edge scores best; the ellipse scaled to that edge."""
    best = (-1.0, start)
    for step in steps:
        cx, cy = best[1].cx, best[1].cy
        for dx in range(-span, span + 1):
            for dy in range(-span, span + 1):
                c = _Ellipse(cx + dx * step, cy + dy * step, start.a, start.b, start.angle)
                score, u = _outer_edge(mask, c)
                if score > best[0]:
                    best = (score, _Ellipse(c.cx, c.cy, c.a * u, c.b * u, c.angle))
    return best


def _outer_edge(mask: np.ndarray, c: _Ellipse) -> tuple[float, float]:
    """(share of the visible angles, radius in units of c's) of the radius between 0.8 and
    1.24 at which the most angles have ink within 3 samples inside and none 3 outside."""
    ink, inside = _polar(mask, c, 1.3)
    rows = inside[:, 100]
    if not rows.any():
        return 0.0, 1.0
    cum = np.concatenate([np.zeros((int(rows.sum()), 1), np.int32), np.cumsum(ink[rows], axis=1, dtype=np.int32)], axis=1)
    j = np.arange(80, 124)
    inner = (cum[:, j + 1] - cum[:, j - 2]) > 0  # ink at j - 2 .. j
    outer = (cum[:, j + 4] - cum[:, j + 1]) > 0  # ink at j + 1 .. j + 3
    share = (inner & ~outer).mean(axis=0)
    k = int(np.argmax(share))
    return float(share[k]), float(j[k] + 1) / 100.0


def _hit(score: float, e: _Ellipse, f: _Features, colour: str, maps: InkMaps) -> SealHit:
    """A scored ellipse (work pixels) as a SealHit in pixels of the image."""
    a, b = max(e.a, e.b), min(e.a, e.b)
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
        edge=round(f.edge, 3),
        text_band=round(f.band, 3),
        star=round(f.core, 3),
        features=tuple(round(v, 3) for v in (f.ring, f.edge, f.outside, f.hollow, f.band, f.band_fill, f.core,
                                             f.visible, f.ring_run, f.edge_run, f.rim)),
    )


def _suppress(hits: list[SealHit]) -> list[SealHit]:
    """One hit per seal: of hits at the same place (centres within half a radius, or one
    inside the other), the most confident, a colour hit before a grey one of the same seal."""
    ordered = sorted(hits, key=lambda h: (h.colour != "grey", h.confidence), reverse=True)
    kept: list[SealHit] = []
    for h in ordered:
        if all(not _same_place(h, k) for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: -h.confidence)


def _same_place(h: SealHit, k: SealHit) -> bool:
    d = math.hypot(h.cx - k.cx, h.cy - k.cy)
    small, big = sorted((h.radius, k.radius))
    return d <= 0.5 * small or d + small <= 1.3 * big
