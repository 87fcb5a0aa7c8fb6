import datetime as dt
import json

import pytest
from helpers import form_dict, make_id

from checks.batch import check_batch
from checks.rules import load_rules
from checks.submission import run_checks
from pipeline.errors import RulesInvalid
from pipeline.forms import parse_form
from pipeline.model import Box, Candidate, Evidence, NarrativeInfo, PageKind, Severity

RULES = load_rules()
NUMBER = make_id()


def form(**kw):
    return parse_form(json.dumps(form_dict(**kw), ensure_ascii=False).encode(), tuple(RULES.categories), "t1")


def cand(value, conf=0.99, source="label", page=2):
    return Candidate(value, page, Box(10, 10, 50, 20), conf, source)


def evidence(**kw):
    base = dict(
        names=(cand("张三丰"),),
        id_numbers=(cand(NUMBER, source="id_number:valid"),),
        birth_dates=(cand("1985-03-12", source="id_number"),),
        genders=(cand("男", source="label:性别"),),
        grades=(cand("技师"),),
        certificate_numbers=(cand("S000050123456232000123"),),
        honors=(),
        narrative=NarrativeInfo((1,), 900, True),
        page_kinds=(PageKind.NARRATIVE, PageKind.CERTIFICATE),
        page_texts=("候选人事迹材料张三丰……", "职业技能等级证书姓名张三丰"),
    )
    base.update(kw)
    return Evidence(**base)


def codes(findings, severity=None):
    return sorted(f.code for f in findings if severity is None or f.severity is severity)


def test_a_consistent_submission_has_no_findings():
    assert run_checks(evidence(), form(), RULES, pages=2) == []


def test_name_mismatch_is_an_error_when_read_surely_and_a_warning_for_one_character():
    ev = evidence(names=(cand("李四光"),), page_texts=("", "姓名李四光"))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.ERROR) == ["NAME_MISMATCH"]
    ev = evidence(names=(cand("张三风"),), page_texts=("", "姓名张三风"))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.WARNING) == ["NAME_MISMATCH"]


def test_a_name_that_could_not_be_read_is_only_information():
    ev = evidence(names=(), page_texts=("", "职业技能等级证书性别男"))
    f = run_checks(ev, form(), RULES, 2)
    assert [(x.code, x.severity) for x in f] == [("NAME_NOT_READ", Severity.INFO)]


def test_a_certificate_number_of_no_known_form_asks_for_a_look():
    ev = evidence(certificate_numbers=(cand("S2602503281211261627"),))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.WARNING) == ["LOW_CONFIDENCE"]


def test_declared_id_number_with_a_wrong_check_character():
    bad = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    f = run_checks(evidence(), form(id_number=bad), RULES, 2)
    assert "ID_NUMBER_INVALID" in codes(f, Severity.ERROR)


def test_id_number_mismatch_carries_page_and_box():
    other = make_id(seq="77")
    f = run_checks(evidence(id_numbers=(cand(other, source="id_number:valid"),)), form(), RULES, 2)
    [m] = [x for x in f if x.code == "ID_NUMBER_MISMATCH"]
    assert m.severity is Severity.ERROR and m.found == other and m.page == 2 and m.bbox is not None


def test_an_unsure_reading_gives_a_warning_not_an_error():
    other = make_id(seq="77")
    f = run_checks(evidence(id_numbers=(cand(other, conf=0.7, source="id_number:repaired"),)), form(), RULES, 2)
    assert codes(f) == ["ID_NUMBER_MISMATCH"] and f[0].severity is Severity.WARNING


def test_gender_against_the_declared_id_number():
    f = run_checks(evidence(genders=()), form(gender="女"), RULES, 2)
    assert codes(f, Severity.ERROR) == ["GENDER_MISMATCH"]


def test_birth_date_against_the_declared_id_and_the_document():
    f = run_checks(evidence(), form(birth_date="1985-03-13"), RULES, 2)
    assert "BIRTH_DATE_MISMATCH" in codes(f, Severity.ERROR)
    ev = evidence(birth_dates=(cand("1986-03-12", source="label:出生日期"),))
    assert codes(run_checks(ev, form(), RULES, 2)) == ["BIRTH_DATE_MISMATCH"]
    # a year-month reading that agrees is no mismatch
    ev = evidence(birth_dates=(cand("1985-03", source="label:出生年月"),))
    assert run_checks(ev, form(), RULES, 2) == []


