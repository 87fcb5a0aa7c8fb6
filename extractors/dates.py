"""Dates as certificates print them, and the labelled date of birth."""

from __future__ import annotations

import datetime as dt
import re

from pipeline.model import Candidate

from .layout import Row

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "〇○零一二三四五六七八九十"
_Y = rf"(?:\d{{4}}|[{_CN}]{{4}})"
_M = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"
# One date: year, then month, then an optional day; separators 年月日 . - / with optional
# spaces (OCR and ID cards space them out).
DATE_PATTERN = re.compile(
    rf"(?P<y>{_Y})\s*(?P<s>年|\.|-|/)\s*(?P<m>{_M})\s*(?:月)?"
    rf"(?:\s*(?:(?<=月)|\.|-|/)\s*(?P<d>{_M})\s*日?)?"
)
BIRTH_LABELS = ("出生日期", "出生年月日", "出生年月", "出生时间", "出生")


def chinese_number(text: str) -> int | None:
    """一九八五 -> 1985 (digit by digit); 十二 -> 12, 二十三 -> 23, 三十 -> 30."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" not in text:
        if not all(c in _CN_DIGITS for c in text):
            return None
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    if (tens and tens not in _CN_DIGITS) or (ones and ones not in _CN_DIGITS):
        return None
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def parse_date(text: str) -> str | None:
    """The first date in text as YYYY-MM-DD, or YYYY-MM when only year and month are given."""
    m = DATE_PATTERN.search(text)
    return _value(m) if m else None


def _value(m: re.Match) -> str | None:
    year, month = chinese_number(m.group("y")), chinese_number(m.group("m"))
    if year is None or month is None or not (1900 <= year <= 2100 and 1 <= month <= 12):
        return None
    if m.group("d") is None:
        return f"{year:04d}-{month:02d}"
    day = chinese_number(m.group("d"))
    if day is None:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def same_date(a: str, b: str) -> bool:
    """Equal at the precision both have: 1985-03 agrees with 1985-03-12."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def extract_birth_dates(rows: list[Row]) -> list[Candidate]:
    """Dates that follow a birth label on the same row (or start the row below it)."""
    out: list[Candidate] = []
    for i, row in enumerate(rows):
        for label in BIRTH_LABELS:
            pos = row.text.find(label)
            if pos < 0:
                continue
            start = pos + len(label)
            m = DATE_PATTERN.search(row.text, start)
            target = row
            if m is None or row.text[start : m.start()].strip(" :：") != "":
                m, target = _date_below(rows, i, row, pos)
            if m is not None:
                value = _value(m)
                if value:
                    out.append(
                        Candidate(value, target.page, target.span_box(m.start(), m.end()),
                                  target.span_conf(m.start(), m.end()), f"label:{label}")
                    )
            break  # the longest label on the row has been tried
    return out


def _date_below(rows: list[Row], i: int, row: Row, pos: int) -> tuple[re.Match | None, Row]:
    """A booklet prints the value under the label: the next row, if it starts with a date."""
    if i + 1 >= len(rows) or rows[i + 1].page != row.page:
        return None, row
    nxt = rows[i + 1]
    label_box = row.span_box(pos, pos + 2)
    if nxt.box.top - label_box.bottom > 2 * label_box.height:
        return None, row
    m = DATE_PATTERN.match(nxt.text.strip())
    if m is None:
        return None, row
    lead = len(nxt.text) - len(nxt.text.lstrip())
    m2 = DATE_PATTERN.match(nxt.text, lead)
    return m2, nxt
