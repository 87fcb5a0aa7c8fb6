"""A scanned page's pixels without a render: its one image, decoded and scaled.

Most uploaded scans are a page holding one JPEG that fills it. pdfium renders such a page by
decoding the image and stretching it with its own resampler, 40-100 ms for an A4 page at
300 dpi; the same decode (pdfium's, so the same colour handling) and OpenCV's bilinear resize
take 12-20 ms and give the same pixels to within a level or two. Anything the render would do
differently -- another object on the page, a clip, a mask or soft mask, a decode array, a
stencil, a placement that is not the whole page, an unusual colour space, an image far larger
than the render -- takes the render.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# The image must fill the page's crop box to within this (points).
PLACEMENT_TOLERANCE = 0.5
# Past this many times the render's pixels the image is left to pdfium, which can decode a
# JPEG at a fraction of its size instead of holding all of it.
MAX_PIXELS_OVER_RENDER = 4.0
_COLOUR_SPACES = {pdfium_c.FPDF_COLORSPACE_DEVICERGB: 24, pdfium_c.FPDF_COLORSPACE_DEVICEGRAY: 8}
# What in an image's dictionary makes the render differ from the decoded pixels
_RENDER_ONLY_KEYS = ("SMask", "Mask", "ImageMask", "Decode", "SMaskInData")
_TURNS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def scaled_page_image(pdf_page: pdfium.PdfPage, miner_page: Any, scale: float) -> np.ndarray | None:
    """The page as pdfium would render it at scale (an RGB array in the displayed frame), made
    from its one image; None when the page is not simply one plain image filling it, or its
    image cannot be decoded (the render draws what it can of a broken stream, where pdfium's
    image decode gives up)."""
    try:
        return _scaled(pdf_page, miner_page, scale)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - the render is the answer for whatever this path refuses
        return None


def _scaled(pdf_page: pdfium.PdfPage, miner_page: Any, scale: float) -> np.ndarray | None:
    image = _sole_image(pdf_page)
    if image is None or not _plain_image_dict(miner_page, image):
        return None
    rotation = pdf_page.get_rotation() % 360
    if rotation not in (0, 90, 180, 270):
        return None
    width, height = pdf_page.get_size()  # displayed
    if rotation in (90, 270):
        width, height = height, width
    # pypdfium2's render size for this scale, before the page's /Rotate turns it
    out_w, out_h = math.ceil(width * scale), math.ceil(height * scale)
    px_w, px_h = image.get_px_size()
    if px_w * px_h > MAX_PIXELS_OVER_RENDER * out_w * out_h:
        return None
    # pdfium's decode; the bitmap is freed with its last reference (pypdfium2 warns against
    # closing one that pdfium made), and the resize copies out of it
    bitmap = image.get_bitmap(render=False)
    pixels = bitmap.to_numpy()
    if pixels.shape[:2] != (px_h, px_w):
        return None
    shrink = px_w > out_w or px_h > out_h
    scaled = cv2.resize(pixels, (out_w, out_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    rgb = _to_rgb(scaled, bitmap.mode)
    if rgb is None:
        return None
    return cv2.rotate(rgb, _TURNS[rotation]) if rotation else rgb


def _sole_image(pdf_page: pdfium.PdfPage) -> Any:
    """The page's image object when it is the only object, unclipped, unblended, upright and
    filling the crop box; else None."""
    if pdfium_c.FPDFPage_CountObjects(pdf_page.raw) != 1:
        return None
    obj = next(iter(pdf_page.get_objects(max_depth=0)), None)
    if obj is None or obj.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    left, bottom, right, top = crop = pdf_page.get_cropbox()
    if pdfium_c.FPDFPageObj_HasTransparency(obj.raw) or not _clip_keeps(obj, crop):
        return None
    a, b, c, d, e, f = obj.get_matrix().get()
    if abs(b) > 1e-6 or abs(c) > 1e-6 or a <= 0 or d <= 0:
        return None
    if max(abs(e - left), abs(f - bottom), abs(e + a - right), abs(f + d - top)) > PLACEMENT_TOLERANCE:
        return None
    meta = pdfium_c.FPDF_IMAGEOBJ_METADATA()
    if not pdfium_c.FPDFImageObj_GetImageMetadata(obj.raw, pdf_page.raw, ctypes.byref(meta)):
        return None
    if _COLOUR_SPACES.get(meta.colorspace) != meta.bits_per_pixel:
        return None
    return obj


def _clip_keeps(obj: Any, crop: tuple[float, float, float, float]) -> bool:
    """Whether the object's clip, if any, leaves the whole crop box showing: none (pdfium
    gives an empty clip as -1 paths), or upright rectangles around it."""
    clip = pdfium_c.FPDFPageObj_GetClipPath(obj.raw)
    if not clip:
        return True
    paths = pdfium_c.FPDFClipPath_CountPaths(clip)
    if paths <= 0:
        return True
    left, bottom, right, top = crop
    for i in range(paths):
        xs, ys = [], []
        for j in range(pdfium_c.FPDFClipPath_CountPathSegments(clip, i)):
            segment = pdfium_c.FPDFClipPath_GetPathSegment(clip, i, j)
            if pdfium_c.FPDFPathSegment_GetType(segment) not in (pdfium_c.FPDF_SEGMENT_LINETO, pdfium_c.FPDF_SEGMENT_MOVETO):
                return False
            x, y = ctypes.c_float(), ctypes.c_float()
            if not pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y)):
                return False
            xs.append(x.value)
            ys.append(y.value)
        if not xs or not _two_values(xs) or not _two_values(ys):
            return False  # not an upright rectangle
        tol = PLACEMENT_TOLERANCE
        if min(xs) > left + tol or max(xs) < right - tol or min(ys) > bottom + tol or max(ys) < top - tol:
            return False
    return True


def _two_values(values: list[float]) -> bool:
    lo, hi = min(values), max(values)
    return all(abs(v - lo) < 0.01 or abs(v - hi) < 0.01 for v in values)


def _plain_image_dict(miner_page: Any, image: Any) -> bool:
    """pdfium does not tell an image's masks or decode array: the page's one XObject, as
    pdfminer parsed it, must be an image of the same size without them."""
    from pdfminer.pdftypes import resolve1
    from pdfminer.psparser import LIT

    try:
        xobjects = resolve1((getattr(miner_page, "resources", None) or {}).get("XObject"))
        if not isinstance(xobjects, dict) or len(xobjects) != 1:
            return False
        stream = resolve1(next(iter(xobjects.values())))
        attrs = getattr(stream, "attrs", None)
        if not isinstance(attrs, dict) or resolve1(attrs.get("Subtype")) is not LIT("Image"):
            return False
        if any(key in attrs for key in _RENDER_ONLY_KEYS):
            return False
        return (resolve1(attrs.get("Width")), resolve1(attrs.get("Height"))) == tuple(image.get_px_size())
    except Exception:  # noqa: BLE001 - a dictionary pdfminer cannot resolve: take the render
        return False


def _to_rgb(pixels: np.ndarray, mode: str) -> np.ndarray | None:
    if mode == "BGR":
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    if mode in ("BGRA", "BGRX"):
        return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB)
    if mode == "L":
        return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB)
    return None
