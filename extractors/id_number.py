"""18-character resident ID numbers (GB 11643-1999): validation, repair, what they encode."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from pipeline.model import Candidate

from .layout import Row

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level codes of GB/T 2260 (the first two digits).
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}
# What OCR reads in place of a digit (and of the check character X).
_DIGIT_CONFUSIONS = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "i": "1", "|": "1",
     "!": "1", "/": "1", "B": "8", "S": "5", "s": "5", "Z": "2", "z": "2", "G": "6", "b": "6"}
)
_CHECK_CONFUSIONS = str.maketrans({"x": "X", "×": "X", "Χ": "X", "χ": "X", "K": "X"})
_CHAR = r"[0-9OoDQIli|!/BSsZzGb]"
_LAST = r"[0-9OoDQIli|!/BSsZzGbXx×ΧχK]"
# 17 digit-like characters and a check character, single spaces allowed between groups
# (ID cards print the number spaced), not inside a longer run of digits or letters.
ID_PATTERN = re.compile(rf"(?<![0-9A-Za-z])((?:{_CHAR} ?){{17}}{_LAST})(?![0-9A-Za-z])")

LABELS = ("公民身份号码", "身份证号码", "身份证号", "证件号码", "身份证")


@dataclass(frozen=True, slots=True)
class IdInfo:
    number: str
    birth_date: dt.date
    sex: str  # 男 / 女
    region: str


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return _CHECK[total % 11]


def parse_id(number: str, today: dt.date | None = None) -> IdInfo | None:
    """The decoded number, or None when region, date or check character is wrong."""
    n = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", n) or n[:2] not in _PROVINCES:
        return None
    try:
        born = dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return None
    if born.year < 1900 or born > (today or dt.date.today()):
        return None
    if check_character(n[:17]) != n[17]:
        return None
    return IdInfo(n, born, "男" if int(n[16]) % 2 else "女", n[:6])


def invalid_reason(number: str) -> str | None:
    """Why a declared number is not a valid ID number (Chinese), or None when it is."""
    n = number.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", n):
        return "应为18位，前17位为数字，末位为数字或X"
    if n[:2] not in _PROVINCES:
        return "前两位不是有效的省级行政区划代码"
    try:
        dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return "第7-14位不是有效的出生日期"
    if check_character(n[:17]) != n[17]:
        return f"校验位错误（应为{check_character(n[:17])}）"
    return None if parse_id(n) else "出生日期不合理"


def repair(raw: str) -> tuple[str, bool] | None:
    """OCR text to a valid ID number: (number, whether characters had to be changed)."""
    compact = raw.replace(" ", "")
    if len(compact) != 18:
        return None
    fixed = compact[:17].translate(_DIGIT_CONFUSIONS) + compact[17].translate(_CHECK_CONFUSIONS).translate(_DIGIT_CONFUSIONS)
    fixed = fixed.upper()
    if parse_id(fixed) is None:
        return None
    return fixed, fixed != compact.upper()


def extract(rows: list[Row]) -> list[Candidate]:
    """Every ID-number-shaped run on the pages; valid ones sure, invalid ones doubtful."""
    out: list[Candidate] = []
    for row in rows:
        for m in ID_PATTERN.finditer(row.text):
            raw = m.group(1)
            conf = row.span_conf(m.start(1), m.end(1))
            labelled = any(lbl in row.text[max(0, m.start() - 12) : m.start()] for lbl in LABELS)
            fixed = repair(raw)
            if fixed is None:
                value, factor, how = raw.replace(" ", "").upper(), 0.3, "invalid"
                if not labelled and not re.fullmatch(r"[\dXx ]+", raw):
                    continue  # letters and digits that fail the check: not an ID number
            elif fixed[1]:
                value, factor, how = fixed[0], 0.9, "repaired"
            else:
                value, factor, how = fixed[0], 1.0, "valid"
            if not labelled:
                factor *= 0.95
            out.append(
                Candidate(value, row.page, row.span_box(m.start(1), m.end(1)), conf * factor, f"id_number:{how}")
            )
    return out
