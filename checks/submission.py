"""All per-submission checks, in the order a reviewer reads their findings."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.model import DeclaredForm, Evidence, Finding

from . import certificate, copies, document, honors, identity
from .rules import CategoryRules, Rules

Check = Callable[[Evidence, DeclaredForm, Rules, CategoryRules], list[Finding]]

CHECKS: tuple[Check, ...] = (
    identity.check_name,
    identity.check_id_number,
    identity.check_gender,
    identity.check_birth_date,
    identity.check_age,
    certificate.check_certificate_found,
    certificate.check_grade,
    certificate.check_certificate_number,
    honors.check_required_honor,
    honors.check_excluded_honors,
    document.check_narrative,
    document.check_deadline,
    copies.check_copies,
)


def run_checks(evidence: Evidence, form: DeclaredForm, rules: Rules, pages: int) -> list[Finding]:
    cat = rules.category(form.category)
    findings = document.check_pages(pages, rules)
    for check in CHECKS:
        findings.extend(check(evidence, form, rules, cat))
    return findings

