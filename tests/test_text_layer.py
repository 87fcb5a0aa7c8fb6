"""The text layer read by pdfium (pipeline.pages.PdfiumTextLayer) gives what pdfplumber gave:
the same lines, char boxes within a tenth of a point, the same verdict on scans."""

from __future__ import annotations

import io

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from pipeline.pages import (
    PdfiumTextLayer,
    has_usable_text_layer,
    image_coverage,
    read_pages,
    read_text_layer,
)

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def _page(draw, rotate: int = 0) -> bytes:
    pdfmetrics.registerFont(TTFont("WQY", FONT, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    draw(c)
    c.showPage()
    c.save()
    if not rotate:
        return buf.getvalue()
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(buf.getvalue())).pages[0].rotate(rotate))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _cjk_and_latin(c) -> None:
    c.setFont("WQY", 14)
    c.drawString(72, 700, "姓名：张伟明  公民身份号码：500101199003071234")
    c.drawString(72, 670, "职业技能等级：技师 证书编号 S000050123456232000123")
    c.setFont("Helvetica", 10)
    c.drawString(72, 640, "Issued 2021-06-18 by Chongqing HRSS, No. 12 (copy)")
    c.saveState()
    c.scale(1.5, 1.5)
    c.setFont("WQY", 10)
    c.drawString(50, 380, "放大的文字：重庆市技术能手")
    c.restoreState()


def _sideways_text(c) -> None:
    c.setFont("WQY", 14)
    c.saveState()
    c.translate(300, 200)
    c.rotate(90)
    c.drawString(0, 0, "竖排的一行：公民身份号码500101199003071234")
    c.drawString(0, -30, "第二行 Second line 2021年06月18日")
    c.restoreState()


def _text_over_image(share: float):
    def draw(c) -> None:
        img = Image.fromarray(np.full((200, 300, 3), 230, dtype=np.uint8))
        w, h = A4[0] * share**0.5, A4[1] * share**0.5
        c.drawImage(ImageReader(img), 40, 60, width=w, height=h)
        _cjk_and_latin(c)

    return draw


CASES = {
    "cjk_latin": (_cjk_and_latin, 0),
    "cjk_latin_rotate90": (_cjk_and_latin, 90),
    "cjk_latin_rotate180": (_cjk_and_latin, 180),
    "cjk_latin_rotate270": (_cjk_and_latin, 270),
    "sideways_text": (_sideways_text, 0),
    "sideways_text_rotate90": (_sideways_text, 90),
    "small_image": (_text_over_image(0.1), 0),
    "scan_with_text": (_text_over_image(0.8), 0),
    "scan_with_text_rotate90": (_text_over_image(0.8), 90),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_pdfium_text_layer_equals_pdfplumbers(case):
    draw, rotate = CASES[case]
    data = _page(draw, rotate)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0]
        usable, coverage, old = has_usable_text_layer(page), image_coverage(page), read_text_layer(page, 1)
    doc = pdfium.PdfDocument(data)
    try:
        layer = PdfiumTextLayer(doc[0])
        assert layer.usable() == usable
        assert layer.image_coverage() == pytest.approx(coverage, abs=1e-3)
        new = layer.read(1)
    finally:
        doc.close()
    assert (new.width, new.height, new.rotation) == pytest.approx((old.width, old.height, old.rotation), abs=1e-3)
    assert [line.text for line in new.lines] == [line.text for line in old.lines]
    for a, b in zip(old.lines, new.lines):
        assert len(a.char_boxes) == len(b.char_boxes)
        for ca, cb in zip(a.char_boxes, b.char_boxes):
            assert (cb.x0, cb.top, cb.x1, cb.bottom) == pytest.approx((ca.x0, ca.top, ca.x1, ca.bottom), abs=0.3)


def test_read_pages_takes_the_text_layer_and_sends_a_scan_with_text_to_ocr():
    text = _page(_cjk_and_latin)
    page = read_pages(text, engine=None)[0]
    assert page.text_layer and "500101199003071234" in page.text
    from pipeline.ocr import OcrEngineUnavailable

    with pytest.raises(OcrEngineUnavailable, match="page 1 .*needs OCR"):
        read_pages(_page(_text_over_image(0.8)), engine=None)


# --- the image helpers made faster with cv2 give numpy's bytes ------------------------------


def test_channel_reductions_colour_removal_and_bgr_equal_numpys():
    from pipeline.ocr import _rgb_to_bgr
    from pipeline.pages import channel_max, channel_min, remove_colour

    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    views = [rgb, rgb[10:50, 20:70], rgb[::8, ::8], rgb[:, :1], rgb[:1], rgb[3:3], rgb[:, ::-1], rgb[:, :, ::-1]]
    for v in views:
        assert np.array_equal(channel_max(v), v.max(axis=2)) and channel_max(v).dtype == np.uint8
        assert np.array_equal(channel_min(v), v.min(axis=2))
        grey = v.max(axis=2)
        assert np.array_equal(remove_colour(v), np.dstack((grey, grey, grey)))
        bgr = _rgb_to_bgr(v)
        assert np.array_equal(bgr, v[:, :, ::-1]) and bgr.flags.c_contiguous


def test_render_array_equals_the_pil_render():
    from pipeline.pages import _render, _render_array

    doc = pdfium.PdfDocument(_page(_text_over_image(0.5)))
    try:
        assert np.array_equal(_render_array(doc[0], 50), np.asarray(_render(doc[0], 50)))
    finally:
        doc.close()
