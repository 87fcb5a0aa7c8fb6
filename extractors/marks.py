"""Seals, the copy attestation and the handler's signature on one scanned page.

find_marks runs where the page's colour image still exists (pipeline.pages, right after the
page was OCR-ed from its colour-removed copy): it needs the colours, which the OCR'd copy
has lost. What it reads and adds:
- seals (extractors.seals) on the colour image, and the organisation's name along the arc of
  each one found (extractors.seal_text: the ring unrolled and OCR-ed);
- the attestation (此件与原件相符 and variants) in the page's OCR lines; a red or blue stamped
  attestation has vanished from those with its colour, so where none was read the coloured
  ink (other than round seals) is OCR-ed once more from its own colour channel;
- the signature: ink beside 经办人 (or a like label) that is not printed text.
Everything is returned as Mark values in points (displayed frame); doubtful candidates are
kept with a confidence under 0.5.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import chain

import cv2
import numpy as np

from pipeline.model import Box, Mark, PageContent, rect_mostly_within
from pipeline.ocr import OcrEngine
from pipeline.pages import channel_max, channel_min, remove_colour, rotate_box, split_box, turn, unrotate_box

from .attestation import (
    attestation_phrases,
    find_attestation,
    find_signature_label,
    nearest_miss,
)
from .copy_marks import FOUND_AT, attestation_blocks, near_attestation
from .seal_text import SealText, read_seal_text, read_seal_texts, seal_ink
from .seals import SEAL_AT, InkMaps, SealHit, find_seals, ink_maps

Rect = tuple[float, float, float, float]

# A grey seal's name is read with the print under it (no colour tells them apart): its
# reading's confidence is discounted (on generated pages: 0.74 of the characters right in grey
# seals, 0.89 in red ones).
GREY_SEAL_TEXT = 0.9
# Coloured ink regions OCR-ed for a stamped attestation, at most, largest first.
MAX_STAMP_REGIONS = 4
# A coloured region smaller than this (mm²) is a speck or a pen dot.
MIN_STAMP_AREA_MM2 = 40.0
# ...or filling less of its box than this (a frame, a long rule).
MIN_STAMP_FILL = 0.12
# Ink of a stamp's colour covers at most this share of the stamp's box.
MAX_STAMP_FILL = 0.6
# Labels (经办人) whose region is read again when the words were not found, at most.
MAX_LABEL_REGIONS = 2
# ...each read whole, then in halves, then the band just above the label: mm from the label's
# left edge, and how far above its top the region reaches. (A grey seal across the words' end
# ran them into its own name when 32 mm were read: an independent probe's P09.)
LABEL_REGION_SPANS_MM = ((-20, 120, 32), (-20, 60, 32), (40, 120, 32), (-20, 90, 14))
# The confidence of an attestation that was not read beside a label that was: doubtful.
LABEL_WITHOUT_WORDS = 0.35
# What every attestation phrase holds (此件与原件相符, 与原件一致, 与原件核对无误), and the
# confidence of words read in part beside a label with the handler's signature (_corroborated).
_CORE = "与原"
CORROBORATED = 0.6
# An attestation read with less than this is reported as a doubtful candidate.
NEAR_MISS_AT = 0.4
# Pen ink for a signature: this much darker than the paper in every channel, and not
# coloured ink this bright (stamp ink; a blue ballpoint's brightest channel is about 110, a
# blue stamp's about 175-190).
SIGNATURE_DARKER = 60
# ...and fainter ink, this much darker, joined to such ink within this many mm, belongs to
# the same stroke: pieces of one blurred stroke in the hard corpora's phone photos lay up to
# about 0.8 mm apart; grown without a bound, a label's blurred print ran into one stroke.
PEN_FAINT_DARKER = 35
PEN_FAINT_REACH_MM = 0.8
PEN_SEED_BRIGHT = 125
STAMP_BRIGHT = 140
# A line box taller than this many characters' height took in more than its text.
TALL_LINE = 1.6
# A character is about this share of its OCR line box's height...
GLYPH_OF_LINE = 0.6
# ...measured, in print too pale for SIGNATURE_DARKER, if this much darker than its paper
PALE_PRINT_CONTRAST = 25
# ...and a signature's strokes run at least this many characters' height (a glyph about one).
STROKE_LONG = 1.4
# A band of rows in a label's box thinner than this share of the box and inked across this
# share of its width is a printed rule, not a glyph.
RULE_BAND, RULE_FILL = 0.12, 0.5
# Print this many mm tall is a label's glyph, not a speck, however tall its box.
GLYPH_MIN_MM = 2.0
# A name written beside the label: two to four Chinese characters, mostly (of the ink that is
# not a seal's red) a ballpoint's blue, is the handler's signature with this confidence.
_WRITTEN_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}")
WRITTEN_NAME_BLUE = 0.6
WRITTEN_NAME_CONFIDENCE = 0.9
# How likely a seal is on a page without coloured ink although none was found by its shape
# (on 240 damaged copy pages the only seal missed outright was a grey one).
SHAPE_ONLY_DOUBT = 0.2
# The paper around a pen stroke: the brightest within this many mm.
PAPER_WINDOW_MM = 5.0
# Ink running straight across or down this far (mm) is a line, not a signature.
STRAIGHT_MM = 8.0
# Under a grey seal, pen ink is told from the seal's by being this much darker than the
# seal's ink (its brightest channel).
SEAL_PEN_DARKER = 40
# Inside a grey seal, pen strokes are told from the seal's own ink by where they lie (shares
# of its radius): its ring from SEAL_RING_FROM out, its star up to SEAL_STAR_TO, its name in
# the band from SEAL_NAME_FROM to the ring (_clear_grey_seal).
SEAL_RING_FROM = 0.85
SEAL_RING_TO = 1.05
SEAL_STAR_TO = 0.4
SEAL_NAME_FROM = 0.5
# ...and a straight run of ink across it this long (share of its radius), within about 11
# degrees of level or upright, is a printed rule.
SEAL_RULE_OF_RADIUS = 0.35
SEAL_RULE_WIDTH_MM = 0.6
# Ink of a signature stands at least about this tall (mm).
SIGNATURE_MIN_HEIGHT_MM = 2.5
# The region beside a label searched for a signature, in mm: how far right, how far above
# and below the label.
SIGNATURE_REACH_MM = (48.0, 8.0, 12.0)


@dataclass(frozen=True, slots=True)
class _Text:
    """A line of text, its box in pixels of the upright page image."""

    text: str
    box: Rect
    confidence: float
    source: str  # "ocr" (the page's lines) or "stamp:<colour>"


@dataclass(frozen=True)
class SealsSeen:
    """What find_marks needs of a page image before its OCR: the ink maps, the seals, and
    (when an engine was given) each readable seal's name read both ways (read_seal_texts)."""

    maps: InkMaps
    seals: list[SealHit]
    names: dict[int, tuple[SealText, SealText]] | None = None


