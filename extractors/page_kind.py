"""What a page is, from the words on it: certificate, honour, ID card, narrative, other."""

from __future__ import annotations

from pipeline.model import PageKind

from .layout import Row
from .textnorm import strip_spaces

# Checked in this order; the first kind whose words appear wins.
_KEYWORDS: tuple[tuple[PageKind, tuple[str, ...]], ...] = (
    (PageKind.NARRATIVE, ("事迹材料", "事迹简介", "主要事迹")),
    (PageKind.CERTIFICATE, ("职业技能等级证书", "职业资格证书", "技能等级证书", "职业技能鉴定", "技术等级证书")),
    (PageKind.HONOR, ("荣誉证书", "获奖证书", "授予", "称号", "特发此证", "以资鼓励", "全国技术能手", "中华技能大奖")),
    (PageKind.ID_CARD, ("公民身份号码", "居民身份证", "签发机关")),
    (PageKind.APPLICATION_FORM, ("申报表", "推荐表")),
    (PageKind.COPY, ("复印件", "与原件相符", "与原件一致")),
)
# The title of a narrative is at the top of its first page; deeper mentions are quotes.
_NARRATIVE_HEAD_CHARS = 60


def classify(rows: list[Row], page_width: float, previous: PageKind | None = None) -> PageKind:
    """The kind of one page; a typed page after a narrative page, with no title of its own,
    continues the narrative."""
    flat = strip_spaces("".join(r.text for r in rows))
    text_layer = bool(rows) and all(r.from_text_layer for r in rows)
    if previous is PageKind.NARRATIVE and text_layer and not _has_title(rows, page_width):
        return PageKind.NARRATIVE
    for kind, words in _KEYWORDS:
        haystack = flat[:_NARRATIVE_HEAD_CHARS] if kind is PageKind.NARRATIVE else flat
        if any(w in haystack for w in words):
            if kind is PageKind.HONOR and _looks_like_prose(flat):
                continue  # a typed page that merely names an honour
            return kind
    if _looks_like_certificate(flat):
        return PageKind.CERTIFICATE
    return PageKind.OTHER


def _looks_like_prose(flat: str) -> bool:
    return len(flat) > 600


def _looks_like_certificate(flat: str) -> bool:
    return "证书编号" in flat and any(w in flat for w in ("等级", "级", "技师", "高级工"))


def _has_title(rows: list[Row], page_width: float) -> bool:
    """A short first row centred on the page starts a document of its own."""
    first = rows[0]
    centre = (first.box.x0 + first.box.x1) / 2
    return len(strip_spaces(first.text)) <= 24 and abs(centre - page_width / 2) < 0.1 * page_width
