"""Checks across a batch: one applicant in several submissions, recommenders over quota."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pipeline.model import DeclaredForm, Finding, Severity

from .messages import message
from .rules import Rules


@dataclass(frozen=True, slots=True)
class BatchFinding:
    submission: str
    finding: Finding


def check_batch(forms: dict[str, DeclaredForm], rules: Rules) -> list[BatchFinding]:
    """Findings to add to the named submissions' reports."""
    return _duplicates(forms) + _quotas(forms, rules)


def _duplicates(forms: dict[str, DeclaredForm]) -> list[BatchFinding]:
    by_id: dict[str, list[str]] = defaultdict(list)
    for sid, form in forms.items():
        by_id[form.id_number].append(sid)
    out = []
    for number, sids in by_id.items():
        if len(sids) < 2:
            continue
        for sid in sids:
            others = "、".join(s for s in sorted(sids) if s != sid)
            out.append(BatchFinding(sid, Finding("DUPLICATE_APPLICANT", Severity.ERROR,
                                                 message("DUPLICATE_APPLICANT", others=others),
                                                 number, others)))
    return out


def _quotas(forms: dict[str, DeclaredForm], rules: Rules) -> list[BatchFinding]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sid, form in forms.items():
        cat = rules.categories[form.category]
        if cat.quota_per_recommender is not None and form.recommender:
            groups[(form.category, rules.recommender_key(form.recommender))].append(sid)
    out = []
    for (category, recommender), sids in groups.items():
        cat = rules.categories[category]
        limit = cat.quota_exceptions.get(recommender, cat.quota_per_recommender)
        if limit is None or len(sids) <= limit:
            continue
        text = message("QUOTA_EXCEEDED", recommender=recommender, category=category, count=len(sids), limit=limit)
        for sid in sorted(sids):
            out.append(BatchFinding(sid, Finding("QUOTA_EXCEEDED", Severity.ERROR, text,
                                                 str(limit), str(len(sids)))))
    return out