def look_for_seals(rgb: np.ndarray, dpi: float, engine: OcrEngine | None = None) -> SealsSeen:
    """The part of find_marks that does not need the page's OCR: pipeline.pages runs it on a
    second thread (engine: one of its own, engines not being thread-safe) while the page is
    OCR-ed. Every readable seal's name is read with its confirmation, since whether a seal
    certifies a copy is known only from the OCR."""
    maps = ink_maps(rgb, dpi)
    seals = find_seals(rgb, dpi, maps)
    names = None
    if engine is not None:
        names = {i: read_seal_texts(rgb, hit, engine) for i, hit in enumerate(seals) if _name_readable(hit)}
    return SealsSeen(maps, seals, names)


def find_marks(rgb: np.ndarray, content: PageContent, engine: OcrEngine, dpi: float,
               seen: SealsSeen | None = None) -> tuple[Mark, ...]:
    """The seals, attestation and signature on a page image (RGB, displayed frame) that was
    read into content at dpi. OCR runs only on what the page's own reading cannot give: the
    strip of each seal found, coloured ink when no attestation was read, the region above a
    label such as 经办人 when still none was. seen: look_for_seals(rgb, dpi), when already
    run."""
    page = _Page(rgb, dpi, content.rotation)
    seen = seen if seen is not None else look_for_seals(rgb, dpi)
    maps, seals = seen.maps, seen.seals
    texts = [_Text(line.text, page.upright(page.from_points(line.box)), line.confidence, "ocr")
             for line in content.lines]
    texts += _joined_fragments(texts)
    found = _attestations(texts)
    if not found:
        for region_texts in chain(_stamp_texts(page, maps, seals, engine), _texts_above_labels(page, texts, engine)):
            texts += region_texts
            found = _attestations(region_texts)
            if found:
                break  # read; the rest need not be
    att = found[0] if found else None
    marks = _attestation_marks(page, texts, att)
    sig = _signature(page, texts, att, [s for s in seals if s.confidence >= SEAL_AT])
    if att is None and sig is not None and sig[1] >= FOUND_AT:
        marks = _corroborated(marks)
    if sig is not None:
        box, conf = sig
        marks.append(Mark("signature", page.to_points(page.displayed(box)), conf, "handwriting",
                          page.colour_in(page.displayed(box))))
    marks += _other_attestations(page, found)
    # the seals' names; the one stamped over an attestation is read twice (its name is
    # compared with the applicant's unit and recommender)
    blocks = attestation_blocks(tuple(marks))
    for i, hit in enumerate(seals):
        certifying = any(near_attestation(page.to_points(hit.box), block) for block in blocks)
        read = seen.names.get(i) if seen.names is not None else None
        marks.append(page.seal_mark(hit, engine, confirm=certifying, read=read))
    if not maps.has_colour and not any(h.confidence >= SEAL_AT for h in seals):
        # No coloured ink anywhere: a seal here could be found by its shape only, which damage
        # breaks (a faint oval in a grey JPEG). "None seen" is then a doubt, not a certainty.
        marks.append(Mark("seal", Box(0.0, 0.0, content.width, content.height), SHAPE_ONLY_DOUBT, "unseen", "grey"))
    return tuple(marks)


