"""Certificate grades, normalised to one ladder, from every wording certificates use."""

from __future__ import annotations

from pipeline.model import Candidate

from . import matcher
from .layout import Row
from .textnorm import normalise, strip_spaces

# The national ladder, lowest first. The notice's minimums name rungs of it.
LADDER = ("初级工", "中级工", "高级工", "技师", "高级技师", "特级技师", "首席技师")
_PATTERNS = "grades.jsonl"
# A bare level word (三级) or a bare 高级 is a grade only where a grade label precedes it.
_CONTEXT = ("等级", "级别", "资格", "技能", "工种")
_WEAK_FACTOR = 0.85


def rank(grade: str) -> int:
    """Position on the ladder; ValueError for a name that is not on it."""
    return LADDER.index(grade)


def normalise_grade(text: str) -> str | None:
    """Any wording (二级/技师, 国家职业资格一级, 高级技师) to a rung of LADDER, or None."""
    from .layout import Row as _Row
    from pipeline.model import Box

    norm = strip_spaces(normalise(text))
    if norm in LADDER:
        return norm
    row = _Row(0, norm, tuple(Box(i, 0, i + 1, 1) for i in range(len(norm))), (1.0,) * len(norm), True, "form")
    grades = [m.value for m in matcher.find(row, _PATTERNS) if m.label in ("GRADE", "GRADE_LEVEL", "GRADE_WEAK")]
    return grades[0] if len(set(grades)) == 1 else None


def extract(rows: list[Row]) -> list[Candidate]:
    """Grade mentions; school names and engineer titles are matched away, never read as grades."""
    out: list[Candidate] = []
    for row in rows:
        for m in matcher.find(row, _PATTERNS):
            if m.label == "NOT_GRADE":
                continue
            factor = 1.0
            if m.label in ("GRADE_LEVEL", "GRADE_WEAK"):
                if not any(c in row.text[: m.start] for c in _CONTEXT):
                    continue
                factor = _WEAK_FACTOR
            out.append(
                Candidate(m.value, row.page, row.span_box(m.start, m.end),
                          row.span_conf(m.start, m.end) * factor, f"grade:{row.text[m.start:m.end].replace(' ', '')}")
            )
    return out
