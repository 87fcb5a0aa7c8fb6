"""Builders for tests: rows and pages from plain text, forms as dicts."""

from __future__ import annotations

import datetime as dt

from extractors.id_number import check_character
from extractors.layout import Row
from pipeline.model import Box, PageContent, TextLine


def row(text: str, page: int = 1, conf: float = 0.99, top: float = 100.0) -> Row:
    boxes = tuple(Box(50 + 10 * i, top, 60 + 10 * i, top + 12) for i in range(len(text)))
    return Row(page, text, boxes, tuple(conf for _ in text), False, "ocr:test")


def line(text: str, x0: float, top: float, page: int = 1, conf: float = 0.99, size: float = 12) -> TextLine:
    return TextLine(text, Box(x0, top, x0 + size * len(text), top + size), conf, page, "ocr:test")


def page(number: int, lines: list[TextLine], text_layer: bool = False) -> PageContent:
    return PageContent(number, 595.0, 842.0, text_layer, None if text_layer else "test", 0, tuple(lines))


def make_id(region: str = "500103", born: dt.date = dt.date(1985, 3, 12), seq: str = "12", sex_digit: int = 3) -> str:
    first17 = f"{region}{born:%Y%m%d}{seq}{sex_digit}"
    return first17 + check_character(first17)


def form_dict(**overrides) -> dict:
    base = {
        "id": "t1",
        "category": "全市技术能手",
        "name": "张三丰",
        "gender": "男",
        "id_number": make_id(),
        "birth_date": "1985-03-12",
        "occupation": "焊工",
        "grade": "技师",
        "certificate_number": "S000050123456232000123",
        "honors": [],
        "unit": "重庆某机械有限公司",
        "recommender": "渝中区人力社保局",
        "submitted_at": "2023-12-10T10:00:00+08:00",
    }
    base.update(overrides)
    return base