def _attestation_marks(page: _Page, texts: list[_Text], att: tuple[_Text, Rect, float] | None) -> list[Mark]:
    """The attestation found; or, when none was, doubtful candidates: a line that came near
    the words, and a label such as 经办人 (a handler signed, so the words are likely there,
    unread)."""
    if att is not None:
        text, box, conf = att
        disp = page.displayed(box)
        shape = "stamp" if text.source.startswith("stamp") else "text"
        return [Mark("attestation", page.to_points(disp), conf, shape, page.colour_in(disp), text.text,
                     text.confidence)]
    out = []
    doubt = _near_miss(texts)
    if doubt is not None:
        text, score = doubt
        disp = page.displayed(text.box)
        out.append(Mark("attestation", page.to_points(disp), 0.5 * score, "text", page.colour_in(disp), text.text,
                        text.confidence))
    label = next((t for t in texts if find_signature_label(t.text)), None)
    if label is not None:
        disp = page.displayed(label.box)
        out.append(Mark("attestation", page.to_points(disp), LABEL_WITHOUT_WORDS, "text", page.colour_in(disp),
                        label.text, label.confidence))
    return out


class _Page:
    """The page image and its frames: displayed pixels, upright pixels, points."""

    def __init__(self, rgb: np.ndarray, dpi: float, rotation: int):
        self.rgb = rgb
        self.dpi = dpi
        self.rotation = rotation
        self.h, self.w = rgb.shape[:2]
        self.px_per_mm = dpi / 25.4
        self.paper = float(np.percentile(channel_max(rgb[::8, ::8]), 90))

    def from_points(self, b: Box) -> Rect:
        k = self.dpi / 72.0
        return (b.x0 * k, b.top * k, b.x1 * k, b.bottom * k)

    def to_points(self, r: Rect) -> Box:
        k = 72.0 / self.dpi
        x0, top, x1, bottom = (float(v) * k for v in self.clip(r))
        return Box(x0, top, x1, bottom)

    def clip(self, r: Rect) -> Rect:
        return (max(0.0, r[0]), max(0.0, r[1]), min(float(self.w), r[2]), min(float(self.h), r[3]))

    def upright(self, r: Rect) -> Rect:
        """A displayed-frame box in the upright frame (the page turned to read)."""
        return rotate_box(r, self.rotation, self.w, self.h)

    def displayed(self, r: Rect) -> Rect:
        return unrotate_box(r, self.rotation, self.w, self.h)

    def crop(self, r: Rect) -> tuple[np.ndarray, Rect]:
        """The pixels of a displayed-frame box (clipped), and the box they came from."""
        x0, top, x1, bottom = (round(v) for v in self.clip(r))
        return self.rgb[top:bottom, x0:x1], (float(x0), float(top), float(x1), float(bottom))

    def colour_in(self, r: Rect) -> str:
        """The ink colour that dominates a box: red / blue / purple, or black."""
        crop, _ = self.crop(r)
        if crop.size == 0:
            return ""
        counts, inked, total = _ink_hues(crop, self.paper)
        if inked < 0.02 * total:
            dark = (channel_max(crop) < self.paper - 90).sum()
            return "black" if dark else ""
        return max(("red", "purple", "blue"), key=lambda k: counts[k])

    def seal_mark(self, hit: SealHit, engine: OcrEngine, confirm: bool = False,
                  read: tuple[SealText, SealText] | None = None) -> Mark:
        """read: the seal's name already read both ways (look_for_seals)."""
        text, conf = "", 0.0
        if _name_readable(hit):
            if read is not None:
                name = read[1] if confirm else read[0]
            else:
                name = read_seal_text(self.rgb, hit, engine, confirm)
            text, conf = name.text, name.confidence
            if hit.colour == "grey":
                conf *= GREY_SEAL_TEXT  # the print under a grey seal reads into its name
        return Mark("seal", self.to_points(hit.box), hit.confidence, hit.shape, hit.colour, text, conf)


def _name_readable(hit: SealHit) -> bool:
    return hit.confidence >= SEAL_AT and hit.visible >= 0.6


# --- the attestation -----------------------------------------------------------------------


def _attestations(texts: list[_Text]) -> list[tuple[_Text, Rect, float]]:
    """Every line holding the attestation (its text, the phrase's box, a confidence), surest
    first."""
    out = []
    for t in texts:
        m = find_attestation(t.text)
        if m is not None:
            out.append((t, _span(t, m.start, m.end), m.score * math.sqrt(max(0.0, t.confidence))))
    return sorted(out, key=lambda a: -a[2])


# Fragments of one line: a seal stamped across the words splits the OCR's line in two (此件与
# | 件相, 原 and 符 under the seal's ring). Each is no more than this many characters, on the
# same row (their heights overlapping by half the lower's), less than FRAGMENT_GAP line heights apart
# and overlapping by less than FRAGMENT_OVERLAP of one (a seal's ring and skew swell the boxes:
# a third of the height in seed 2030 hard 0032).
FRAGMENT_CHARS = 8
FRAGMENT_GAP = 2.5
FRAGMENT_OVERLAP = 0.5


