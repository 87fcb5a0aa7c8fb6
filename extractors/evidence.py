"""Runs every extractor over a document's pages and ranks what they found."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from pipeline.model import Candidate, Evidence, PageContent, PageKind

from . import certificate_number, dates, grades, honors, id_number, names, narrative
from .layout import Row, page_rows, second_reading_rows
from .page_kind import classify

# A grade or honour named on a page that is not a certificate is weaker evidence.
_OFF_PAGE_FACTOR = 0.8
# Readings about as sure as the surest (this share of its confidence, and at least _SURE) are
# ranked on their merits, not on small differences of OCR confidence.
_COMPARABLE = 0.75
_SURE = 0.5
# A number that encodes a lower grade than one surely read belongs to another, lower
# certificate: read right, perhaps, but doubtful as the number of the certificate that counts.
_LOWER_CERTIFICATE_FACTOR = 0.85


def rank(candidates: list[Candidate]) -> tuple[Candidate, ...]:
    """One candidate per value, best first; agreeing readings raise each other's confidence."""
    by_value: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_value[c.value].append(c)
    merged = []
    for group in by_value.values():
        best = max(group, key=lambda c: c.confidence)
        doubt = 1.0
        for c in group:
            doubt *= 1.0 - min(c.confidence, 0.999)
        merged.append(replace(best, confidence=min(1.0 - doubt, 0.999)))
    return tuple(sorted(merged, key=lambda c: -c.confidence))


def _comparable(ranked: tuple[Candidate, ...]) -> float:
    """The confidence from which a reading counts as about as sure as the best one."""
    return max(_SURE, _COMPARABLE * ranked[0].confidence) if ranked else 1.0


def highest_grade_first(ranked: tuple[Candidate, ...], kind_of: dict[int, PageKind]) -> tuple[Candidate, ...]:
    """Grades with the highest rung first among those read surely on certificate pages.

    An applicant may show several certificates (an earlier 高级工 beside the 技师, two on one
    photocopied sheet); all are his, and the rules judge him by the highest. Which of two
    sure readings OCR was a shade surer of says nothing about which certificate counts."""
    if len(ranked) < 2:
        return ranked
    floor = _comparable(ranked)
    sure = [c for c in ranked if c.confidence >= floor and kind_of.get(c.page) is PageKind.CERTIFICATE
            and c.value in grades.LADDER]
    if len({c.value for c in sure}) < 2:
        return ranked
    sure.sort(key=lambda c: (-grades.rank(c.value), -c.confidence))
    return tuple(sure) + tuple(c for c in ranked if c not in sure)


def numbers_of_grade_first(ranked: tuple[Candidate, ...], grade_cands: tuple[Candidate, ...]) -> tuple[Candidate, ...]:
    """Certificate numbers with those of the leading grade's certificate first.

    With two certificates in the file, the number that goes with the grade that counts is the
    one to show and compare first: a number whose level digit encodes that grade, else one
    that encodes no grade, before one of another grade's certificate. A number encoding a
    grade below the leading one, surely read, is another certificate's and is less sure."""
    if not ranked or not grade_cands:
        return ranked
    top = grade_cands[0].value
    if grade_cands[0].confidence >= _SURE and top in grades.LADDER:
        def lower(c: Candidate) -> bool:
            coded = certificate_number.grade_of(c.value)
            return coded is not None and grades.rank(coded) < grades.rank(top)

        ranked = tuple(sorted(
            (replace(c, confidence=c.confidence * _LOWER_CERTIFICATE_FACTOR) if lower(c) else c for c in ranked),
            key=lambda c: -c.confidence))
    if len(ranked) < 2:
        return ranked
    floor = _comparable(ranked)

    def order(c: Candidate) -> int:
        coded = certificate_number.grade_of(c.value)
        return 0 if coded == top else 1 if coded is None else 2

    sure = [c for c in ranked if c.confidence >= floor]
    if len({order(c) for c in sure}) < 2:
        return ranked
    sure.sort(key=lambda c: (order(c), -c.confidence))
    return tuple(sure) + tuple(c for c in ranked if c not in sure)


