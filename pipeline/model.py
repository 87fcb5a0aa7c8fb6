"""The data that flows between stages.

Every box is in PDF points with a top-left origin (x0, top, x1, bottom), in the frame of
the page as a viewer displays it (the page's /Rotate applied), as pdfplumber uses.
Pages are numbered from 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in PDF points, top-left origin."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def union(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(
            min(self.x0, other.x0),
            min(self.top, other.top),
            max(self.x1, other.x1),
            max(self.bottom, other.bottom),
        )

    def as_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.top, 1), round(self.x1, 1), round(self.bottom, 1)]


def rect_mostly_within(inner: tuple[float, float, float, float], outer: tuple[float, float, float, float]) -> bool:
    """Whether most of the area of box inner (x0, top, x1, bottom) lies in box outer."""
    w = min(inner[2], outer[2]) - max(inner[0], outer[0])
    h = min(inner[3], outer[3]) - max(inner[1], outer[1])
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return w > 0 and h > 0 and area > 0 and w * h > 0.5 * area


def boxes_union(boxes: list[Box] | tuple[Box, ...]) -> Box | None:
    """The union of several boxes; None for none."""
    if not boxes:
        return None
    out = boxes[0]
    for b in boxes[1:]:
        out = out.union(b)
    return out


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text as the text layer or an OCR engine gave it.

    char_boxes, when known (text layer), holds one box per character of text; for OCR lines
    it is empty and a character's box is interpolated along the line.
    """

    text: str
    box: Box
    confidence: float
    page: int
    source: str  # "text_layer" or "ocr:<engine>"
    char_boxes: tuple[Box, ...] = ()
    # A second reading of an unsure certificate number's line that read another number:
    # which of the two is right is not known, so both are candidates (evidence.py).
    second: str = ""
    second_confidence: float = 0.0

    def span_box(self, start: int, end: int) -> Box:
        """The box of characters [start, end) of this line."""
        n = len(self.text)
        if n == 0 or start >= end:
            return self.box
        if len(self.char_boxes) == n:
            b = boxes_union(list(self.char_boxes[start:end]))
            assert b is not None
            return b
        step = self.box.width / n
        return Box(self.box.x0 + start * step, self.box.top, self.box.x0 + end * step, self.box.bottom)


class PageKind(str, Enum):
    CERTIFICATE = "certificate"  # 职业资格证书 / 职业技能等级证书
    HONOR = "honor"  # 荣誉证书, 获奖证书
    ID_CARD = "id_card"
    NARRATIVE = "narrative"  # 候选人事迹材料
    APPLICATION_FORM = "application_form"  # 申报表
    COPY = "copy"  # other copied evidence
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PageContent:
    """What could be read from one page: its lines, and how they were read."""

    page: int
    width: float  # points, as displayed
    height: float
    text_layer: bool  # lines came from the PDF's text layer
    ocr: str | None  # OCR engine name when the page was OCR-ed
    rotation: int  # degrees clockwise the scan had to be turned to read upright
    lines: tuple[TextLine, ...]
    image_dpi: int | None = None
    seconds: float = 0.0
    # Seals, attestation and signature found on the page image (extractors.marks); None when
    # the image was not examined (a text-layer page).
    marks: tuple[Mark, ...] | None = None

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


@dataclass(frozen=True, slots=True)
class Mark:
    """Something stamped, written or signed on a scanned page, found on its image.

    kind "seal": an official seal (shape circle / oval), text the organisation read along its
    arc; kind "attestation": 此件与原件相符 or a variant (shape stamp / text), text the words
    read; kind "signature": the handler's handwriting beside 经办人. A mark below the
    detector's threshold (confidence < 0.5) is a doubtful candidate, kept so that a check can
    tell "nothing there" from "not sure".
    """

    kind: str  # "seal" / "attestation" / "signature"
    box: Box  # points, displayed frame
    confidence: float
    shape: str = ""
    colour: str = ""  # red / blue / purple / grey / black
    text: str = ""
    text_confidence: float = 0.0

    def to_json(self) -> dict:
        out: dict = {"bbox": self.box.as_list(), "confidence": round(self.confidence, 3)}
        if self.shape:
            out["shape"] = self.shape
        if self.colour:
            out["colour"] = self.colour
        if self.text:
            out["text"] = self.text
            out["text_confidence"] = round(self.text_confidence, 3)
        return out