def _joined_fragments(texts: list[_Text]) -> list[_Text]:
    """Runs of two or three short OCR lines side by side on one row, joined, where together
    they hold the attestation and none of them alone does."""
    short = sorted((t for t in texts if t.source == "ocr" and 0 < len(t.text.strip()) <= FRAGMENT_CHARS),
                   key=lambda t: t.box[0])
    out: list[_Text] = []
    for i, first in enumerate(short):
        run = [first]
        for t in short[i + 1:]:
            last = run[-1]
            h = min(last.box[3] - last.box[1], t.box[3] - t.box[1])
            overlap = min(last.box[3], t.box[3]) - max(last.box[1], t.box[1])
            if h <= 0 or overlap < 0.5 * h or t.box[0] < last.box[2] - FRAGMENT_OVERLAP * h:
                continue
            if t.box[0] - last.box[2] > FRAGMENT_GAP * h:
                continue
            run.append(t)
            if len(run) == 3:
                break
        for n in (2, 3):
            if len(run) < n:
                break
            parts = run[:n]
            if any(_attested(p) for p in parts):
                break
            joined = _Text(" ".join(p.text for p in parts),
                           (parts[0].box[0], min(p.box[1] for p in parts), parts[-1].box[2], max(p.box[3] for p in parts)),
                           min(p.confidence for p in parts), "ocr")
            if _attested(joined):
                out.append(joined)
                break
    return out


def _attested(t: _Text) -> bool:
    found = _attestations([t])
    return bool(found) and found[0][2] >= FOUND_AT


def _other_attestations(page: _Page, found: list[tuple[_Text, Rect, float]]) -> list[Mark]:
    """Attestations found (_attestations, surest first) apart from the best one: a booklet
    spread, or two documents copied on one sheet, carries one per copy, and a certifying seal
    is stamped at its own."""
    if not found:
        return []
    att = found[0]
    out: list[Mark] = []
    for text, box, conf in found[1:]:
        if conf < FOUND_AT or _overlaps(box, att[1]):
            continue
        disp = page.displayed(box)
        out.append(Mark("attestation", page.to_points(disp), conf, "text", page.colour_in(disp), text.text,
                        text.confidence))
    return out


def _overlaps(a: Rect, b: Rect) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def _corroborated(marks: list[Mark]) -> list[Mark]:
    """The attestation marks when a handler signed beside 经办人 but the words were read only
    in part (a seal stamped across a stamp of the same red cuts its reading short: 此件与原,
    此复印件与原): a reading holding the phrases' common core 与原 is the attestation, found."""
    if not any(find_signature_label(m.text) for m in marks):
        return marks  # no 经办人 label read: nothing to corroborate with
    return [replace(m, confidence=CORROBORATED) if m.confidence < CORROBORATED and _CORE in m.text else m
            for m in marks]


def _near_miss(texts: list[_Text]) -> tuple[_Text, float] | None:
    phrases = attestation_phrases()
    scored = [(t, nearest_miss(t.text, phrases)) for t in texts]
    best = max(scored, key=lambda p: p[1], default=None)
    return best if best is not None and best[1] >= NEAR_MISS_AT else None


def _span(t: _Text, start: int, end: int) -> Rect:
    """The upright box of characters [start, end) of t's text with white space removed."""
    index = [i for i, ch in enumerate(t.text) if not ch.isspace()]
    if not index:
        return t.box
    a, b = index[min(start, len(index) - 1)], index[min(end, len(index)) - 1]
    slices = split_box(t.box, t.text)
    return (slices[a][0], t.box[1], slices[b][2], t.box[3])


def _stamp_texts(page: _Page, maps: InkMaps, seals: list[SealHit], engine: OcrEngine) -> Iterator[list[_Text]]:
    """The lines of each region of coloured ink (red, blue, purple) other than a round seal,
    region by region, each read from its own colour so that the black print under a stamp
    does not mix in."""
    for colour, region in _stamp_regions(page, maps, seals):
        crop, box = page.crop(region)
        if crop.shape[0] < 8 or crop.shape[1] < 8:
            continue
        ink = seal_ink(np.ascontiguousarray(crop), colour)
        upright = turn(cv2.cvtColor(ink, cv2.COLOR_GRAY2RGB), page.rotation)
        ux0, uy0, _, _ = page.upright(box)
        out = []
        for line in engine.read(upright):
            x0, top, x1, bottom = line.box
            out.append(_Text(line.text, (x0 + ux0, top + uy0, x1 + ux0, bottom + uy0), line.confidence,
                             f"stamp:{colour}"))
        yield out


def _texts_above_labels(page: _Page, texts: list[_Text], engine: OcrEngine) -> Iterator[list[_Text]]:
    """Lines read again, from the colour-removed image, in the region where the words stand
    above a label such as 经办人 (handwriting the page's reading missed, a stamp half under a
    seal), one label at a time."""
    mm = page.px_per_mm
    labels = [t for t in texts if t.source == "ocr" and find_signature_label(t.text)]
    for t in labels[:MAX_LABEL_REGIONS]:
        x0, top, _, bottom = t.box
        # the whole region, then its two halves: the detector scales a crop down to its long
        # side's limit, and 140 mm of a damaged scan's thin handwriting scaled so vanished
        # where 60-90 mm of it was read whole; then the words' band alone
        for left, right, above in LABEL_REGION_SPANS_MM:
            region = (x0 + left * mm, top - above * mm, x0 + right * mm, top + 0.3 * (bottom - top))
            crop, box = page.crop(page.displayed(region))
            if crop.shape[0] < 8 or crop.shape[1] < 8:
                continue
            upright = turn(remove_colour(np.ascontiguousarray(crop)), page.rotation)
            ux0, uy0, _, _ = page.upright(box)
            yield [_Text(line.text, (line.box[0] + ux0, line.box[1] + uy0, line.box[2] + ux0, line.box[3] + uy0),
                         line.confidence, "label_region") for line in engine.read(upright)]


