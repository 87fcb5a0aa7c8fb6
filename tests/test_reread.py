"""A long number whose repeated digits the recogniser merged is read again, stretched."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.ocr import OcrLine
from pipeline.reread import reread_numbers

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


def test_merged_digits_are_read_whole_when_stretched(engine):
    image = tall_line(NUMBER)
    text, conf = engine.read_line(np.stack([image] * 3, axis=2))
    assert text != NUMBER  # the merge this module is for
    [line] = reread_numbers(image, [OcrLine(text, (0, 0, image.shape[1], image.shape[0]), conf)], engine)
    assert line.text == NUMBER


def test_whole_numbers_and_plain_text_are_not_read_again(engine):
    calls = []

    class Counting:
        def read_line(self, image):
            calls.append(image.shape)
            return engine.read_line(image)

    image = tall_line(NUMBER, height=1.6)
    lines = [OcrLine(NUMBER, (0, 0, image.shape[1], image.shape[0]), 0.99),
             OcrLine("职业技能等级证书", (0, 0, 50, 20), 0.99), OcrLine("2021年06月30日", (0, 0, 50, 20), 0.99)]
    assert reread_numbers(image, lines, Counting()) == lines
    assert calls == []


def test_a_worse_second_reading_is_not_kept(engine):
    blank = np.full((60, 400), 255, dtype=np.uint8)  # nothing there: the second read finds nothing
    line = OcrLine("S00005000012320001", (0, 0, 400, 60), 0.9)
    assert reread_numbers(blank, [line], engine) == [line]
