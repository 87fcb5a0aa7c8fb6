"""Runs every extractor over a document's pages and ranks what they found."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from pipeline.model import Candidate, Evidence, PageContent, PageKind

from . import certificate_number, dates, grades, honors, id_number, names, narrative
from .layout import Row, page_rows
from .page_kind import classify

# A grade or honour named on a page that is not a certificate is weaker evidence.
_OFF_PAGE_FACTOR = 0.8


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
    grade_cands = [
        c if kind_of.get(c.page) is PageKind.CERTIFICATE else replace(c, confidence=c.confidence * _OFF_PAGE_FACTOR)
        for c in grades.extract(evidence_rows)
    ] + [g for g in (_derived_grade(c) for c in numbers) if g is not None]
    honour_cands = [
        c if kind_of.get(c.page) is PageKind.HONOR else replace(c, confidence=c.confidence * _OFF_PAGE_FACTOR)
        for c in honors.extract(evidence_rows)
    ]
    return Evidence(
        names=rank(_names(evidence_rows, kind_of)),
        id_numbers=rank(ids),
        birth_dates=rank(births),
        genders=rank(genders),
        grades=rank(grade_cands),
        certificate_numbers=rank(numbers),
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