@pytest.mark.parametrize("category,born,grade,expected", [
    ("全市技术能手", dt.date(1972, 12, 31), "技师", True),
    ("全市技术能手", dt.date(1973, 1, 1), "技师", False),
    ("巴渝青年技能之星", dt.date(1982, 6, 1), "高级工", True),
    ("重庆技能大师", dt.date(1968, 1, 1), "高级技师", False),
])
def test_age_limit_by_category(category, born, grade, expected):
    number = make_id(born=born)
    ev = evidence(id_numbers=(cand(number, source="id_number:valid"),), birth_dates=(cand(born.isoformat(), source="id_number"),),
                  grades=(cand(grade),), certificate_numbers=(),
                  honors=(cand("全国技术能手", source="honor:honor"),) if category == "重庆技能大师" else ())
    f = run_checks(ev, form(category=category, id_number=number, birth_date=born.isoformat(), grade=grade,
                            certificate_number=None, honors=["全国技术能手"] if category == "重庆技能大师" else []), RULES, 2)
    assert ("AGE_LIMIT_EXCEEDED" in codes(f, Severity.ERROR)) is expected


def test_grade_mismatch_and_below_requirement():
    ev = evidence(grades=(cand("高级工"),), certificate_numbers=())
    f = run_checks(ev, form(certificate_number=None), RULES, 2)
    assert codes(f, Severity.ERROR) == ["GRADE_BELOW_REQUIREMENT", "GRADE_MISMATCH"]


def test_declared_grade_below_the_minimum():
    ev = evidence(grades=(cand("高级工"),), certificate_numbers=())
    f = run_checks(ev, form(grade="高级工", certificate_number=None), RULES, 2)
    assert codes(f) == ["GRADE_BELOW_REQUIREMENT"]


def test_a_declared_number_that_encodes_another_grade():
    f = run_checks(evidence(grades=()), form(grade="高级技师"), RULES, 2)
    [m] = [x for x in f if x.code == "GRADE_MISMATCH"]
    assert m.severity is Severity.ERROR and m.found == "技师" and m.page is None
    # the grade the number encodes, printed in the material: the reviewer is shown where
    f = run_checks(evidence(grades=(cand("技师", page=3),)), form(grade="高级技师"), RULES, 2)
    [m] = [x for x in f if x.code == "GRADE_MISMATCH"]
    assert m.severity is Severity.ERROR and m.found == "技师" and m.page == 3 and m.bbox is not None


def test_certificate_number_mismatch_and_not_found():
    ev = evidence(certificate_numbers=(cand("S000050123456232000999"),))
    assert codes(run_checks(ev, form(), RULES, 2)) == ["CERTIFICATE_NUMBER_MISMATCH"]
    readable = ("候选人事迹材料", "居民身份证姓名张三丰性别男民族汉住址重庆市渝中区解放碑街道")
    ev = evidence(grades=(), certificate_numbers=(), page_kinds=(PageKind.NARRATIVE, PageKind.OTHER), page_texts=readable)
    assert codes(run_checks(ev, form(), RULES, 2), Severity.ERROR) == ["CERTIFICATE_NOT_FOUND"]
    # a page that could hardly be read might be the certificate: a person looks
    unread = ("候选人事迹材料", "▇▇")
    ev = evidence(grades=(), certificate_numbers=(), page_kinds=(PageKind.NARRATIVE, PageKind.OTHER), page_texts=unread)
    assert codes(run_checks(ev, form(), RULES, 2), Severity.WARNING) == ["CERTIFICATE_NOT_FOUND"]


def test_a_certificate_number_one_character_off_is_only_a_warning():
    ev = evidence(certificate_numbers=(cand("S000050123456232000124"),))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.WARNING) == ["CERTIFICATE_NUMBER_MISMATCH"]


