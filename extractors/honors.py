"""Honours: 全国技术能手 and 中华技能大奖, told apart from city honours of similar wording."""

from __future__ import annotations

from pipeline.model import Candidate

from . import matcher
from .layout import Row

NATIONAL = ("全国技术能手", "中华技能大奖")
_PATTERNS = "honors.jsonl"


def extract(rows: list[Row]) -> list[Candidate]:
    """Every honour named on these rows; the caller passes the rows of evidence pages only."""
    out: list[Candidate] = []
    for row in rows:
        for m in matcher.find(row, _PATTERNS):
            if m.label in ("HONOR", "CITY_HONOR"):
                out.append(
                    Candidate(m.value, row.page, row.span_box(m.start, m.end),
                              row.span_conf(m.start, m.end), f"honor:{m.label.lower()}")
                )
    return out


def canonical(text: str) -> str | None:
    """The one honour a short text names (a form's entry), or None."""
    from pipeline.model import Box

    flat = "".join(text.split())
    row = Row(0, flat, tuple(Box(i, 0, i + 1, 1) for i in range(len(flat))), (1.0,) * len(flat), True, "form")
    found = {m.value for m in matcher.find(row, _PATTERNS) if m.label in ("HONOR", "CITY_HONOR")}
    return found.pop() if len(found) == 1 else None
