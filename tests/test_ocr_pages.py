"""The page-reading stage on real pages: PDFs built here, real text layers, real OCR.

Scanned pages are drawn with PIL at 200 dpi (A4, 1654 x 2339 px) with a translucent red seal
over one field, and embedded as the only content of a PDF page. Expected boxes are the
drawn pixel boxes converted to points (x 72/200).
"""

from __future__ import annotations

import io

import numpy as np
import pdfplumber
import pytest
from PIL import Image, ImageDraw, ImageFont
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from pipeline.model import Box
from pipeline.ocr import (
    OcrEngineUnavailable,
    TesseractEngine,
    join_words,
    lines_from_tesseract,
    make_engine,
    normalise_text,
)
from pipeline.pages import (
    has_usable_text_layer,
    pixels_to_points,
    read_pages,
    remove_colour,
    render_page,
    rotate_box,
    split_box,
    unrotate_box,
    usable_text_layer,
)

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DPI = 200
A4_PX = (1654, 2339)
PT = 72 / DPI  # points per pixel


def id_number(first17: str) -> str:
    """Add the GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


ID = id_number("50010119900307123")
ID_LABEL = "公民身份号码："
NAME_LINE = "姓名：张伟明"
DATE = "2021年06月18日"
CERT_LINES = [
    ("职业技能等级证书", 80),
    (NAME_LINE, 48),
    ("性别：男", 48),
    (ID_LABEL + ID, 48),
    ("职业（工种）：焊工", 48),
    ("技能等级：高级技师", 48),
    ("证书编号：S000050000012345", 48),
    ("发证日期：" + DATE, 48),
    ("评价机构：重庆市职业技能鉴定指导中心", 48),
]


def certificate_image(seal: bool) -> tuple[Image.Image, dict[str, tuple[int, int, int, int]]]:
    """A white A4 page at 200 dpi with certificate lines; pixel boxes of what was drawn
    (each line, and "ID" for the digits alone). The seal covers the date line."""
    img = Image.new("RGB", A4_PX, "white")
    draw = ImageDraw.Draw(img)
    drawn: dict[str, tuple[int, int, int, int]] = {}
    y = 300
    for text, size in CERT_LINES:
        font = ImageFont.truetype(FONT, size)
        draw.text((250, y), text, font=font, fill=(20, 20, 20))
        drawn[text] = draw.textbbox((250, y), text, font=font)
        if text.startswith(ID_LABEL):
            start = 250 + draw.textlength(ID_LABEL, font=font)
            drawn["ID"] = draw.textbbox((start, y), ID, font=font)
        y += int(size * 2.2)
    if seal:
        x0, top, x1, bottom = drawn["发证日期：" + DATE]
        cx, cy, r = (x0 + x1) // 2, (top + bottom) // 2, 170
        ink = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ring = ImageDraw.Draw(ink)
        ring.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(220, 30, 30, 210), width=12)
        ring.ellipse((cx - r + 30, cy - r + 30, cx + r - 30, cy + r - 30), fill=(230, 40, 40, 100))
        img = Image.alpha_composite(img.convert("RGBA"), ink).convert("RGB")
    return img, drawn


def image_pdf(images: list[Image.Image]) -> bytes:
    """A PDF whose pages are these images and nothing else."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return buf.getvalue()


