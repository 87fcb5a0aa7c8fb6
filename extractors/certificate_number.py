"""Certificate numbers, read from their labels, and the grade their level digit encodes.

职业技能等级证书: one letter Y/S and 21 digits; the 16th character is the level (1 = 一级
高级技师 … 5 = 五级 初级工). 职业资格证书: usually 16 digits, the 11th character the level.
"""

from __future__ import annotations

import re

from pipeline.model import Candidate

from .layout import Row

LABELS = ("证书编号", "证书号码", "证书号", "编号", "证号", "No.", "NO.", "No:", "NO:", "No", "NO")
_ID_LABEL_HEADS = ("身份", "份", "民身")
_LEVEL_TO_GRADE = {"1": "高级技师", "2": "技师", "3": "高级工", "4": "中级工", "5": "初级工"}
_TOKEN = re.compile(r"[A-Za-z0-9OoIl|]{8,30}")
# What OCR reads in place of a digit: worn type and look-alike glyphs (O/0, I/l/1, Z/2, S/5, B/8).
_LOOK_ALIKES = {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "!": "1",
                "B": "8", "Z": "2", "z": "2", "S": "5", "s": "5"}
_DIGITS = str.maketrans(_LOOK_ALIKES)
# lower-case look-alikes are mapped before the number is upper-cased: l is 1, L is not
_LOWER_DIGITS = str.maketrans({k: v for k, v in _LOOK_ALIKES.items() if k.islower()})
SKILL_LEVEL = re.compile(r"[YS]\d{14}[1-5]\d{6}")
# 职业资格证书 were issued from 1994 to the early 2020s: the two first digits are the year
QUALIFICATION = re.compile(r"[0129]\d{15}")
_UNLABELLED = re.compile(r"(?<![A-Za-z0-9])[YS5]\s?\d(?:\s?\d){20}(?![A-Za-z0-9])")
# A stretch of a number this long is taken as a part of it, not as a number of its own.
_MIN_PART = 8
# Characters (a seal's arc text, a stray mark) that may stand between a label and its number.
_MAX_INTRUDING = 4


def canonical(raw: str) -> str:
    """OCR text of a number to its canonical form: digits where digits belong, S for 5 in
    front; upper case otherwise. canonical(canonical(x)) == canonical(x)."""
    s = raw.replace(" ", "").translate(_LOWER_DIGITS).upper()
    body = s[1:].translate(_DIGITS)
    if len(s) == 22 and s[0] in "YS5" and body.isdigit():
        return ("S" if s[0] == "5" else s[0]) + body
    if s[:1] in ("Y", "S") and body.isdigit():
        # the newer form's letter on a number read in part (a seal over its end): an older
        # number starts with its year's digit, never 5, and S000050108066191 made 5 in front
        # would pass for one
        return s[0] + body
    digits = s.translate(_DIGITS)
    return digits if digits.isdigit() else s


def grade_of(number: str) -> str | None:
    """The grade a well-formed number encodes, or None when its form is not known."""
    if SKILL_LEVEL.fullmatch(number):
        return _LEVEL_TO_GRADE[number[15]]
    if QUALIFICATION.fullmatch(number):
        return _LEVEL_TO_GRADE.get(number[10])
    return None


def well_formed(number: str) -> bool:
    return bool(SKILL_LEVEL.fullmatch(number) or QUALIFICATION.fullmatch(number))


def same_number(a: str, b: str) -> bool:
    return canonical(a) == canonical(b)


def cut_short(read: str, declared: str) -> bool:
    """Whether a number read is a shorter stretch of the declared one, from its start or to its
    end (a seal or the sheet's edge over the rest), a letter in front read as its look-alike
    digit or not read at all."""
    a, b = canonical(read), canonical(declared)
    if len(a) >= len(b) or len(a) < _MIN_PART:
        return False
    forms = {b, b.translate(_DIGITS)}
    if b[:1].isalpha():
        forms.add(b[1:])
    return any(f.startswith(a) or f.endswith(a) for f in forms)


def extract(rows: list[Row]) -> list[Candidate]:
    out: list[Candidate] = []
    for row in rows:
        seen: set[int] = set()
        for label in LABELS:
            pos = row.text.find(label)
            if pos < 0 or pos in seen or row.text[max(0, pos - 2) : pos].endswith(_ID_LABEL_HEADS):
                continue  # 证号 inside 身份证号 is the ID number's label
            seen.update(range(pos, pos + len(label)))
            m = _TOKEN.search(row.text, pos + len(label))
            if m is None:
                continue
            between = row.text[pos + len(label) : m.start()].strip(" :：")
            value = canonical(m.group())
            if between and not (len(between) <= _MAX_INTRUDING and well_formed(value)):
                continue
            # Seal text stamped between label and number (证书编号 庆市 1950…) costs a little.
            factor = (1.0 if well_formed(value) else 0.6) * (0.9 if between else 1.0)
            out.append(Candidate(value, row.page, row.span_box(m.start(), m.end()),
                                 row.span_conf(m.start(), m.end()) * factor, f"label:{label}"))
            break
        for m in _UNLABELLED.finditer(row.text):
            value = canonical(m.group())
            if SKILL_LEVEL.fullmatch(value) and not any(c.value == value for c in out):
                out.append(Candidate(value, row.page, row.span_box(m.start(), m.end()),
                                     row.span_conf(m.start(), m.end()) * 0.9, "pattern"))
    return out