@dataclass(frozen=True, slots=True)
class Candidate:
    """One reading of a value, with where and how sure."""

    value: str
    page: int | None
    bbox: Box | None
    confidence: float
    source: str  # which extractor and which evidence: "label:姓名", "id_number", ...

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "page": self.page,
            "bbox": self.bbox.as_list() if self.bbox else None,
            "confidence": round(self.confidence, 3),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class NarrativeInfo:
    """The 候选人事迹材料: where it is and how long (characters, white space not counted)."""

    pages: tuple[int, ...]
    characters: int
    from_text_layer: bool
    bbox: Box | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the extractors read from one PDF. Candidates are best first."""

    names: tuple[Candidate, ...] = ()
    id_numbers: tuple[Candidate, ...] = ()
    birth_dates: tuple[Candidate, ...] = ()  # value YYYY-MM-DD or YYYY-MM
    genders: tuple[Candidate, ...] = ()  # 男 / 女
    grades: tuple[Candidate, ...] = ()  # canonical grade names
    certificate_numbers: tuple[Candidate, ...] = ()
    honors: tuple[Candidate, ...] = ()  # 全国技术能手, 中华技能大奖, 全市技术能手, ...
    narrative: NarrativeInfo | None = None
    page_kinds: tuple[PageKind, ...] = ()  # index i is page i + 1
    page_texts: tuple[str, ...] = ()  # normalised, white space removed; index i is page i + 1
    # seals, attestation, signature per page (None: the page image was not examined)
    page_marks: tuple[tuple[Mark, ...] | None, ...] = ()  # index i is page i + 1


class Category(str, Enum):
    MASTER = "重庆技能大师"
    EXPERT = "全市技术能手"
    YOUNG_STAR = "巴渝青年技能之星"


@dataclass(frozen=True, slots=True)
class DeclaredForm:
    """The applicant's form data, validated."""

    id: str
    category: str
    name: str
    id_number: str
    birth_date: dt.date
    grade: str
    gender: str | None = None
    occupation: str | None = None
    certificate_number: str | None = None
    honors: tuple[str, ...] = ()
    unit: str | None = None
    recommender: str | None = None
    submitted_at: dt.datetime | None = None

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "category": self.category,
            "name": self.name,
            "gender": self.gender,
            "id_number": self.id_number,
            "birth_date": self.birth_date.isoformat(),
            "occupation": self.occupation,
            "grade": self.grade,
            "certificate_number": self.certificate_number,
            "honors": list(self.honors),
            "unit": self.unit,
            "recommender": self.recommender,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
        }


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str  # Chinese, for the reviewer
    declared: str | None = None
    found: str | None = None
    page: int | None = None
    bbox: Box | None = None

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "declared": self.declared,
            "found": self.found,
            "page": self.page,
            "bbox": self.bbox.as_list() if self.bbox else None,
        }


class Status(str, Enum):
    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"
    ERROR = "error"


def status_of(findings: list[Finding] | tuple[Finding, ...], processed: bool = True) -> Status:
    """error: not processed; fail: an error finding; review: only warnings; pass otherwise."""
    if not processed:
        return Status.ERROR
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return Status.FAIL
    if Severity.WARNING in severities:
        return Status.REVIEW
    return Status.PASS


@dataclass(frozen=True, slots=True)
class PageDetail:
    page: int
    kind: PageKind
    text_layer: bool
    ocr: str | None
    rotation: int = 0
    seconds: float = 0.0  # time spent reading the page (render, OCR or text layer)
    seal: dict | None = None  # extractors.copy_marks.seal_detail; None: the image was not examined
    attestation: dict | None = None

    def to_json(self) -> dict:
        return {
            "page": self.page,
            "kind": self.kind.value,
            "text_layer": self.text_layer,
            "ocr": self.ocr,
            "rotation": self.rotation,
            "seconds": round(self.seconds, 3),
            "seal": self.seal,
            "attestation": self.attestation,
        }


@dataclass(slots=True)
class Report:
    """One submission's result; the contract's JSON is made from it in pipeline.report."""

    submission: str
    status: Status
    pages: int | None
    evidence: Evidence | None
    page_details: tuple[PageDetail, ...]
    findings: list[Finding]
    form: DeclaredForm | None = None
    pdf_path: str | None = None
    sha256: str | None = None
    seconds: float = 0.0
    stages: dict = field(default_factory=dict)  # seconds per stage: pages, extract, check
    meta: dict = field(default_factory=dict)
