"""Rows of text across a page, with one box and one confidence per character.

OCR engines cut a printed row into several boxes (a label cell, a value cell, a second
column); the extractors read label and value across those pieces, so lines that share a
baseline band are joined into one row, left to right, with a single space between pieces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.model import Box, PageContent, TextLine, boxes_union

from .textnorm import normalise


@dataclass(frozen=True, slots=True)
class Row:
    """One visual row of a page: normalised text, a box and a confidence per character."""

    page: int
    text: str
    char_boxes: tuple[Box, ...]
    char_conf: tuple[float, ...]
    from_text_layer: bool
    source: str

    @property
    def box(self) -> Box:
        b = boxes_union(list(self.char_boxes))
        assert b is not None
        return b

    def span_box(self, start: int, end: int) -> Box:
        """The box of characters [start, end), white space at the ends ignored."""
        while start < end and self.text[start] == " ":
            start += 1
        while end > start and self.text[end - 1] == " ":
            end -= 1
        b = boxes_union(list(self.char_boxes[start:end]))
        return b if b is not None else self.box

    def span_conf(self, start: int, end: int) -> float:
        """The least sure character of [start, end) decides."""
        confs = [c for c, ch in zip(self.char_conf[start:end], self.text[start:end]) if ch != " "]
        return min(confs) if confs else 0.0


_MIN_AFFINITY = 0.45


def _row_affinity(last: Box, b: Box) -> float:
    """How well b continues a row whose rightmost piece so far is last: the share of the
    smaller height the two share vertically; 0 when they stack or differ much in size."""
    ha, hb = max(last.height, 0.1), max(b.height, 0.1)
    if max(ha, hb) / min(ha, hb) >= 2.2:
        return 0.0
    if last.x1 - b.x0 > 0.5 * min(last.width, b.width):
        return 0.0  # b starts well inside last: stacked, not side by side
    overlap = min(last.bottom, b.bottom) - max(last.top, b.top)
    return max(0.0, overlap) / min(ha, hb)


def upright(box: Box, rotation: int, width: float, height: float) -> Box:
    """A displayed box in the frame of the page turned upright (rotation degrees clockwise)."""
    from pipeline.pages import rotate_box

    return Box(*rotate_box((box.x0, box.top, box.x1, box.bottom), rotation, width, height))


def group_rows(lines: tuple[TextLine, ...] | list[TextLine], rotation: int = 0, width: float = 0.0,
               height: float = 0.0) -> list[list[TextLine]]:
    """Lines of one page grouped into rows, top to bottom and left to right as read upright.

    On a scan that had to be turned to be read, boxes are in the displayed frame, so rows
    are formed in the upright frame, or labels and values would pair up wrongly.
    """
    up = {id(ln): upright(ln.box, rotation, width, height) if rotation % 360 else ln.box for ln in lines}
    rows: list[list[TextLine]] = []
    # Left to right, each piece joins the row it continues best: comparing with a row's
    # rightmost piece follows a row across a skewed page, and a value cell whose box sits a
    # little lower than its label still finds the label.
    for line in sorted(lines, key=lambda ln: (up[id(ln)].x0, up[id(ln)].top)):
        box = up[id(line)]
        scores = [(_row_affinity(up[id(row[-1])], box), i) for i, row in enumerate(rows)]
        best = max(scores, default=(0.0, -1))
        if best[0] >= _MIN_AFFINITY:
            rows[best[1]].append(line)
        else:
            rows.append([line])
    rows.sort(key=lambda r: min(up[id(ln)].top for ln in r))
    return rows


def row_from_lines(lines: list[TextLine]) -> Row:
    text: list[str] = []
    boxes: list[Box] = []
    confs: list[float] = []
    for i, line in enumerate(lines):
        if i:
            text.append(" ")
            boxes.append(_gap(boxes[-1], line.box))
            confs.append(1.0)
        norm = normalise(line.text)
        for j, ch in enumerate(norm):
            text.append(ch)
            boxes.append(line.span_box(j, j + 1))
            confs.append(line.confidence)
    return Row(
        page=lines[0].page,
        text="".join(text),
        char_boxes=tuple(boxes),
        char_conf=tuple(confs),
        from_text_layer=all(ln.source == "text_layer" for ln in lines),
        source=lines[0].source,
    )


def _gap(a: Box, b: Box) -> Box:
    """The box of the space between two pieces of a row (in any orientation)."""
    return Box(min(a.x1, b.x0), min(a.top, b.top), max(a.x1, b.x0), max(a.bottom, b.bottom))


def page_rows(page: PageContent) -> list[Row]:
    groups = group_rows(page.lines, page.rotation, page.width, page.height)
    return [row_from_lines(r) for r in groups if any(ln.text.strip() for ln in r)]


def second_reading_rows(page: PageContent) -> list[Row]:
    """The rows of page that hold a line read a second time (TextLine.second), each with
    that line's second reading in place of its first."""
    if not any(ln.second for ln in page.lines):
        return []
    out = []
    for group in group_rows(page.lines, page.rotation, page.width, page.height):
        for i, line in enumerate(group):
            if line.second:
                again = replace(line, text=line.second, confidence=line.second_confidence, char_boxes=())
                out.append(row_from_lines(group[:i] + [again] + group[i + 1:]))
    return out