def test_a_certificate_number_read_cut_short_asks_for_a_look():
    """A seal over the end of a 22-character number: its first 16 characters, S read as 5,
    make a number of the older 16-digit form (an independent probe's P01 and P04 were given
    CERTIFICATE_NUMBER_MISMATCH, P11 at error); a whole number of the older form is a mismatch."""
    declared = "S000050123456232000123"
    for part in ("S000050123456232", "5000050123456232", "000050123456232000", "123456232000123"):
        ev = evidence(certificate_numbers=(cand(part),))
        f = run_checks(ev, form(certificate_number=declared), RULES, 2)
        assert codes(f, Severity.WARNING) == ["LOW_CONFIDENCE"], part
    ev = evidence(certificate_numbers=(cand("0950020121200833"),))
    assert codes(run_checks(ev, form(certificate_number=declared), RULES, 2)) == ["CERTIFICATE_NUMBER_MISMATCH"]


def test_master_needs_the_national_honour_unless_the_grand_prize():
    base = dict(category="重庆技能大师", grade="高级技师", certificate_number=None)
    ev = evidence(grades=(cand("高级技师"),), certificate_numbers=())
    assert codes(run_checks(ev, form(**base), RULES, 2)) == ["HONOR_REQUIRED_MISSING"]
    declared_only = run_checks(ev, form(**base, honors=["全国技术能手"]), RULES, 2)
    assert codes(declared_only, Severity.WARNING) == ["HONOR_REQUIRED_MISSING"]
    ev2 = evidence(grades=(cand("高级技师"),), certificate_numbers=(), honors=(cand("中华技能大奖", source="honor:honor"),))
    assert run_checks(ev2, form(**base), RULES, 2) == []


def test_city_expert_must_not_hold_the_national_honour():
    ev = evidence(honors=(cand("全国技术能手", source="honor:honor"),))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.ERROR) == ["HONOR_EXCLUDES_CATEGORY"]
    ev = evidence(honors=(cand("全市技术能手", source="honor:city_honor"),))
    assert run_checks(ev, form(), RULES, 2) == []


def test_narrative_length_page_limit_and_deadline():
    ev = evidence(narrative=NarrativeInfo((1,), 1501, True))
    assert codes(run_checks(ev, form(), RULES, 2), Severity.ERROR) == ["NARRATIVE_TOO_LONG"]
    ev = evidence(narrative=NarrativeInfo((1,), 1510, False))  # OCR count within its margin
    assert codes(run_checks(ev, form(), RULES, 2), Severity.WARNING) == ["NARRATIVE_TOO_LONG"]
    assert codes(run_checks(evidence(), form(), RULES, 16)) == ["PAGE_LIMIT_EXCEEDED"]
    assert run_checks(evidence(), form(), RULES, 15) == []
    late = form(submitted_at="2023-12-15T18:00:01+08:00")
    assert codes(run_checks(evidence(), late, RULES, 2)) == ["SUBMITTED_AFTER_DEADLINE"]
    assert run_checks(evidence(), form(submitted_at="2023-12-15T10:00:00Z"), RULES, 2) == []


def test_duplicates_and_quota_across_a_batch():
    forms = {f"m{i}": form(id=f"m{i}", category="重庆技能大师", grade="高级技师", id_number=make_id(seq=f"{i}1"),
                           recommender="江北区人力社保局", certificate_number=None) for i in range(3)}
    forms["dup"] = form(id="dup", id_number=forms["m0"].id_number)
    forms["edu1"], forms["edu2"], forms["edu3"] = (
        form(id=f"e{i}", category="重庆技能大师", grade="高级技师", recommender=r, certificate_number=None,
             id_number=make_id(seq=f"5{i}"))
        for i, r in enumerate(["市教委", "重庆市教育委员会", "市教委"]))
    found = {(b.submission, b.finding.code) for b in check_batch(forms, RULES)}
    assert found == {("m0", "DUPLICATE_APPLICANT"), ("dup", "DUPLICATE_APPLICANT"),
                     ("m0", "QUOTA_EXCEEDED"), ("m1", "QUOTA_EXCEEDED"), ("m2", "QUOTA_EXCEEDED")}


def test_rules_file_errors_name_the_key(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[notice]\nid="x"\ndeadline=2023-12-15T18:00:00+08:00\nmax_pages=15\n[confidence]\nerror_at=0.9\nusable_at=0.5\n[categories]\n', "utf-8")
    with pytest.raises(RulesInvalid, match="narrative_max_chars"):
        load_rules(p)
