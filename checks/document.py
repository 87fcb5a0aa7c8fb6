"""The document as a whole: page count, narrative length, time of submission."""

from __future__ import annotations

from dataclasses import replace

from pipeline.model import DeclaredForm, Evidence, Finding, Severity

from .common import finding
from .rules import CategoryRules, Rules

# An OCR-ed count can be off by a few characters either way; only a clear excess is certain.
_OCR_COUNT_MARGIN = 1.05


def check_pages(pages: int, rules: Rules) -> list[Finding]:
    if pages > rules.max_pages:
        return [finding("PAGE_LIMIT_EXCEEDED", Severity.ERROR, declared=None, found=str(pages),
                        limit=rules.max_pages)]
    return []


def check_narrative(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    nar = ev.narrative
    if nar is None:
        return [finding("NARRATIVE_NOT_FOUND", Severity.INFO)]
    limit = rules.narrative_max_chars
    if nar.characters <= limit:
        return []
    sure = nar.from_text_layer or nar.characters > limit * _OCR_COUNT_MARGIN
    f = finding("NARRATIVE_TOO_LONG", Severity.ERROR if sure else Severity.WARNING, declared=None,
                found=str(nar.characters), limit=limit)
    return [replace(f, page=nar.pages[0], bbox=nar.bbox)]


def check_deadline(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if form.submitted_at is None or form.submitted_at <= rules.deadline:
        return []
    return [finding("SUBMITTED_AFTER_DEADLINE", Severity.ERROR, declared=form.submitted_at.isoformat(),
                    found=form.submitted_at.isoformat(), deadline=rules.deadline.isoformat())]
