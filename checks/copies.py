"""Every copy (复印件) carries 此件与原件相符, the handler's signature and an official seal.

Per page of a copy kind (the rules' copies.kinds) whose image was examined:
- ATTESTATION_MISSING: no attestation read. An error when nothing on the page came near the
  words; a warning when something did (a doubtful reading) or when the words are there but
  no signature was found beside 经办人 (the signature detector is a heuristic).
- SEAL_MISSING: no round or oval seal found. An error when no seal-like candidate was seen
  at all; a warning when one was (a faint or partly hidden stamp), or when the only seals lie
  away from the attestation and name neither the unit nor the recommender (the copied
  document's own seal, with no certifying seal beside it).
- SEAL_ORG_UNMATCHED (warning): the certifying seal's name, read with confidence, matches
  neither the declared unit nor the recommender.
Severity follows certainty (rules.error_at), as everywhere.
"""

from __future__ import annotations

from extractors.copy_marks import (
    FOUND_AT,
    absent_certainty,
    attestation_blocks,
    best,
    near_attestation,
)
from extractors.orgs import canonical_org, misread, org_similarity, read_in_part
from pipeline.model import Box, DeclaredForm, Evidence, Finding, Mark, Severity

from .messages import message
from .rules import CategoryRules, CopyRules, Rules

# Names read from a seal shorter than this are not compared (a seal half off the page)...
MIN_SEAL_TEXT = 4
# ...nor those shorter than this share of the shortest declared name.
WHOLE_NAME = 0.75


def check_copies(evidence: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    """The attestation, signature and seal of every copy page."""
    if rules.copies is None:
        return []
    findings: list[Finding] = []
    for i, (kind, marks) in enumerate(zip(evidence.page_kinds, evidence.page_marks)):
        if marks is None or kind.value not in rules.copies.kinds:
            continue
        findings.extend(check_copy_page(i + 1, marks, form, rules))
    return findings


def check_copy_page(page: int, marks: tuple[Mark, ...], form: DeclaredForm, rules: Rules) -> list[Finding]:
    """The findings for one copy page from the marks found on it."""
    copies = rules.copies
    assert copies is not None
    att = best(marks, "attestation")
    sig = best(marks, "signature")
    seals = sorted((m for m in marks if m.kind == "seal"), key=lambda m: -m.confidence)
    found_seals = [m for m in seals if m.confidence >= FOUND_AT]
    attested = att is not None and att.confidence >= FOUND_AT
    out: list[Finding] = []

    if not attested:
        if absent_certainty(marks, "attestation") >= rules.error_at:
            out.append(_finding("ATTESTATION_MISSING", Severity.ERROR, page, None))
        else:
            out.append(_finding("ATTESTATION_MISSING", Severity.WARNING, page, att.box if att else None,
                                variant="unsure", found=att.text if att else ""))
    elif sig is None or sig.confidence < FOUND_AT:
        out.append(_finding("ATTESTATION_MISSING", Severity.WARNING, page, att.box, variant="signature"))

    if not found_seals:
        if absent_certainty(marks, "seal") >= rules.error_at:
            out.append(_finding("SEAL_MISSING", Severity.ERROR, page, None))
        else:
            out.append(_finding("SEAL_MISSING", Severity.WARNING, page, seals[0].box, variant="unsure"))
        return out

    names = _declared_orgs(form, rules)
    blocks = attestation_blocks(marks)
    certifying = [m for m in found_seals if any(near_attestation(m.box, block) for block in blocks)]
    # (A seal far from the attestation is not excused by its name: the copied document's
    # own seal may be the unit's, on a certificate the unit issued.)
    if attested and not certifying:
        out.append(_finding("SEAL_MISSING", Severity.WARNING, page, found_seals[0].box,
                            variant="not_at_attestation"))
    read = [m for m in certifying
            if _read_surely(m, copies) and _whole(m.text, names) and not misread(m.text, names, copies.places)]
    # every certifying seal's name is needed: one not read may be the unit's own, stamped
    # beside the copied document's issuer
    if read and len(read) == len(certifying) and not any(_matches(m.text, names, copies) for m in read):
        seal = read[0]
        out.append(Finding(
            "SEAL_ORG_UNMATCHED", Severity.WARNING,
            message("SEAL_ORG_UNMATCHED", page=page, found=seal.text, unit=form.unit or "-",
                    recommender=form.recommender or "-"),
            " / ".join(n for n in (form.unit, form.recommender) if n) or None, seal.text, page, seal.box))
    return out


def _finding(code: str, severity: Severity, page: int, box: Box | None, variant: str = "", found: str = "") -> Finding:
    text = message(f"{code}:{variant}" if variant else code, page=page, found=found)
    return Finding(code, severity, text, None, found or None, page, box)


def _read_surely(seal: Mark, copies: CopyRules) -> bool:
    return seal.text_confidence >= copies.seal_text_at and len(seal.text) >= MIN_SEAL_TEXT


def _declared_orgs(form: DeclaredForm, rules: Rules) -> list[str]:
    """The unit and the recommender, with every spelling the rules know for the recommender."""
    names = [n for n in (form.unit, form.recommender) if n]
    if form.recommender:
        key = rules.recommender_key(form.recommender)
        names += [spelling for spelling, canonical in rules.recommender_aliases.items() if canonical == key]
        names.append(key)
    return names


def _matches(read: str, names: list[str], copies: CopyRules) -> bool:
    """Whether a seal's name matches one of the organisations."""
    return any(org_similarity(read, n) >= copies.seal_org_similarity for n in names)


def _whole(read: str, names: list[str]) -> bool:
    """Whether a name read is long enough to be a whole name, and names its place: a seal read
    in part (cut by the page's edge, half hidden, its district's name dropped) is not compared."""
    shortest = min((len(canonical_org(n)) for n in names), default=0)
    return len(canonical_org(read)) >= WHOLE_NAME * shortest and not any(read_in_part(read, n) for n in names)
