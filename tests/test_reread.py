"""A long number whose repeated digits the recogniser merged is read again, stretched."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr import OcrLine
from pipeline.reread import read_beside_lone_labels, read_unsure_numbers_again, redetect_number_lines, reread_numbers

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
NUMBER = "S000050000111232000111"


def tall_line(text: str, size: int = 30, height: float = 2.5) -> np.ndarray:
    """One line of text in a box much taller than the text (an OCR box that took in the space
    around the line): the recogniser's steps per digit fall and repeated digits merge."""
    font = ImageFont.truetype(FONT, size)
    w, h = int(font.getlength(text)) + 20, int(size * height)
    img = Image.new("L", (w, h), 255)
    ImageDraw.Draw(img).text((10, (h - size) // 2), text, font=font, fill=20)
    return np.asarray(img)


def counting(engine, calls: list):
    """An engine class whose read_line reads with engine and notes each call in calls."""

    class Counting:
        def read_line(self, image):
            calls.append(image.shape)
            return engine.read_line(image)

    return Counting


def counting_reads(engine, calls: list):
    """An engine class whose read (detection and recognition) reads with engine and notes
    each call in calls."""

    class Counting:
        def read(self, image):
            calls.append(image.shape)
            return engine.read(image)

    return Counting


def test_merged_digits_are_read_whole_when_stretched(engine):
    image = tall_line(NUMBER)
    text, conf = engine.read_line(np.stack([image] * 3, axis=2))
    assert text != NUMBER  # the merge this module is for
    [line] = reread_numbers(image, [OcrLine(text, (0, 0, image.shape[1], image.shape[0]), conf)], engine)
    assert line.text == NUMBER


def test_whole_numbers_and_plain_text_are_not_read_again(engine):
    calls = []
    Counting = counting(engine, calls)

    image = tall_line(NUMBER, height=1.6)
    lines = [OcrLine(NUMBER, (0, 0, image.shape[1], image.shape[0]), 0.99),
             OcrLine("职业技能等级证书", (0, 0, 50, 20), 0.99), OcrLine("2021年06月30日", (0, 0, 50, 20), 0.99)]
    assert reread_numbers(image, lines, Counting()) == lines
    assert calls == []


def test_a_worse_second_reading_is_not_kept(engine):
    blank = np.full((60, 400), 255, dtype=np.uint8)  # nothing there: the second read finds nothing
    line = OcrLine("S00005000012320001", (0, 0, 400, 60), 0.9)
    assert reread_numbers(blank, [line], engine) == [line]


def label_and_value(label: str, value: str, gap: int, size: int = 28) -> tuple[np.ndarray, tuple]:
    """A label and its value far apart on one row; returns the image and the label's box."""
    font = ImageFont.truetype(FONT, size)
    lw = int(font.getlength(label))
    vw = int(font.getlength(value))
    img = Image.new("L", (20 + lw + gap + vw + 40, size * 3), 255)
    draw = ImageDraw.Draw(img)
    draw.text((20, size), label, font=font, fill=20)
    draw.text((20 + lw + gap, size), value, font=font, fill=20)
    return np.asarray(img), (18, size - 2, 22 + lw, 2 * size + 4)


def test_a_value_the_detector_missed_beside_a_lone_label_is_read(engine):
    image, label_box = label_and_value("姓名：", "陈林", gap=90)
    lines = read_beside_lone_labels(image, [OcrLine("姓名：", label_box, 0.99)], engine)
    assert [line.text for line in lines] == ["姓名：", "陈林"]
    x0, top, x1, bottom = lines[1].box
    assert x0 > label_box[2] and top == label_box[1]


def test_nothing_is_read_beside_a_label_whose_value_was_read_or_that_stands_on_blank_paper(engine):
    calls = []
    Counting = counting(engine, calls)

    image, label_box = label_and_value("姓名：", "陈林", gap=90)
    value_box = (label_box[2] + 88, label_box[1], label_box[2] + 150, label_box[3])
    read = [OcrLine("姓名：", label_box, 0.99), OcrLine("陈林", value_box, 0.99)]
    assert read_beside_lone_labels(image, read, Counting()) == read
    blank, label_box = label_and_value("姓名：", "", gap=90)
    alone = [OcrLine("姓名：", label_box, 0.99)]
    assert read_beside_lone_labels(blank, alone, Counting()) == alone
    not_a_label = [OcrLine("中华人民共和国", label_box, 0.99)]
    assert read_beside_lone_labels(image, not_a_label, Counting()) == not_a_label
    assert calls == []


def number_over_seal_text() -> np.ndarray:
    """A certificate number with a seal's words printed just under its end, closer than a
    line's height: the page's detector, on the page scaled down, boxes them as one line."""
    font = ImageFont.truetype(FONT, 28)
    img = Image.new("L", (760, 100), 255)
    draw = ImageDraw.Draw(img)
    draw.text((10, 10), "证书编号：" + NUMBER, font=font, fill=20)
    draw.text((560, 44), "餐饮行业协会", font=font, fill=90)
    return np.asarray(img)


def test_a_number_run_into_the_words_under_it_is_detected_again_on_its_own(engine):
    image = number_over_seal_text()
    swollen = OcrLine("证书编:号5003192016饮行", (0, 0, image.shape[1], image.shape[0]), 0.61)
    others = [OcrLine("姓名：王伟", (0, 200, 150, 235), 0.99), OcrLine("性别：男", (0, 240, 150, 275), 0.99)]
    lines = redetect_number_lines(image, [swollen, *others], engine)
    assert any(NUMBER in line.text.replace(" ", "") for line in lines)
    assert swollen not in lines and all(o in lines for o in others)


def test_a_labelled_line_with_its_number_whole_is_not_detected_again(engine):
    calls = []
    Counting = counting_reads(engine, calls)

    image = number_over_seal_text()
    whole = OcrLine("证书编号：" + NUMBER, (0, 0, image.shape[1], image.shape[0]), 0.61)
    assert redetect_number_lines(image, [whole], Counting()) == [whole]
    assert calls == []


def test_a_first_digit_the_box_cut_off_is_read_from_a_wider_crop(engine):
    number = "1150403240259439"
    font = ImageFont.truetype(FONT, 28)
    img = Image.new("L", (40 + int(font.getlength(number)), 60), 255)
    ImageDraw.Draw(img).text((20, 14), number, font=font, fill=20)
    image = np.asarray(img)
    first = int(font.getlength("1"))
    cut = OcrLine(number[1:], (20 + first + 2, 12, image.shape[1] - 18, 46), 0.94)  # the box starts past the "1"
    [line] = reread_numbers(image, [cut], engine)
    assert line.text.replace(" ", "") == number


def number_over_seal_text_alone() -> np.ndarray:
    """number_over_seal_text without the label: the number in its own cell of a table."""
    font = ImageFont.truetype(FONT, 28)
    img = Image.new("L", (560, 100), 255)
    draw = ImageDraw.Draw(img)
    draw.text((10, 10), NUMBER, font=font, fill=20)
    draw.text((300, 44), "餐饮行业协会", font=font, fill=90)
    return np.asarray(img)


def test_a_number_read_unsurely_on_a_swollen_line_is_detected_again(engine):
    image = number_over_seal_text_alone()
    swollen = OcrLine("S000050000111282000111", (0, 0, image.shape[1], image.shape[0]), 0.71)  # one digit wrong
    others = [OcrLine("姓名：王伟", (0, 200, 150, 235), 0.99), OcrLine("性别：男", (0, 240, 150, 275), 0.99),
              OcrLine("等级：技师", (0, 280, 150, 315), 0.99)]
    lines = redetect_number_lines(image, [swollen, *others], engine)
    assert any(NUMBER == line.text.replace(" ", "") and line.confidence > 0.71 for line in lines)
    assert swollen not in lines


def test_a_number_read_surely_on_a_swollen_line_is_not_detected_again(engine):
    calls = []
    Counting = counting_reads(engine, calls)

    image = number_over_seal_text_alone()
    sure = OcrLine(NUMBER, (0, 0, image.shape[1], image.shape[0]), 0.95)
    others = [OcrLine("姓名：王伟", (0, 200, 150, 235), 0.99), OcrLine("性别：男", (0, 240, 150, 275), 0.99)]
    assert redetect_number_lines(image, [sure, *others], Counting()) == [sure, *others]
    assert calls == []


QUALIFICATION_NUMBER = "1350150032256894"


def test_a_number_the_detector_stopped_at_a_seal_is_read_to_its_end(engine):
    """A grey copy's seal ring crosses a 22-character number's end: the detector's line
    stops there (S000050108066191, read at 1.000), whose 16 characters are no whole number
    of either form; a crop reaching on to the right reads the rest."""
    number = "S000050108066191100144"
    font = ImageFont.truetype(FONT, 28)
    width = int(font.getlength(number))
    img = Image.new("L", (60 + width + 200, 120), 255)
    d = ImageDraw.Draw(img)
    d.text((20, 40), number, font=font, fill=20)
    x_cut = 20 + int(font.getlength(number[:16]))
    d.ellipse((x_cut, 55, x_cut + 300, 355), outline=140, width=5)  # the seal's ring, grey
    image = np.asarray(img)
    cut = OcrLine(number[:16], (18, 38, x_cut, 74), 1.0)
    [line] = reread_numbers(image, [cut], engine)
    assert line.text.replace(" ", "") == number


def printed_line(text: str, size: int = 26) -> np.ndarray:
    font = ImageFont.truetype(FONT, size)
    w, h = int(font.getlength(text)) + 20, int(size * 1.4)
    img = Image.new("L", (w, h), 255)
    ImageDraw.Draw(img).text((10, (h - size) // 2), text, font=font, fill=20)
    return np.asarray(img)


def test_an_unsure_number_read_as_another_whole_number_gets_its_second_reading(engine):
    """The first reading took one digit for another (0 for 9) and still made a whole number:
    the line read again keeps what is printed beside it."""
    image = printed_line(f"证书编号：{QUALIFICATION_NUMBER}")
    misread = OcrLine("证书编号：1350159032256894", (0, 0, image.shape[1], image.shape[0]), 0.979)
    [line] = read_unsure_numbers_again(image, [misread], engine)
    assert line.text == misread.text
    assert QUALIFICATION_NUMBER in line.second and line.second_confidence > 0.5


def test_a_sure_number_or_a_second_reading_that_agrees_is_left_alone(engine):
    calls = []
    Counting = counting(engine, calls)
    image = printed_line(f"证书编号：{QUALIFICATION_NUMBER}")
    box = (0, 0, image.shape[1], image.shape[0])
    sure = OcrLine(f"证书编号：{QUALIFICATION_NUMBER}", box, 0.995)
    words = OcrLine("职业资格证书", box, 0.9)
    assert read_unsure_numbers_again(image, [sure, words], Counting()) == [sure, words]
    assert calls == []
    unsure = OcrLine(f"证书编号：{QUALIFICATION_NUMBER}", box, 0.95)
    assert read_unsure_numbers_again(image, [unsure], Counting()) == [unsure]  # read again, agrees
    assert len(calls) == 1