def _stamp_regions(page: _Page, maps: InkMaps, seals: list[SealHit]) -> list[tuple[str, Rect]]:
    """Boxes (displayed pixels) of coloured ink that is not wholly a round seal found."""
    inv = 1.0 / maps.scale
    mm_work = page.px_per_mm * maps.scale
    regions: list[tuple[float, str, Rect]] = []
    for colour, mask in maps.masks.items():
        if colour == "grey":
            continue
        k = max(3, int(3 * mm_work) | 1)
        joined = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (k, max(3, k // 2))))
        n, _, stats, _ = cv2.connectedComponentsWithStats(joined)
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area < MIN_STAMP_AREA_MM2 * mm_work * mm_work or area < MIN_STAMP_FILL * bw * bh:
                continue  # a speck, or a frame or a rule round the page
            if np.count_nonzero(mask[y : y + bh, x : x + bw]) > MAX_STAMP_FILL * bw * bh:
                continue  # a solid patch of colour: a photo's background, a filled logo
            pad = 2 * page.px_per_mm
            r = (x * inv - pad, y * inv - pad, (x + bw) * inv + pad, (y + bh) * inv + pad)
            if any(_inside(r, s, 4 * page.px_per_mm) for s in seals if s.confidence >= SEAL_AT):
                continue
            regions.append((float(area), colour, r))
    regions.sort(key=lambda t: -t[0])
    return [(c, r) for _, c, r in regions[:MAX_STAMP_REGIONS]]


def _inside(r: Rect, s: SealHit, margin: float) -> bool:
    """Whether a box (grown by margin) lies within a seal's outline (its box grown a little)."""
    g = 0.15 * s.radius + margin
    return r[0] >= s.box[0] - g and r[1] >= s.box[1] - g and r[2] <= s.box[2] + g and r[3] <= s.box[3] + g


# --- the signature ---------------------------------------------------------------------------


def _signature(page: _Page, texts: list[_Text], att: tuple[_Text, Rect, float] | None,
               seals: list[SealHit]) -> tuple[Rect, float] | None:
    """The handler's signature (upright box, confidence): handwriting beside a label such as
    经办人, or, with no label read, beside the attestation (att: the first of _attestations)."""
    attestation = att[1] if att is not None else None
    mm = page.px_per_mm
    right, above, below = SIGNATURE_REACH_MM
    searches: list[tuple[Rect, _Text | None, float, float]] = []  # region, label line, weight, char height
    for t in texts:
        m = find_signature_label(t.text)
        if m is None:
            continue
        lab = _span(t, m.start, m.end)
        if att is not None and t is att[0] and rect_mostly_within(lab, attestation):
            continue  # 核对无(误) of the attestation's own words, read as the label 核对人
        # A line box may take in the signature the OCR could not read ("经办人：" over the
        # whole width, and as tall as the squiggle): the label's characters are measured by
        # the attestation's line (the same hand) or, failing that, by the label's own.
        height = lab[3] - lab[1]
        if attestation is not None:
            height = min(height, attestation[3] - attestation[1])
        # ...both boxes may be swollen (seal text read into the words' line): the label's
        # first character, measured in ink, tells the size of its print when it is smaller
        glyph = _first_glyph_height(page, lab)
        if glyph is not None and glyph < GLYPH_OF_LINE * height:
            height = glyph / GLYPH_OF_LINE
        x_from = min(lab[2], lab[0] + (m.end - m.start + 0.2) * 0.8 * height)
        region = (x_from, lab[1] - above * mm, lab[2] + right * mm, lab[3] + below * mm)
        searches.append((region, t, m.score, height))
    if not searches and attestation is not None:
        a = attestation
        h = a[3] - a[1]
        searches.append(((a[2], a[1] - above * mm, a[2] + right * mm, a[3] + below * mm), None, 0.8, h))
        searches.append(((a[0], a[3], a[2] + 0.5 * right * mm, a[3] + 2 * below * mm), None, 0.8, h))
    best: tuple[Rect, float] | None = None
    for region, label_line, weight, line_h in searches:
        found = _handwriting_in(page, region, texts, label_line, seals, line_h)
        named = _name_written_beside(page, texts, label_line, region) if label_line is not None else None
        if named is not None and (found is None or named[1] > found[1]):
            found = named
        if found is not None and (best is None or found[1] * weight > best[1]):
            best = (found[0], found[1] * weight)
    return best


def _name_written_beside(page: _Page, texts: list[_Text], label_line: _Text, region: Rect) -> tuple[Rect, float] | None:
    """A handler who signs by writing the name legibly (经办人：李红), its characters no longer
    than a character each, so no stroke of _handwriting_in: the OCR read two to four Chinese
    characters after the label, on its line or beside it in the region, in a ballpoint's blue
    (print is black; a black pen's name is not told from print, and stays a doubt). Seen on
    every page of an independent probe whose handlers wrote two-character names."""
    m = find_signature_label(label_line.text)
    candidates: list[Rect] = []
    if m is not None:
        after = label_line.text[m.end:]
        name = after.strip(" :：")
        if _WRITTEN_NAME.fullmatch(name):
            start = m.end + (len(after) - len(after.lstrip(" :：")))
            candidates.append(_span(label_line, start, start + len(name)))
    for t in texts:
        if t is not label_line and _WRITTEN_NAME.fullmatch(t.text.strip()) and rect_mostly_within(t.box, region):
            candidates.append(t.box)
    for box in candidates:
        if _blue_share(page, page.displayed(box)) >= WRITTEN_NAME_BLUE:
            return box, WRITTEN_NAME_CONFIDENCE
    return None


def _blue_share(page: _Page, r: Rect) -> float:
    """The share of a box's coloured ink that is a ballpoint's blue (a red seal over it left out)."""
    crop, _ = page.crop(r)
    if crop.size == 0:
        return 0.0
    counts, inked, total = _ink_hues(crop, page.paper)
    if inked < 0.01 * total:
        return 0.0
    return counts["blue"] / max(1, inked - counts["red"])


def _ink_hues(crop: np.ndarray, paper: float) -> tuple[dict[str, int], int, int]:
    """(pixels of coloured ink by hue family: red, purple, blue; all coloured ink pixels; the
    crop's pixels) of an RGB crop on paper of that brightness."""
    hi = channel_max(crop).astype(np.int16)
    inked = ((hi - channel_min(crop).astype(np.int16)) >= 40) & (hi < paper - 10)
    hue = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2HSV)[:, :, 0][inked]
    counts = {"red": int(((hue < 12) | (hue >= 166)).sum()), "purple": int(((hue >= 130) & (hue < 166)).sum()),
              "blue": int(((hue >= 95) & (hue < 130)).sum())}
    return counts, int(inked.sum()), int(inked.size)


def _first_glyph_height(page: _Page, label: Rect) -> float | None:
    """The height of the ink at the start of an upright label box (its first character),
    in pixels; None where there is none to measure."""
    h = label[3] - label[1]
    if h <= 0:
        return None
    crop, _ = page.crop(page.displayed((label[0], label[1], label[0] + 0.9 * h, label[3])))
    if crop.size == 0:
        return None
    hi = channel_max(crop)
    # the paper here: in a phone's photo a shadow may lie over the label, darker than the
    # page's paper less SIGNATURE_DARKER, and the whole box would measure as one glyph
    here = min(page.paper, float(np.percentile(hi, 99)))
    # under a quarter of the box is a speck, unless the box is swollen (the signature taken
    # in: 18 mm tall over a 4.5 mm glyph in seed 2024 hard 0020) and the ink is print-sized
    floor = min(0.25 * h, GLYPH_MIN_MM * page.px_per_mm)
    height = _inked_rows(hi < here - SIGNATURE_DARKER, page.rotation, h, floor)
    if height is None:
        # a grey copy's pale print, nowhere SIGNATURE_DARKER under its paper: ink is what
        # lies nearer the box's darkest than its paper
        darkest = float(np.percentile(hi, 1))
        if here - darkest >= PALE_PRINT_CONTRAST:
            height = _inked_rows(hi < (here + darkest) / 2, page.rotation, h, floor, banded=True)
    return height


def _inked_rows(dark: np.ndarray, rotation: int, h: float, floor: float, banded: bool = False) -> float | None:
    """The span of the upright rows of dark with ink, None when under floor pixels;
    banded: of the tallest band of them only (a copy's stamped frame, whose rule runs under
    the label across rows of bare paper, is as pale as its print)."""
    if rotation in (90, 270):
        dark = dark.T  # the upright frame's rows are the displayed frame's columns
    fill = dark.sum(axis=1)
    rows = np.flatnonzero(fill >= 2)
    if rows.size:
        bands = np.split(rows, np.flatnonzero(np.diff(rows) > max(1.0, 0.08 * h)) + 1)
        # a printed rule the line box took in above or below the label (a stamped frame's,
        # seed 2024 hard 0020): thin, across the box, apart from the glyph
        while len(bands) > 1 and _a_rule(bands[0], fill, h, dark.shape[1]):
            bands.pop(0)
        while len(bands) > 1 and _a_rule(bands[-1], fill, h, dark.shape[1]):
            bands.pop()
        rows = max(bands, key=len) if banded else np.concatenate(bands)
    if rows.size == 0 or rows[-1] - rows[0] + 1 < floor:
        return None  # a speck, or nothing: no character there to measure
    return float(rows[-1] - rows[0] + 1)


def _a_rule(band: np.ndarray, fill: np.ndarray, h: float, width: int) -> bool:
    """Whether a band of inked rows is a straight rule: thin, and inked across most of the width."""
    return band[-1] - band[0] + 1 < RULE_BAND * h and fill[band].max() >= RULE_FILL * width


def _handwriting_in(page: _Page, region: Rect, texts: list[_Text], label_line: _Text | None,
                    seals: list[SealHit], line_h: float) -> tuple[Rect, float] | None:
    """A signature in an upright region: pen strokes longer than a character (characters,
    printed or written, are left out; so are straight rules), with no printed line over them.
    line_h is the height of a line box of the label's text. Returns (its box, confidence)."""
    char_h = GLYPH_OF_LINE * line_h
    disp = page.displayed(region)
    crop, box = page.crop(disp)
    if crop.size == 0:
        return None
    dark = _pen_ink(crop, page.paper, page.px_per_mm)
    # printed lines in the region are not handwriting; the label's own line is kept (it may
    # hold the signature read as junk), and so is any line box much taller than a line of
    # text (the OCR took a squiggle in with a line). Ink mostly inside such a box is its
    # print; a stroke that only runs into one (a signature reaching up into the words above)
    # is kept whole.
    printed = np.zeros(dark.shape, dtype=bool)
    for t in texts:
        if t is label_line or not _printed(t) or (t.box[3] - t.box[1]) > TALL_LINE * line_h:
            continue
        _blank(printed, page.displayed(t.box), box, True)
    hi = channel_max(crop)
    for s in seals:  # a seal in a grey scan is as dark as a pen: see _clear_grey_seal
        level = _seal_ink_level(page, s)
        darker = hi < level - SEAL_PEN_DARKER
        if s.colour == "grey":
            _clear_grey_seal(dark, s, box, darker, page.px_per_mm)
        elif level > 0:
            # a coloured seal's ink darkens at its strokes' edges in a low-resolution or
            # blurred scan: within the seal only ink clearly darker than its own is a pen's
            dark[(_seal_radius(s, box, dark.shape) <= SEAL_RING_TO) & ~darker] = False
    strokes = _long_strokes(dark, char_h, page.px_per_mm, printed)
    ys, xs = np.nonzero(strokes)
    mm = page.px_per_mm
    area_mm2 = len(xs) / (mm * mm)
    if area_mm2 < 1.5:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    ink_box = (box[0] + x0, box[1] + y0, box[0] + x1 + 1, box[1] + y1 + 1)
    up = page.upright(ink_box)
    extent_mm = (up[2] - up[0]) / mm
    # a hand that signs rises and falls: ink a couple of mm tall is a rule's leftover
    height_mm = (up[3] - up[1]) / mm
    conf = (_sigmoid((extent_mm - 7.0) / 2.0) * _sigmoid((area_mm2 - 4.0) / 1.5)
            * _sigmoid((height_mm - SIGNATURE_MIN_HEIGHT_MM) / 0.4))
    return up, conf


def _long_strokes(dark: np.ndarray, char_h: float, px_per_mm: float,
                  printed: np.ndarray | None = None) -> np.ndarray:
    """The ink of connected strokes wider or taller than a character and not flat or a bare
    upright bar (a squiggle, not a glyph, a dot or a rule to sign on), straight lines taken out
    first (a stamp's frame, grey in a grey scan; a rule or a table); strokes lying mostly in
    printed (a mask of printed lines' boxes) are print."""
    ink = dark.astype(np.uint8)
    n_line = max(3, round(STRAIGHT_MM * px_per_mm))
    lines = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, n_line), np.uint8)) | cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, np.ones((n_line, 1), np.uint8))
    dark = dark & (cv2.dilate(lines, np.ones((5, 5), np.uint8)) == 0)
    joined = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    in_print = np.bincount(labels[printed], minlength=n) if printed is not None else np.zeros(n)
    keep = np.zeros(n, dtype=bool)
    for i in range(1, n):
        _, _, w, h, area = stats[i]
        long = w >= STROKE_LONG * char_h or h >= 1.5 * STROKE_LONG * char_h
        thin = max(1.0 * px_per_mm, 0.25 * char_h)
        flat = h < thin or w < thin
        keep[i] = long and not flat and in_print[i] <= 0.5 * area
    return keep[labels] & dark


