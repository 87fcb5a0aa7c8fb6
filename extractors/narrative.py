"""The 候选人事迹材料 and its length in characters, white space not counted."""

from __future__ import annotations

import re

from pipeline.model import NarrativeInfo, PageKind, boxes_union

from .layout import Row

# Lines that are not the text: the title, page numbers such as "- 2 -" or "第2页".
_TITLE = re.compile(r"^(候选人)?(主要)?事迹(材料|简介)?$")
_PAGE_NUMBER = re.compile(r"^[-—\s]*(第\s*)?\d+\s*(页)?(\s*/\s*\d+)?(共\s*\d+\s*页)?[-—\s]*$")


def measure(rows: list[Row], kinds: tuple[PageKind, ...]) -> NarrativeInfo | None:
    pages = tuple(i + 1 for i, k in enumerate(kinds) if k is PageKind.NARRATIVE)
    if not pages:
        return None
    body = [r for r in rows if r.page in pages and not _is_furniture(r.text)]
    count = sum(len("".join(r.text.split())) for r in body)
    return NarrativeInfo(
        pages=pages,
        characters=count,
        from_text_layer=all(r.from_text_layer for r in body),
        bbox=boxes_union([r.box for r in body if r.page == pages[0]]),
    )


def _is_furniture(text: str) -> bool:
    flat = "".join(text.split())
    return bool(_TITLE.match(flat) or _PAGE_NUMBER.match(text.strip()))