def in_points(px: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return tuple(v * PT for v in px)  # type: ignore[return-value]


def assert_near(box: Box, expected: tuple[float, float, float, float], tol: float) -> None:
    got = (box.x0, box.top, box.x1, box.bottom)
    assert all(abs(g - e) <= tol for g, e in zip(got, expected)), f"box {got} not within {tol} pt of {expected}"


def line_with(page, needle: str):
    needle = normalise_text(needle)
    for line in page.lines:
        if needle in line.text:
            return line
    raise AssertionError(f"{needle!r} not read on page {page.page}:\n{page.text}")


# --- scanned pages, rapidocr -----------------------------------------------------------


@pytest.fixture(scope="module")
def certificate():
    return certificate_image(seal=True)


BAND_180 = (0, 600, A4_PX[0], 1400)  # ID line down to the sealed date and the issuer
BAND_270 = (0, 250, A4_PX[0], 800)  # title, name, sex and ID lines


@pytest.fixture(scope="module")
def scanned(rapid, certificate):
    """Scanned pages read by rapidocr: upright; turned 90° anticlockwise; and, as smaller
    pages to save time, a band of the certificate upside down and one turned 90° clockwise."""
    img, _ = certificate
    upside_down = img.crop(BAND_180).rotate(180)
    clockwise = img.crop(BAND_270).rotate(270, expand=True)
    pdf = image_pdf([img, img.rotate(90, expand=True), upside_down, clockwise])
    return read_pages(pdf, rapid, dpi=DPI)


def test_scanned_page_is_read_by_ocr_with_boxes_in_points(scanned, certificate):
    _, drawn = certificate
    page = scanned[0]
    assert (page.page, page.text_layer, page.ocr, page.rotation, page.image_dpi) == (1, False, "rapidocr", 0, DPI)
    assert page.width == pytest.approx(A4_PX[0] * PT, abs=1) and page.seconds > 0
    assert_near(line_with(page, NAME_LINE).box, in_points(drawn[NAME_LINE]), tol=5)
    id_line = line_with(page, ID)
    assert id_line.source == "ocr:rapidocr" and 0.5 < id_line.confidence <= 1
    assert_near(id_line.box, in_points(drawn[ID_LABEL + ID]), tol=5)
    start = id_line.text.index(ID)
    assert_near(id_line.span_box(start, start + len(ID)), in_points(drawn["ID"]), tol=8)


def test_field_under_red_seal_is_read(scanned):
    assert DATE in scanned[0].text


def test_page_scanned_sideways_is_read_upright(scanned, certificate):
    _, drawn = certificate
    page = scanned[1]
    # The scan was turned 90° anticlockwise, so it is read after turning it 90° clockwise.
    assert page.rotation == 90 and page.width == pytest.approx(A4_PX[1] * PT, abs=1)
    w = A4_PX[0] * PT  # the upright page's width: anticlockwise, (x, y) -> (y, w - x)
    for key, needle in ((ID_LABEL + ID, ID), (NAME_LINE, NAME_LINE)):
        x0, top, x1, bottom = in_points(drawn[key])
        assert_near(line_with(page, needle).box, (top, w - x1, bottom, w - x0), tol=5)
    id_line = line_with(page, ID)
    start = id_line.text.index(ID)
    x0, top, x1, bottom = in_points(drawn["ID"])
    assert_near(id_line.span_box(start, start + len(ID)), (top, w - x1, bottom, w - x0), tol=8)


def test_page_scanned_upside_down_is_read_upright(scanned, certificate):
    _, drawn = certificate
    page = scanned[2]
    assert page.rotation == 180 and normalise_text(DATE) in page.text
    w, h = A4_PX[0] * PT, (BAND_180[3] - BAND_180[1]) * PT  # (x, y) -> (w - x, h - y)

    def expected(key: str) -> tuple[float, float, float, float]:
        x0, top, x1, bottom = in_points(drawn[key])
        top, bottom = top - BAND_180[1] * PT, bottom - BAND_180[1] * PT
        return (w - x1, h - bottom, w - x0, h - top)

    id_line = line_with(page, ID)
    assert_near(id_line.box, expected(ID_LABEL + ID), tol=5)
    start = id_line.text.index(ID)
    assert_near(id_line.span_box(start, start + len(ID)), expected("ID"), tol=8)


def test_page_scanned_turned_clockwise_is_read_upright(scanned, certificate):
    _, drawn = certificate
    page = scanned[3]
    assert page.rotation == 270 and normalise_text(NAME_LINE) in page.text
    h = (BAND_270[3] - BAND_270[1]) * PT  # clockwise, (x, y) -> (h - y, x) in the band
    x0, top, x1, bottom = in_points(drawn[ID_LABEL + ID])
    top, bottom = top - BAND_270[1] * PT, bottom - BAND_270[1] * PT
    assert_near(line_with(page, ID).box, (h - bottom, x0, h - top, x1), tol=5)


def test_orientation_classifier_tells_upside_down_lines(rapid, certificate):
    img, drawn = certificate
    x0, top, x1, bottom = drawn[ID_LABEL + ID]
    crop = np.asarray(img)[top - 8 : bottom + 8, x0 - 8 : x1 + 8]
    labels = [label for label, _ in rapid.classify_orientation([crop, np.rot90(crop, 2)])]
    assert labels == ["0", "180"]


def test_colour_removal_keeps_black_and_drops_red():
    rgb = np.array([[[20, 20, 20], [220, 30, 30], [40, 60, 230]]], dtype=np.uint8)
    assert remove_colour(rgb)[0, :, 0].tolist() == [20, 220, 230]


# --- text layer ----------------------------------------------------------------------


def text_pdf(lines: list[str], size: float = 14, rotate: int = 0) -> bytes:
    """An A4 page with these lines in wqy-microhei, baselines at 100, 130, ... pt from the
    top; optionally shown rotated with /Rotate."""
    pdfmetrics.registerFont(TTFont("WQY", FONT, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("WQY", size)
    for i, text in enumerate(lines):
        c.drawString(72, A4[1] - 100 - 30 * i, text)
    c.showPage()
    c.save()
    if not rotate:
        return buf.getvalue()
    writer = PdfWriter()
    writer.add_page(PdfReader(buf).pages[0].rotate(rotate))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


NARRATIVE = ["候选人事迹材料", "姓名：王建国    性别：男", ID_LABEL + ID, "Grade ABC 技师 2021 年"]


def test_text_layer_page_is_read_without_ocr_with_char_boxes():
    page = read_pages(text_pdf(NARRATIVE), engine=None)[0]
    assert (page.text_layer, page.ocr, page.rotation, page.image_dpi) == (True, None, 0, None)
    assert [line.text for line in page.lines][0] == "候选人事迹材料"
    for line in page.lines:
        assert len(line.char_boxes) == len(line.text) and line.source == "text_layer" and line.confidence == 1.0
    id_line = line_with(page, ID)
    start = id_line.text.index(ID)
    box = id_line.span_box(start, start + len(ID))
    x0 = 72 + pdfmetrics.stringWidth(ID_LABEL, "WQY", 14)
    baseline = 100 + 30 * 2
    assert box.x0 == pytest.approx(x0, abs=1.5)
    assert box.x1 == pytest.approx(x0 + pdfmetrics.stringWidth(ID, "WQY", 14), abs=1.5)
    assert box.top < baseline < box.bottom and box.height == pytest.approx(14, abs=3)


def test_inserted_spaces_get_boxes_between_the_words():
    page = read_pages(text_pdf(NARRATIVE), engine=None)[0]
    line = line_with(page, "王建国")
    gap = line.text.index(" ", line.text.index("王建国"))
    before, space, after = line.char_boxes[gap - 1 : gap + 2]
    assert before.x1 <= space.x0 + 0.01 and space.x1 <= after.x0 + 0.01


def test_text_layer_page_shown_rotated_reads_in_order_in_the_displayed_frame():
    pdf = text_pdf([ID_LABEL + ID], size=20, rotate=90)
    page = read_pages(pdf, engine=None)[0]
    assert page.rotation == 270 and page.width > page.height  # shown landscape, text runs down
    assert page.text == normalise_text(ID_LABEL + ID)
    # Where the ink really is on the displayed (rendered) page, in points.
    ink = np.asarray(render_page(pdf, 1, 144).convert("L")) < 128
    rows, cols = np.nonzero(ink)
    k = 72 / 144
    box = page.lines[0].box
    assert box.x0 - 1 <= cols.min() * k and cols.max() * k <= box.x1 + 1
    assert box.top - 1 <= rows.min() * k and rows.max() * k <= box.bottom + 1
    assert box.height == pytest.approx((rows.max() - rows.min()) * k, abs=4)  # text runs down


def test_scan_with_thin_text_layer_is_ocred_and_needs_an_engine():
    img, _ = certificate_image(seal=False)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(img), 0, 0, width=A4[0], height=A4[1])
    c.setFont("Helvetica", 10)
    c.drawString(72, 20, "Scanned by office copier 2023-12-01")  # a thin layer: 30 chars
    c.showPage()
    c.save()
    with pdfplumber.open(io.BytesIO(buf.getvalue())) as pdf:
        assert not has_usable_text_layer(pdf.pages[0])
    with pytest.raises(OcrEngineUnavailable, match="page 1 .*needs OCR"):
        read_pages(buf.getvalue(), engine=None)


def test_kangxi_radicals_in_a_text_layer_are_folded():
    from extractors.textnorm import normalise

    assert normalise("⼯作单位：⼈⼒资源") == "工作单位:人力资源"


def test_usable_text_layer_thresholds():
    assert not usable_text_layer(9, 0.0)
    assert usable_text_layer(10, 0.0)
    assert not usable_text_layer(79, 0.9)
    assert not usable_text_layer(800, 0.5)  # a certificate photo pasted on a typed page
    assert usable_text_layer(800, 0.2)  # a narrative with a small portrait


def test_pages_are_numbered_from_one():
    pdf = text_pdf(NARRATIVE)
    assert [p.page for p in read_pages(pdf, None, pages=range(1, 2))] == [1]
    with pytest.raises(ValueError, match="numbered 1..1"):
        read_pages(pdf, None, pages=range(0, 1))


# --- tesseract -----------------------------------------------------------------------


def test_tesseract_reads_the_id_number_on_a_clean_page():
    img, drawn = certificate_image(seal=False)
    engine = TesseractEngine()  # raises OcrEngineUnavailable naming the Debian packages if missing
    page = read_pages(image_pdf([img]), engine, dpi=DPI)[0]
    assert (page.ocr, page.rotation) == ("tesseract", 0) and engine.version.startswith("5.")
    id_line = line_with(page, ID)
    assert id_line.source == "ocr:tesseract"
    assert_near(id_line.box, in_points(drawn[ID_LABEL + ID]), tol=5)


def test_tesseract_without_the_language_says_what_to_install():
    with pytest.raises(OcrEngineUnavailable, match="tesseract-ocr-chi-sim"):
        TesseractEngine(lang="xx_missing")


def test_tesseract_words_become_lines():
    data = {
        "text": ["", "姓名", "李晓燕", "ID", "500101", "X"],
        "conf": [-1, 90, 80, 95, 85, 75],
        "block_num": [1, 1, 1, 1, 1, 1],
        "par_num": [1, 1, 1, 1, 1, 1],
        "line_num": [0, 1, 1, 2, 2, 2],
        "left": [0, 10, 60, 10, 40, 90],
        "top": [0, 5, 6, 30, 31, 30],
        "width": [0, 40, 60, 20, 45, 10],
        "height": [0, 20, 20, 18, 18, 18],
    }
    lines = lines_from_tesseract(data)
    assert [line.text for line in lines] == ["姓名李晓燕", "ID 500101 X"]
    assert lines[0].box == (10.0, 5.0, 120.0, 26.0) and lines[0].confidence == pytest.approx(0.85)
    assert join_words(["技能", "2021", "年"]) == "技能2021年"


# --- engines, geometry ---------------------------------------------------------------


def test_make_engine_knows_two_names_and_loads_nothing():
    engine = make_engine("rapidocr", threads=2)
    assert engine.name == "rapidocr" and engine.version.startswith("3.10")
    assert make_engine("tesseract").name == "tesseract"
    with pytest.raises(ValueError, match="rapidocr, tesseract"):
        make_engine("paddle")


def test_traditional_and_japanese_forms_are_normalised_one_for_one():
    for raw, want in (("性別：男", "性别:男"), ("人力資源和社會保障庁", "人力资源和社会保障厅"),
                      ("職業資格證書", "职业资格证书"), ("全國技術能手", "全国技术能手"),
                      ("証書編號", "证书编号"), ("５００１０１１９９０Ｘ", "5001011990X")):
        assert normalise_text(raw) == want and len(raw) == len(want)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_unrotate_box_undoes_rotate_box(rotation):
    box = (10.0, 20.0, 110.0, 50.0)
    turned = rotate_box(box, rotation, 400, 300)
    assert unrotate_box(turned, rotation, 400, 300) == pytest.approx(box)


def test_unrotate_box_values():
    # A 400 x 300 image turned 90° clockwise is 300 x 400; its top-left corner came from
    # the original's bottom-left.
    assert unrotate_box((0, 0, 30, 100), 90, 400, 300) == (0, 270, 100, 300)
    assert unrotate_box((0, 0, 100, 30), 180, 400, 300) == (300, 270, 400, 300)
    assert unrotate_box((0, 0, 30, 100), 270, 400, 300) == (300, 0, 400, 30)
    # Checked against numpy: a pixel marked in the turned image lands in the box.
    img = np.zeros((300, 400), dtype=np.uint8)
    turned = np.rot90(img, k=-1).copy()
    turned[5, 7] = 1
    back = np.rot90(turned, k=1)
    y, x = (int(v[0]) for v in np.nonzero(back))
    x0, top, x1, bottom = unrotate_box((7, 5, 8, 6), 90, 400, 300)
    assert (x0, top, x1, bottom) == (x, y, x + 1, y + 1)


def test_pixels_to_points():
    assert pixels_to_points((200, 100, 400, 300), 200) == Box(72, 36, 144, 108)
    box = pixels_to_points((300, 0, 600, 30), 300)
    assert (box.x0, box.top, box.x1, box.bottom) == pytest.approx((72, 0, 144, 7.2))


def test_split_box_weighs_cjk_twice_a_digit():
    boxes = split_box((0, 0, 60, 10), "号12")
    assert [b[0] for b in boxes] == [0, 30, 45] and boxes[-1][2] == 60


def test_a_huge_page_is_rendered_at_a_bounded_size():
    from pipeline.pages import MAX_RENDER_SIDE, render_dpi

    assert render_dpi(595, 842, 300) == 300  # A4 as asked
    dpi = render_dpi(3024, 4032, 300)  # a phone photo pasted at 72 dpi: 42 x 56 inches
    assert 4032 * dpi / 72 <= MAX_RENDER_SIDE + 1


def test_a_short_name_the_angle_classifier_turns_over_is_still_read(rapid):
    """A two-character name alone on its row: rapidocr's angle classifier turns it over (at
    0.91 here), and the turned crop reads 一壶 (at 0.95), a wrong name that would be reported as
    a mismatch; 冯霞 in another font read as nothing. The page is upright, so a line read
    better as it was is kept as it was."""
    font = ImageFont.truetype(FONT, 50)
    img = Image.new("RGB", (1000, 300), (235, 235, 235))
    draw = ImageDraw.Draw(img)
    draw.text((450, 40), "李一", font=font, fill=(30, 30, 30))
    draw.text((200, 140), "身份证号：500241199306243345", font=ImageFont.truetype(FONT, 30), fill=(30, 30, 30))
    page = np.asarray(img)
    assert "李一" not in [line.text for line in rapid.read(page)]  # rapidocr's own reading: the slip
    assert [line.text for line in rapid.read_detected(rapid.detect(page))] == ["李一", "身份证号:500241199306243345"]


def test_pages_to_ocr_names_the_pages_without_a_usable_text_layer():
    from pipeline.pages import pages_to_ocr

    writer = PdfWriter()
    img, _ = certificate_image(seal=False)
    for pdf in (text_pdf(NARRATIVE), image_pdf([img]), text_pdf(["事迹"] * 3 + NARRATIVE)):
        writer.add_page(PdfReader(io.BytesIO(pdf)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    assert pages_to_ocr(out.getvalue()) == [2]
    assert pages_to_ocr(out.getvalue(), last=1) == []


def test_a_line_read_surely_after_its_turn_is_not_read_unturned_too(rapid, monkeypatch):
    """The lower words of a seal stand upside down on an upright page: the angle classifier
    turns them over and they read at 1.00. Such a line is not read a second time as it lay
    (about 25 ms a line); the short lines it turns wrongly read at 0.76 or less."""
    img = Image.new("RGB", (1000, 300), (235, 235, 235))
    ImageDraw.Draw(img).text((200, 40), "身份证号：500241199306243345", font=ImageFont.truetype(FONT, 30),
                             fill=(30, 30, 30))
    band = Image.new("RGB", (420, 70), (235, 235, 235))
    ImageDraw.Draw(band).text((10, 5), "技能等级认定专用", font=ImageFont.truetype(FONT, 44), fill=(30, 30, 30))
    img.paste(band.rotate(180), (300, 150))
    page = np.asarray(img)
    engine = rapid._engine()
    recognise, batches = engine.recognize_txt, []
    monkeypatch.setattr(engine, "recognize_txt", lambda crops: batches.append(len(crops)) or recognise(crops))
    lines = rapid.read_detected(rapid.detect(page))
    assert [line.text for line in lines] == ["身份证号:500241199306243345", "技能等级认定专用"]
    assert batches == [2]  # both lines in one pass, none read again


@pytest.mark.parametrize("shape", [(7, 5), (7, 5, 3), (7, 5, 4), (7, 5, 1)])
@pytest.mark.parametrize("rotation", [0, 90, 180, 270, 360, -90])
def test_turn_is_a_clockwise_quarter_turn_of_any_page_image(shape, rotation):
    from pipeline.pages import turn

    image = np.random.default_rng(3).integers(0, 255, shape, dtype=np.uint8)
    turned = turn(image, rotation)
    expected = np.rot90(image, k=-(rotation // 90) % 4)
    assert turned.shape == expected.shape and np.array_equal(turned, expected)
    assert turned.flags["C_CONTIGUOUS"]
    if rotation % 360 == 90:  # clockwise: the bottom-left pixel comes to the top-left
        assert turned[0, 0].tolist() == image[-1, 0].tolist()