def _pen_ink(crop: np.ndarray, paper: float, px_per_mm: float) -> np.ndarray:
    """Pixels dark enough to be pen or pencil: darker in every channel than the paper around
    them (the brightest within a few mm, no brighter than the page's paper: the light falls
    off across a phone's photo), and not the bright colour of stamp ink (a blue stamp's
    brightest channel is about 180, a blue ballpoint's about 110)."""
    hi = np.ascontiguousarray(channel_max(crop))
    win = max(3, round(PAPER_WINDOW_MM * px_per_mm) | 1)
    local = np.minimum(cv2.dilate(hi, cv2.getStructuringElement(cv2.MORPH_RECT, (win, win))), paper)
    chroma = hi - channel_min(crop)
    not_stamp = ~((chroma >= 40) & (hi >= STAMP_BRIGHT))
    strong = (hi < local.astype(np.int16) - SIGNATURE_DARKER) & not_stamp
    # A blurred or thin stroke is dark along its middle only: the fainter ink joined to it
    # is taken too (hysteresis), so that one stroke is not read as specks.
    weak = (hi < local.astype(np.int16) - PEN_FAINT_DARKER) & not_stamp
    # A stamp's ink darkens at its strokes' edges in a low-resolution scan: only ink as dark as
    # a pen's, or colourless, grows (else a stamped seal's glyphs grow into strokes)...
    seeds = strong & ((hi < PEN_SEED_BRIGHT) | (chroma < 40))
    # ...and only near itself: grown further, the blurred print of a label runs into one stroke
    reach = max(1, round(PEN_FAINT_REACH_MM * px_per_mm))
    near = cv2.dilate(seeds.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    n, labels = cv2.connectedComponents((weak & near).astype(np.uint8), connectivity=8)
    if n <= 1:
        return strong
    seeded = np.zeros(n, dtype=bool)
    seeded[labels[seeds]] = True
    seeded[0] = False
    return strong | seeded[labels]


def _printed(t: _Text) -> bool:
    """A line that reads as print: Chinese characters or several digits, read with confidence."""
    cjk = sum(1 for ch in t.text if "\u4e00" <= ch <= "\u9fff")
    digits = sum(1 for ch in t.text if ch.isdigit())
    return t.confidence >= 0.8 and (cjk >= 2 or digits >= 4)


def _blank(mask: np.ndarray, r: Rect, origin: Rect, value: bool = False) -> None:
    h, w = mask.shape
    x0, top = math.floor(max(0, r[0] - origin[0])), math.floor(max(0, r[1] - origin[1]))
    x1, bottom = math.floor(min(w, r[2] - origin[0] + 1)), math.floor(min(h, r[3] - origin[1] + 1))
    if x1 > x0 and bottom > top:
        mask[top:bottom, x0:x1] = value


def _seal_ink_level(page: _Page, s: SealHit) -> float:
    """The brightest channel of a seal's ink, typically (the median over the inked outer band
    of its ring); 0 when too little of the ring is seen to tell."""
    crop, box = page.crop(s.box)
    if crop.size == 0:
        return 0.0
    hi = channel_max(crop)
    band = np.zeros(hi.shape, dtype=np.uint8)
    centre = (round(s.cx - box[0]), round(s.cy - box[1]))
    cv2.ellipse(band, centre, (round(s.a), round(s.b)), s.angle, 0, 360, 255, -1)
    cv2.ellipse(band, centre, (round(s.a * 0.85), round(s.b * 0.85)), s.angle, 0, 360, 0, -1)
    if s.colour == "grey":
        ink = hi[(band > 0) & (hi < page.paper - SIGNATURE_DARKER)]
    else:  # the seal's coloured ink, bright in its own channel (a red seal's R about 220)
        chroma = hi.astype(np.int16) - channel_min(crop)
        ink = hi[(band > 0) & (chroma >= 40)]
    return float(np.median(ink)) if ink.size >= 50 else 0.0


def _seal_radius(s: SealHit, origin: Rect, shape: tuple[int, ...]) -> np.ndarray:
    """For each pixel of a crop at origin, its distance from the seal's centre in units of
    the seal's outline (1 on the outline, along every direction of an oval)."""
    h, w = shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    t = math.radians(s.angle)
    dx, dy = xs + origin[0] - s.cx, ys + origin[1] - s.cy
    u, v = dx * math.cos(t) + dy * math.sin(t), -dx * math.sin(t) + dy * math.cos(t)
    return np.sqrt((u / max(s.a, 1.0)) ** 2 + (v / max(s.b, 1.0)) ** 2)


def _clear_grey_seal(dark: np.ndarray, s: SealHit, origin: Rect, darker: np.ndarray, px_per_mm: float) -> None:
    """Clear a grey seal's own ink from dark (pen ink in a crop at origin), keeping darker
    (ink clearly darker than the seal's). The seal's ring and star are cleared whole; of the
    ink between them, pieces lying wholly in the band of the seal's name are its glyphs (run
    together along the arc in a blurred scan), and pieces reaching further in or out are pen
    strokes drawn across the seal."""
    rho = _seal_radius(s, origin, dark.shape)
    dark[((rho >= SEAL_RING_FROM) & (rho <= SEAL_RING_TO) | (rho < SEAL_STAR_TO)) & ~darker] = False
    inside = rho < SEAL_RING_FROM
    # a printed frame or rule under the seal (a stamp's box, a table), tilted with the scan:
    # the straight-line removal of _long_strokes takes only level ones
    segments = cv2.HoughLinesP((dark & inside).astype(np.uint8) * 255, 1, np.pi / 180, threshold=30,
                               minLineLength=max(10, round(SEAL_RULE_OF_RADIUS * min(s.a, s.b))), maxLineGap=2)
    if segments is not None:
        rules = np.zeros(dark.shape, dtype=np.uint8)
        width = max(3, round(SEAL_RULE_WIDTH_MM * px_per_mm))  # a blurred rule's whole width
        for x0, y0, x1, y1 in segments.reshape(-1, 4):
            if abs(y1 - y0) <= 0.2 * abs(x1 - x0) or abs(x1 - x0) <= 0.2 * abs(y1 - y0):
                cv2.line(rules, (int(x0), int(y0)), (int(x1), int(y1)), 1, width)
        dark[(rules > 0) & inside & ~darker] = False
    n, labels = cv2.connectedComponents((dark & inside).astype(np.uint8), connectivity=8)
    if n <= 1:
        return
    lowest = np.full(n, np.inf)
    np.minimum.at(lowest, labels[inside], rho[inside])
    glyphs = lowest >= SEAL_NAME_FROM
    glyphs[0] = False
    dark[glyphs[labels] & inside & ~darker] = False


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))
