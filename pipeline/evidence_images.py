"""Page images and evidence crops for the HTML reports, rendered from the real PDF.

Called right after a submission is checked, while its bytes are still in memory
(Prechecker.images_out, set by run_batch), so the PDF is never read twice. Writes, under
OUT/<id>/:
- page-<n>.jpg: every page read, at PAGE_DPI (the thumbnail and the "full page" link);
- finding-<i>.png: for the i-th finding (from 1) that has a page and a box, the region
  around the box at CROP_DPI with the box highlighted;
- field-<key>.png: the same for the best candidate of each extracted field;
- images.json: the manifest the HTML writer reads (page sizes in points, file names).

With mask_id the middle eight characters of every ID number the extractors found
(chars 7-14: the birth date) are painted over in every image, as the reports show
500101********1234.

Cheap by design: one render per page (pdfium, at CROP_DPI only when a crop is cut from that
page), crops cut from it with PIL; far below the OCR time of a page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from .labels import CODE_FIELDS
from .model import Box, Candidate, Report, Severity
from .pages import render_dpi
from .report import EXTRACTED_FIELDS, write_atomic

log = logging.getLogger(__name__)

PAGE_DPI = 100
CROP_DPI = 150
JPEG_QUALITY = 78
# Context around a box, in points: labels stand left of their values (身份证号：...); above
# and below, a little less than half a line, so that neighbouring lines are not cut in half.
CROP_LEFT, CROP_RIGHT = 110.0, 50.0
CROP_VERTICAL = 0.45  # of the box's height
CROP_MIN_VERTICAL = 4.0
CROP_MIN_WIDTH = 300.0
MANIFEST = "images.json"
# Changed whenever the drawing of pages or crops changes: the images kept are drawn anew.
IMAGES_VERSION = "1"

HIGHLIGHT = {  # outline RGB, fill RGBA
    Severity.ERROR: ((211, 47, 47), (255, 235, 59, 70)),
    Severity.WARNING: ((230, 126, 0), (255, 235, 59, 70)),
    Severity.INFO: ((25, 118, 210), (144, 202, 249, 60)),
}
MASK_FILL = (90, 90, 90)


def image_dir(out: Path, submission: str) -> Path:
    return out / submission


def read_manifest(out: Path, submission: str) -> dict | None:
    """The manifest written for a submission, or None when no images were made."""
    path = image_dir(out, submission) / MANIFEST
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class _Crop:
    name: str  # file name
    page: int
    box: Box
    severity: Severity


def _crops(report: Report) -> tuple[list[tuple[int, _Crop]], list[tuple[str, _Crop]]]:
    ev = report.evidence
    findings = []
    for i, f in enumerate(report.findings, 1):
        if f.page is not None and f.bbox is not None:
            findings.append((i, _Crop(f"finding-{i}.png", f.page, f.bbox, f.severity)))
        elif ev is not None and f.code in CODE_FIELDS and f.severity is not Severity.INFO:
            # A finding about a field that names no place (an honour the form declares, a
            # grade read from several places): show where the value it quotes was read.
            cand = _quoted(getattr(ev, EXTRACTED_FIELDS[CODE_FIELDS[f.code]]), f.found)
            if cand is not None:
                assert cand.page is not None and cand.bbox is not None
                findings.append((i, _Crop(f"finding-{i}.png", cand.page, cand.bbox, f.severity)))
    fields = []
    if ev is not None:
        for key, attr in EXTRACTED_FIELDS.items():
            cands: tuple[Candidate, ...] = getattr(ev, attr)
            best = next((c for c in cands if c.page is not None and c.bbox is not None), None)
            if best is not None:
                assert best.page is not None and best.bbox is not None
                fields.append((key, _Crop(f"field-{key}.png", best.page, best.bbox, Severity.INFO)))
    return findings, fields


def _quoted(cands: tuple[Candidate, ...], found: str | None) -> Candidate | None:
    """The candidate with a place whose value a finding quotes as found (the best one when it
    quotes nothing)."""
    placed = [c for c in cands if c.page is not None and c.bbox is not None]
    if not found:
        return placed[0] if placed else None
    return next((c for c in placed if c.value == found or c.value in found.split("、")), None)


def id_number_boxes(report: Report) -> dict[int, list[Box]]:
    """The boxes, per page, of the birth-date part (chars 7-14) of every ID number read."""
    out: dict[int, list[Box]] = {}
    ev = report.evidence
    if ev is None:
        return out
    for c in ev.id_numbers:
        if c.page is None or c.bbox is None:
            continue
        b = c.bbox
        n = max(len(c.value), 18)
        step = b.width / n
        out.setdefault(c.page, []).append(Box(b.x0 + 6 * step, b.top, b.x0 + 14 * step, b.bottom))
    return out


def write_evidence_images(out: Path, report: Report, pdf: bytes, *, mask_id: bool = False) -> dict | None:
    """Render the page images and crops of one checked submission; never raises (a failed
    render costs the report its pictures, not the batch its run)."""
    if not report.pages or not report.page_details:
        return None
    started = time.perf_counter()
    try:
        manifest = _write(out, report, pdf, mask_id)
    except Exception as exc:
        log.warning("%s: page images not rendered (%s)", report.submission, type(exc).__name__)
        log.debug("details", exc_info=True)
        return None
    manifest["seconds"] = round(time.perf_counter() - started, 4)
    write_atomic(image_dir(out, report.submission) / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    report.stages["images"] = manifest["seconds"]
    return manifest


def _write(out: Path, report: Report, pdf: bytes, mask_id: bool) -> dict:
    folder = image_dir(out, report.submission)
    folder.mkdir(parents=True, exist_ok=True)
    findings, fields = _crops(report)
    by_page: dict[int, list[_Crop]] = {}
    for _, c in findings + fields:
        by_page.setdefault(c.page, []).append(c)
    masks = id_number_boxes(report) if mask_id else {}
    pages: dict[str, dict] = {}
    before = (read_manifest(out, report.submission) or {}).get("pages", {})
    pdf_hash = hashlib.sha256(pdf).hexdigest()
    doc = pdfium.PdfDocument(pdf)
    try:
        numbers = [d.page for d in report.page_details if 1 <= d.page <= len(doc)]
        for n in numbers:
            key = _page_key(pdf_hash, n, by_page.get(n, []), masks.get(n, []))
            kept = before.get(str(n))
            if kept and kept.get("key") == key and _files_exist(folder, kept, by_page.get(n, [])):
                pages[str(n)] = kept  # a re-check after a rules change: the same images again
                continue
            page = doc[n - 1]
            w, h = page.get_size()
            want = CROP_DPI if n in by_page else PAGE_DPI
            dpi = render_dpi(w, h, want)
            image = page.render(scale=dpi / 72).to_pil()
            page.close()
            if image.mode != "RGB":
                image = image.convert("RGB")
            k = dpi / 72
            for m in masks.get(n, []):
                ImageDraw.Draw(image).rectangle(_px(m, k), fill=MASK_FILL)
            for c in by_page.get(n, []):
                _save(_crop_image(image, k, w, h, c.box, c.severity), folder / c.name, optimize=False)
            page_dpi = min(dpi, render_dpi(w, h, PAGE_DPI))
            if page_dpi < dpi:
                size = (max(1, round(image.width * page_dpi / dpi)), max(1, round(image.height * page_dpi / dpi)))
                image = image.resize(size, Image.Resampling.BILINEAR)
            name = f"page-{n}.jpg"
            _save(image, folder / name, quality=JPEG_QUALITY)
            pages[str(n)] = {"file": name, "width": round(w, 1), "height": round(h, 1),
                             "pixels": [image.width, image.height], "key": key}
    finally:
        doc.close()
    return {
        "submission": report.submission,
        "page_dpi": PAGE_DPI,
        "crop_dpi": CROP_DPI,
        "masked": mask_id,
        "pages": pages,
        "findings": {str(i): {"file": c.name, "page": c.page, "bbox": c.box.as_list()}
                     for i, c in findings if str(c.page) in pages},
        "fields": {key: {"file": c.name, "page": c.page} for key, c in fields if str(c.page) in pages},
    }


def _page_key(pdf_hash: str, n: int, crops: list[_Crop], masks: list[Box]) -> str:
    """What a page's images are made of: the PDF, the page, the crops cut from it and the
    masks painted on it, and how they are drawn. The same key, the same files: a re-check
    after a rules change renders only the pages whose findings moved."""
    parts = [IMAGES_VERSION, pdf_hash, str(n), f"{PAGE_DPI}:{CROP_DPI}:{JPEG_QUALITY}"]
    parts += [f"{c.name}:{c.box.as_list()}:{c.severity.value}" for c in crops]
    parts += [f"mask:{m.as_list()}" for m in masks]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def _save(image: Image.Image, path: Path, **options) -> None:
    """Written then renamed: a run killed mid-write leaves no half image for the next to keep."""
    tmp = path.with_name(f".{path.name}.tmp")
    image.save(tmp, format=path.suffix.lstrip(".").upper().replace("JPG", "JPEG"), **options)
    os.replace(tmp, path)


def _files_exist(folder: Path, page: dict, crops: list[_Crop]) -> bool:
    return all((folder / name).is_file() for name in [page.get("file", ""), *(c.name for c in crops)])


def _px(box: Box, k: float) -> tuple[int, int, int, int]:
    return (int(box.x0 * k), int(box.top * k), round(box.x1 * k), round(box.bottom * k))


def crop_region(box: Box, width: float, height: float) -> Box:
    """The region of a page shown around a box: some context, the label on its left."""
    x0, x1 = box.x0 - CROP_LEFT, box.x1 + CROP_RIGHT
    if x1 - x0 < CROP_MIN_WIDTH:
        extra = (CROP_MIN_WIDTH - (x1 - x0)) / 2
        x0, x1 = x0 - extra, x1 + extra
    margin = max(CROP_MIN_VERTICAL, CROP_VERTICAL * box.height)
    top, bottom = box.top - margin, box.bottom + margin
    return Box(max(0.0, x0), max(0.0, top), min(width, x1), min(height, bottom))


def _crop_image(image: Image.Image, k: float, width: float, height: float, box: Box,
                severity: Severity) -> Image.Image:
    region = crop_region(box, width, height)
    left, top, right, bottom = _px(region, k)
    right, bottom = max(right, left + 1), max(bottom, top + 1)
    crop = image.crop((left, top, right, bottom)).convert("RGBA")
    outline, fill = HIGHLIGHT[severity]
    pad = 3
    bx0, by0, bx1, by1 = _px(box, k)
    rect = (bx0 - left - pad, by0 - top - pad, bx1 - left + pad, by1 - top + pad)
    layer = Image.new("RGBA", crop.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rectangle(rect, fill=fill)
    crop = Image.alpha_composite(crop, layer)
    ImageDraw.Draw(crop).rectangle(rect, outline=outline, width=3)
    return crop.convert("RGB")
