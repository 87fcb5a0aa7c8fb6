"""Names and sex read from their labels (姓名, 性别) and from honour wording (授予…同志)."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from pipeline.model import Candidate

from .grades import normalise_grade
from .layout import Row

# Labels that may follow a name on the same row when OCR runs cells together.
_NEXT_LABELS = (r"(?:工\s*作\s*单\s*位|所\s*在\s*单\s*位|推\s*荐|性\s*别|民\s*族|出\s*生|身\s*份|证\s*件|公\s*民|职\s*业|工\s*种|等\s*级|编\s*号|单\s*位|证\s*书|"
                r"发\s*证|机\s*关|机\s*构|评\s*价|鉴\s*定|日\s*期|文化|籍贯|性$)")
_NAME = r"[\u4e00-\u9fff·]{2,5}"
# (候选人 and 申报人 head a narrative's first lines, but also begin 候选人事迹材料: a colon follows
# them when they label a name.)
NAME_AFTER_LABEL = re.compile(
    rf"(?:(?:姓\s*名|持\s*证\s*人|获\s*奖\s*者|获\s*奖\s*人)\s*[:：]?|(?:候\s*选\s*人|申\s*报\s*人)\s*[:：])\s*(?P<v>(?:[\u4e00-\u9fff·]\s?){{1,11}}[\u4e00-\u9fff])"
)
NAME_IN_AWARD = re.compile(rf"(?:授予|表彰|兹证明|兹有|证明)\s*(?P<v>{_NAME}?)\s*(?:同志|先生|女士)")
# An honour certificate addresses its holder: "陈林同志：".
NAME_IN_SALUTATION = re.compile(rf"^\s*(?P<v>{_NAME}?)\s*(?:同志|先生|女士)\s*[:：]")
# A booklet prints the holder's name alone on a row, without a label.
_LONE_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_LONE_FACTOR = 0.6
GENDER_AFTER_LABEL = re.compile(r"性\s*别\s*[:：]?\s*(?P<v>[男女])")


# Words of organisations' names: a seal's arc text read into a row is made of them.
_ORG_WORDS = re.compile(r"重庆|市|省|区|县|局|厅|部|院|校|司|中心|社会|保障|人力|资源|鉴定|专用|章|委员|协会|集团|公司")


def _cut_at_label(text: str) -> tuple[int, str]:
    """The name out of what follows its label, as (offset, text): up to the next label, and
    up to the first gap after a word (a letter-spaced name, 张 三 丰, is kept whole)."""
    m = re.search(_NEXT_LABELS, text)
    text = text[: m.start()] if m else text
    chunks = text.split(" ")
    offsets = [sum(len(c) + 1 for c in chunks[:i]) for i in range(len(chunks))]
    for i, chunk in enumerate(chunks):
        if not chunk or _ORG_WORDS.search(chunk):
            continue  # seal text stamped across the row (重庆, 人力资源…), not the name
        if len(chunk) >= 2:
            return offsets[i], chunk
        kept = []
        for single in chunks[i:]:
            if len(single) != 1:
                break
            kept.append(single)
        return offsets[i], " ".join(kept)
    return 0, ""


def extract_names(rows: list[Row]) -> list[Candidate]:
    out: list[Candidate] = []
    for row in rows:
        for pattern, source, factor in ((NAME_AFTER_LABEL, "label:姓名", 1.0), (NAME_IN_AWARD, "award", 0.9),
                                        (NAME_IN_SALUTATION, "salutation", 0.9)):
            for m in pattern.finditer(row.text):
                offset, raw = _cut_at_label(m.group("v"))
                value = raw.replace(" ", "")
                if not 2 <= len(value) <= 5:
                    continue
                start = m.start("v") + offset
                end = start + len(raw)
                out.append(Candidate(value, row.page, row.span_box(start, end),
                                     row.span_conf(start, end) * factor, source))
    return out


def extract_lone_names(rows: list[Row]) -> list[Candidate]:
    """Rows that hold nothing but a plausible name (a known surname and one to three more
    characters); weak evidence, used when no label names the holder."""
    out = []
    for row in rows:
        flat = row.text.replace(" ", "")
        if (_LONE_NAME.match(flat) and _starts_with_surname(flat) and flat not in _NOT_NAMES
                and normalise_grade(flat) is None):
            out.append(Candidate(flat, row.page, row.box, row.span_conf(0, len(row.text)) * _LONE_FACTOR, "lone"))
    return out


# Short rows on certificates that are not names though they start like one.
_NOT_NAMES = {"特发此证", "经办人", "公章", "学校", "成绩合格", "荣誉证书", "职业资格证书", "获奖证书", "证书"}


@lru_cache(maxsize=1)
def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    text = resources.files("extractors.patterns").joinpath("surnames.txt").read_text("utf-8")
    names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return frozenset(n for n in names if len(n) == 1), frozenset(n for n in names if len(n) == 2)


def _starts_with_surname(name: str) -> bool:
    single, compound = _surnames()
    return name[:2] in compound or (name[0] in single and len(name) <= 3)


def extract_genders(rows: list[Row]) -> list[Candidate]:
    out: list[Candidate] = []
    for row in rows:
        for m in GENDER_AFTER_LABEL.finditer(row.text):
            out.append(Candidate(m.group("v"), row.page, row.span_box(m.start("v"), m.end("v")),
                                 row.span_conf(m.start("v"), m.end("v")), "label:性别"))
    return out
