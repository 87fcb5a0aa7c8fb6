"""Who the applicant is: name, ID number, sex, date of birth, and the age limit."""

from __future__ import annotations

from extractors.dates import same_date
from extractors.id_number import invalid_reason, parse_id
from pipeline.model import DeclaredForm, Evidence, Finding, PageKind, Severity

from .common import finding, low_confidence, severity_for, usable
from .rules import CategoryRules, Rules


def _evidence_text(ev: Evidence) -> str:
    return "".join(t for t, k in zip(ev.page_texts, ev.page_kinds) if k is not PageKind.NARRATIVE)


def check_name(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if form.name in _evidence_text(ev):
        return []
    names = usable(ev.names, rules)
    if not names:
        # Nothing read is no evidence of another name: say so, for a person to glance at.
        return [finding("NAME_NOT_READ", Severity.INFO, declared=form.name, found=None)] if ev.page_texts else []
    best = names[0]
    sev = severity_for(best, rules)
    if _differs_by_one(best.value, form.name):
        sev = Severity.WARNING  # one character: as likely a misread rare character as another person
    return [finding("NAME_MISMATCH", sev, declared=form.name, found=best)]


def _differs_by_one(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1


def check_id_number(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    reason = invalid_reason(form.id_number)
    if reason:
        return [finding("ID_NUMBER_INVALID", Severity.ERROR, declared=form.id_number, detail=reason)]
    found = usable(ev.id_numbers, rules)
    valid = [c for c in found if not c.source.endswith(":invalid")]
    if any(c.value == form.id_number for c in valid):
        return []
    if valid:
        return [finding("ID_NUMBER_MISMATCH", severity_for(valid[0], rules), declared=form.id_number, found=valid[0])]
    if found:
        return [low_confidence("身份证号", found[0])]
    return []


def check_gender(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if form.gender is None:
        return []
    info = parse_id(form.id_number)
    if info and info.sex != form.gender:
        return [finding("GENDER_MISMATCH", Severity.ERROR, declared=form.gender, found=info.sex,
                        where="申报的身份证号（第17位）")]
    printed = [c for c in usable(ev.genders, rules) if c.source != "id_number"]
    if printed and not any(c.value == form.gender for c in printed):
        return [finding("GENDER_MISMATCH", severity_for(printed[0], rules), declared=form.gender,
                        found=printed[0], where="材料中的性别")]
    return []


def check_birth_date(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    """Against the document first (the reviewer sees where), else against the declared ID."""
    declared = form.birth_date.isoformat()
    info = parse_id(form.id_number)
    id_disagrees = info is not None and info.birth_date != form.birth_date
    dates = usable(ev.birth_dates, rules)
    agreeing = [c for c in dates if same_date(c.value, declared)]
    disagreeing = [c for c in dates if not same_date(c.value, declared)]
    if disagreeing and (not agreeing or disagreeing[0].confidence > agreeing[0].confidence):
        best = disagreeing[0]
        where = "材料中身份证号所含的出生日期" if best.source == "id_number" else "材料中的出生日期"
        sure = id_disagrees and info is not None and same_date(best.value, info.birth_date.isoformat())
        sev = Severity.ERROR if sure else severity_for(best, rules)
        return [finding("BIRTH_DATE_MISMATCH", sev, declared=declared, found=best, where=where)]
    if id_disagrees and info is not None:
        return [finding("BIRTH_DATE_MISMATCH", Severity.ERROR, declared=declared,
                        found=info.birth_date.isoformat(), where="申报的身份证号（第7-14位）")]
    return []


def born_before(value: str, cutoff: str) -> bool | None:
    """Whether a date (YYYY-MM-DD or YYYY-MM) lies before the cut-off; None when it cannot say."""
    n = len(value)
    if value < cutoff[:n]:
        return True
    if value > cutoff[:n] or n == len(cutoff):
        return False
    return None  # same month, day unknown


def check_age(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    cutoff = cat.born_on_or_after.isoformat()
    values = dict(category=cat.name, cutoff=cutoff)
    if born_before(form.birth_date.isoformat(), cutoff):
        return [finding("AGE_LIMIT_EXCEEDED", Severity.ERROR, declared=form.birth_date.isoformat(),
                        found=form.birth_date.isoformat(), where="申报", **values)]
    dates = usable(ev.birth_dates, rules)
    if dates and born_before(dates[0].value, cutoff):
        return [finding("AGE_LIMIT_EXCEEDED", severity_for(dates[0], rules), declared=form.birth_date.isoformat(),
                        found=dates[0], where="材料", **values)]
    return []
