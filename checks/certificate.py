"""The certificate: that there is one, its grade against the form and the minimum, its number."""

from __future__ import annotations

from extractors.certificate_number import cut_short, grade_of, same_number, well_formed
from extractors.grades import rank
from pipeline.model import DeclaredForm, Evidence, Finding, PageKind, Severity

from .common import finding, low_confidence, severity_for, usable
from .rules import CategoryRules, Rules


# A page that yields fewer characters than this was not really read (blank, dark, a photo).
_READABLE_PAGE_CHARS = 20


def check_certificate_found(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if ev.grades or ev.certificate_numbers:
        return []
    if PageKind.CERTIFICATE in ev.page_kinds:
        return [finding("CERTIFICATE_NOT_FOUND", Severity.WARNING,
                        detail="有证书页，但未能读出证书等级或编号，请人工核对")]
    if any(len(t) < _READABLE_PAGE_CHARS for t, k in zip(ev.page_texts, ev.page_kinds) if k is not PageKind.NARRATIVE):
        return [finding("CERTIFICATE_NOT_FOUND", Severity.WARNING,
                        detail="未找到证书，但有页面几乎未能识别出文字，请人工核对")]
    return [finding("CERTIFICATE_NOT_FOUND", Severity.ERROR,
                    detail="材料中未找到职业资格证书或职业技能等级证书")]


def check_grade(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    out: list[Finding] = []
    grades = usable(ev.grades, rules)
    # The form contradicts itself when its certificate number encodes another grade.
    if form.certificate_number and (coded := grade_of(form.certificate_number)) and coded != form.grade:
        # the form against itself; where the material shows the number's grade, the reviewer
        # is shown that place
        shown = next((c for c in grades if c.value == coded), None)
        out.append(finding("GRADE_MISMATCH", Severity.ERROR, declared=form.grade, found=shown or coded,
                           where="申报的证书编号所表示"))
    elif grades and not any(c.value == form.grade for c in grades):
        top = max(grades, key=lambda c: (rank(c.value), c.confidence))
        out.append(finding("GRADE_MISMATCH", severity_for(top, rules), declared=form.grade, found=top,
                           where="材料中"))
    elif not grades and ev.grades:
        out.append(low_confidence("证书等级", ev.grades[0]))
    out.extend(_below_minimum(grades, form, cat, rules))
    return out


def _below_minimum(grades, form: DeclaredForm, cat: CategoryRules, rules: Rules) -> list[Finding]:
    minimum = rank(cat.min_grade)
    values = dict(category=cat.name, minimum=cat.min_grade)
    if rank(form.grade) < minimum:
        return [finding("GRADE_BELOW_REQUIREMENT", Severity.ERROR, declared=form.grade, found=form.grade,
                        where="申报等级", **values)]
    if grades:
        top = max(grades, key=lambda c: (rank(c.value), c.confidence))
        if rank(top.value) < minimum:
            sure = [c for c in grades if c.value == top.value]
            return [finding("GRADE_BELOW_REQUIREMENT", severity_for(sure[0], rules), declared=form.grade,
                            found=top, where="材料中的最高证书等级", **values)]
    return []


def check_certificate_number(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if not form.certificate_number:
        return []
    numbers = usable(ev.certificate_numbers, rules)
    if not numbers or any(same_number(c.value, form.certificate_number) for c in numbers):
        return []
    best = numbers[0]
    if not well_formed(best.value) and well_formed(form.certificate_number):
        return [low_confidence("证书编号", best)]  # a number of no known form: a misreading
    if cut_short(best.value, form.certificate_number):
        # the declared number with its end or start unread (a seal stamped over it): its
        # 16 first characters make a number of the older form, which says nothing against it
        return [low_confidence("证书编号", best)]
    sev = severity_for(best, rules)
    if _one_character_apart(best.value, form.certificate_number):
        sev = Severity.WARNING  # as likely one misread character as another certificate
    return [finding("CERTIFICATE_NUMBER_MISMATCH", sev, declared=form.certificate_number, found=best)]


def _one_character_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) <= 1
