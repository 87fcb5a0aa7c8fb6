"""Honours the category requires or excludes (全国技术能手, 中华技能大奖)."""

from __future__ import annotations

from pipeline.model import DeclaredForm, Evidence, Finding, Severity

from .common import finding, severity_for, usable
from .rules import CategoryRules, Rules


def check_required_honor(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    if not cat.required_honor:
        return []
    accepted = (cat.required_honor, *cat.required_honor_waived_by)
    shown = [c for c in usable(ev.honors, rules) if c.value in accepted]
    declared = [h for h in form.honors if h in accepted]
    values = dict(category=cat.name, honor=cat.required_honor, waiver="、".join(cat.required_honor_waived_by) or "无")
    if shown:
        return []
    if declared:
        return [finding("HONOR_REQUIRED_MISSING", Severity.WARNING, declared=form.honors, found=None,
                        detail="表单已申报，但材料中未找到对应的荣誉证书", **values)]
    return [finding("HONOR_REQUIRED_MISSING", Severity.ERROR, declared=form.honors, found=None,
                    detail="表单未申报，材料中也未找到", **values)]


def check_excluded_honors(ev: Evidence, form: DeclaredForm, rules: Rules, cat: CategoryRules) -> list[Finding]:
    out: list[Finding] = []
    for honor in cat.excluded_honors:
        values = dict(category=cat.name, honor=honor)
        if honor in form.honors:
            out.append(finding("HONOR_EXCLUDES_CATEGORY", Severity.ERROR, declared=form.honors, found=honor,
                               detail="表单申报了该荣誉", **values))
            continue
        shown = [c for c in usable(ev.honors, rules) if c.value == honor]
        if shown:
            out.append(finding("HONOR_EXCLUDES_CATEGORY", severity_for(shown[0], rules), declared=form.honors,
                               found=shown[0], detail="材料中有该荣誉证书", **values))
    return out