def classify_pages(pages: list[PageContent], rows_by_page: list[list[Row]]) -> tuple[PageKind, ...]:
    kinds: list[PageKind] = []
    previous = None
    for page, rows in zip(pages, rows_by_page):
        kind = classify(rows, page.width, previous) if rows else PageKind.OTHER
        if kind is PageKind.OTHER and _attested(page):
            kind = PageKind.COPY  # a page attested as a copy is one, whatever it shows
        kinds.append(kind)
        previous = kind
    return tuple(kinds)


def extract_evidence(pages: list[PageContent]) -> Evidence:
    rows_by_page = [page_rows(p) for p in pages]
    kinds = classify_pages(pages, rows_by_page)
    all_rows = [r for rows in rows_by_page for r in rows]
    # The narrative is the applicant's own claim, not evidence: values come from the copies.
    evidence_rows = [r for rows, k in zip(rows_by_page, kinds) if k is not PageKind.NARRATIVE for r in rows]
    kind_of = {p.page: k for p, k in zip(pages, kinds)}

    ids = id_number.extract(evidence_rows)
    valid_ids = [c for c in ids if not c.source.endswith(":invalid")]
    births = dates.extract_birth_dates(evidence_rows) + [_derived_birth(c) for c in valid_ids]
    genders = names.extract_genders(evidence_rows) + [_derived_sex(c) for c in valid_ids]
    numbers = certificate_number.extract(evidence_rows)
    # A number read two ways: either may be the one printed, so the form's agreeing with
    # either is no mismatch. It gives no grade of its own: the first reading's stands.
    seconds = [c for c in certificate_number.extract(
        [r for p, k in zip(pages, kinds) if k is not PageKind.NARRATIVE for r in second_reading_rows(p)]
    ) if not any(c.value == n.value for n in numbers)]
    grade_cands = [
        c if kind_of.get(c.page) is PageKind.CERTIFICATE else replace(c, confidence=c.confidence * _OFF_PAGE_FACTOR)
        for c in grades.extract(evidence_rows)
    ] + [g for g in (_derived_grade(c) for c in numbers) if g is not None]
    honour_cands = [
        c if kind_of.get(c.page) is PageKind.HONOR else replace(c, confidence=c.confidence * _OFF_PAGE_FACTOR)
        for c in honors.extract(evidence_rows)
    ]
    ranked_grades = highest_grade_first(rank(grade_cands), kind_of)
    return Evidence(
        names=rank(_names(evidence_rows, kind_of)),
        id_numbers=rank(ids),
        birth_dates=rank(births),
        genders=rank(genders),
        grades=ranked_grades,
        certificate_numbers=numbers_of_grade_first(rank(numbers + seconds), ranked_grades),
        honors=rank(honour_cands),
        narrative=narrative.measure(all_rows, kinds),
        page_kinds=kinds,
        page_texts=tuple("".join(r.text for r in rows).replace(" ", "") for rows in rows_by_page),
        page_marks=tuple(p.marks for p in pages),
    )


def _attested(page: PageContent) -> bool:
    """Whether the page image carries the copy attestation (a stamp the OCR'd text lost)."""
    return any(m.kind == "attestation" and m.confidence >= 0.5 for m in page.marks or ())


def _names(rows: list[Row], kind_of: dict[int, PageKind]) -> list[Candidate]:
    found = names.extract_names(rows)
    lone_pages = (PageKind.CERTIFICATE, PageKind.HONOR)
    return found + names.extract_lone_names([r for r in rows if kind_of.get(r.page) in lone_pages])


def _derived_birth(c: Candidate) -> Candidate:
    info = id_number.parse_id(c.value)
    assert info is not None
    return replace(c, value=info.birth_date.isoformat(), source="id_number")


def _derived_sex(c: Candidate) -> Candidate:
    info = id_number.parse_id(c.value)
    assert info is not None
    return replace(c, value=info.sex, source="id_number")


def _derived_grade(c: Candidate) -> Candidate | None:
    grade = certificate_number.grade_of(c.value)
    return replace(c, value=grade, source="certificate_number") if grade else None
