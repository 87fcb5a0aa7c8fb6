"""A scanned page's image, decoded and scaled, stands in for pdfium's render only where it
gives the render's pixels; every other page is rendered."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from pipeline.pages import _pdfminer_pages, _render_array, render_dpi
from pipeline.scan_image import scaled_page_image

A4 = (595.2756, 841.8898)


def _scan(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A page-like picture: text-sized strokes, a red ring, a grey wash, so that a resampler's
    differences would show at edges."""
    rng = np.random.default_rng(5)
    im = Image.new("RGB", size, (246, 243, 236))
    d = ImageDraw.Draw(im)
    w, h = size
    for i in range(40):
        y = int(h * 0.05 + i * h * 0.022)
        d.rectangle([int(w * 0.1), y, int(w * 0.1 + rng.integers(w // 4, w // 2)), y + max(2, h // 300)],
                    fill=(30, 30, 30))
    d.ellipse([int(w * 0.55), int(h * 0.6), int(w * 0.85), int(h * 0.6 + w * 0.3)], outline=(200, 40, 40),
              width=max(3, w // 120))
    return im.convert(mode)


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _pdf(draw, size=A4, rotate: int = 0) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    if rotate:
        c.setPageRotation(rotate)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _both(data: bytes, dpi: int = 300) -> tuple[np.ndarray | None, np.ndarray]:
    """(the fast path's pixels or None, pdfium's render) of page 1."""
    doc = pdfium.PdfDocument(data)
    page = doc[0]
    try:
        w, h = page.get_size()
        fast = scaled_page_image(page, _pdfminer_pages(data, 1)[0], render_dpi(w, h, dpi) / 72)
        return fast, _render_array(page, dpi)  # no pdfminer page: pdfium renders
    finally:
        page.close()
        doc.close()


def _close(fast: np.ndarray, rendered: np.ndarray) -> None:
    assert fast.shape == rendered.shape and fast.dtype == rendered.dtype
    diff = np.abs(fast.astype(np.int16) - rendered.astype(np.int16))
    assert diff.mean() < 1.0 and np.percentile(diff, 99.9) <= 3, (diff.mean(), diff.max())


@pytest.mark.parametrize("pixels, mode", [((1654, 2339), "RGB"), ((1240, 1754), "L"), ((3508, 4961), "RGB")],
                         ids=["200dpi-colour", "150dpi-grey", "600dpi-shrunk"])
def test_a_page_of_one_jpeg_gives_the_renders_pixels(pixels, mode):
    jpeg = _jpeg(_scan(pixels, mode))
    data = _pdf(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1]))
    fast, rendered = _both(data)
    assert fast is not None
    _close(fast, rendered)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_a_turned_page_is_turned_as_pdfium_turns_it(rotate):
    jpeg = _jpeg(_scan((1654, 2339)))
    # reportlab's page size is the displayed one; its MediaBox stays portrait
    displayed = (A4[1], A4[0]) if rotate in (90, 270) else A4
    data = _pdf(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1]),
                size=displayed, rotate=rotate)
    fast, rendered = _both(data)
    assert fast is not None
    assert fast.shape[0] < fast.shape[1] if rotate in (90, 270) else fast.shape[0] > fast.shape[1]
    _close(fast, rendered)


def test_a_pdf_pillow_wrote_is_read_the_same():
    buf = io.BytesIO()
    _scan((1654, 2339)).save(buf, "PDF", resolution=200.0)
    fast, rendered = _both(buf.getvalue())
    assert fast is not None
    _close(fast, rendered)


def _rendered_only(draw) -> None:
    fast, _ = _both(_pdf(draw))
    assert fast is None


def test_a_page_with_more_than_its_image_is_rendered():
    jpeg = _jpeg(_scan((1240, 1754)))

    def image_and_text(c):
        c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1])
        c.drawString(50, 50, "typed caption")

    _rendered_only(image_and_text)


def test_an_image_not_filling_the_page_is_rendered():
    jpeg = _jpeg(_scan((1240, 1754)))
    _rendered_only(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg)), 20, 20, width=A4[0] - 40, height=A4[1] - 40))


def test_an_image_with_a_soft_mask_is_rendered():
    im = _scan((620, 877)).convert("RGBA")
    alpha = Image.new("L", im.size, 255)
    ImageDraw.Draw(alpha).rectangle([0, 0, 300, 300], fill=0)
    im.putalpha(alpha)
    _rendered_only(lambda c: c.drawImage(ImageReader(im), 0, 0, width=A4[0], height=A4[1], mask="auto"))


def test_a_clipped_image_is_rendered():
    jpeg = _jpeg(_scan((1240, 1754)))

    def clipped(c):
        path = c.beginPath()
        path.circle(A4[0] / 2, A4[1] / 2, 200)
        c.clipPath(path, stroke=0)
        c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1])

    _rendered_only(clipped)


def test_read_pages_reads_a_page_the_fast_path_takes(rapid):
    """The page loop takes the fast path for a page of one JPEG and reads its words."""
    from pipeline.pages import read_pages

    im = Image.new("RGB", (1654, 2339), "white")
    from fixtures.fonts import pil_font, scan_face_keys

    ImageDraw.Draw(im).text((200, 300), "此件与原件相符", fill="black", font=pil_font(scan_face_keys()[0], 90))
    jpeg = _jpeg(im)
    data = _pdf(lambda c: c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=A4[0], height=A4[1]))
    fast, _ = _both(data)
    assert fast is not None
    (page,) = read_pages(data, rapid)
    assert "此件与原件相符" in "".join(line.text for line in page.lines)


def test_the_reading_cache_key_covers_the_modules_the_reading_imports():
    """A cached page reading is keyed on the code that made it; a module the reading imports
    (this one, scan_image.py, was not in the hand-kept list) must be in the key."""
    from pipeline.cache import reader_sources

    names = {p.name for p in reader_sources()}
    assert {"pages.py", "ocr.py", "reread.py", "scan_image.py", "model.py", "extractors"} <= names
    assert not names & {"runner.py", "cli.py", "html_report.py"}  # a report's code, not the reading's


@pytest.mark.parametrize("damage", ["no_start_marker", "garbage"])
def test_a_page_whose_image_will_not_decode_is_still_read(damage, rapid):
    """A broken JPEG stream: the fast path steps aside, pdfium's render draws what it can (a
    blank page) and the document is read, not refused."""
    from pipeline.pages import read_pages

    buf = io.BytesIO()
    _scan((1240, 1754)).save(buf, "PDF", resolution=150.0)
    data = buf.getvalue()
    start, end = data.find(b"\xff\xd8"), data.find(b"\xff\xd9")
    broken = (b"\x00\x00" + data[start + 2:end + 2] if damage == "no_start_marker"
              else bytes(np.random.default_rng(1).integers(0, 256, end + 2 - start, dtype=np.uint8)))
    data = data[:start] + broken + data[end + 2:]
    fast, rendered = _both(data)
    assert fast is None and rendered.shape == (3508, 2481, 3)
    (page,) = read_pages(data, rapid)
    assert page.lines == ()
