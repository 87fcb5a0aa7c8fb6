"""read_upright with rapidocr detects each page once, whichever way up it was scanned: the
turn is decided from the detected boxes and the line crops are read the right way up, with
boxes in the turned frame as before."""

from __future__ import annotations

import numpy as np
import pytest
from test_ocr_pages import CERT_LINES, ID, ID_LABEL, NAME_LINE, certificate_image

from pipeline.ocr import normalise_text
from pipeline.pages import read_upright, remove_colour, turn

BAND = (0, 250, 1654, 1000)  # title, name, sex, ID and trade lines: small, to save time
TOL_PX = 14  # 5 points at 200 dpi, as test_ocr_pages


@pytest.fixture(scope="module")
def band():
    img, drawn = certificate_image(seal=False)
    x0, top = BAND[0], BAND[1]
    upright = np.asarray(img.crop(BAND))
    shifted = {k: (b[0] - x0, b[1] - top, b[2] - x0, b[3] - top) for k, b in drawn.items()}
    return upright, shifted


@pytest.fixture()
def detections(engine, monkeypatch):
    """Counts rapidocr's detection runs (read() goes through the same method)."""
    ocr = engine._engine()
    calls = []
    original = ocr.detect_and_crop

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(ocr, "detect_and_crop", counting)
    return calls


def _line(lines, needle):
    needle = normalise_text(needle)
    found = [line for line in lines if needle in line.text]
    assert found, f"{needle!r} not read: {[line.text for line in lines]}"
    return found[0]


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_turned_page_is_detected_once_and_read_upright(engine, band, detections, rotation):
    upright, drawn = band
    # scanned so that turning it `rotation` degrees clockwise makes it upright
    scan = turn(upright, (360 - rotation) % 360)
    got_rotation, lines = read_upright(remove_colour(scan), engine)
    assert got_rotation == rotation
    assert len(detections) == 1, "the page was detected more than once"
    texts = [line.text for line in lines]
    # reading order of the upright page
    order = [i for needle, _ in CERT_LINES[:5] for i, t in enumerate(texts) if normalise_text(needle[:4]) in t]
    assert order == sorted(order) and len(order) >= 4, texts
    for key, needle in ((NAME_LINE, NAME_LINE), (ID_LABEL + ID, ID)):
        box = _line(lines, needle).box  # in the turned (upright) image
        assert all(abs(g - e) <= TOL_PX for g, e in zip(box, drawn[key])), (key, box, drawn[key])


def test_no_text_reads_nothing_with_one_detection(engine, detections):
    blank = np.full((400, 300, 3), 255, dtype=np.uint8)
    assert read_upright(blank, engine) == (0, [])
    assert len(detections) == 1
