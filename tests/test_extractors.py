import datetime as dt
from dataclasses import replace

import pytest
from helpers import line, make_id, page, row

from extractors import certificate_number, dates, grades, honors, id_number, names, narrative
from extractors.evidence import extract_evidence
from extractors.page_kind import classify
from extractors.textnorm import normalise
from pipeline.model import PageKind


# --- ID numbers -------------------------------------------------------------------------

def test_check_character_of_the_standard_example():
    assert id_number.check_character("11010519491231002") == "X"
    info = id_number.parse_id("11010519491231002X")
    assert info.birth_date == dt.date(1949, 12, 31) and info.sex == "女"


@pytest.mark.parametrize("bad", [
    "11010519491231002Y",  # not a check character at all
    "110105194912310021",  # wrong check character
    "990105194912310021",  # no such province
    "11010519490231002X",  # 31 February... (month 02 day 31)
    "1101051949123100",  # too short
])
def test_invalid_numbers_are_refused(bad):
    assert id_number.parse_id(bad) is None
    assert id_number.invalid_reason(bad)


@pytest.mark.parametrize("raw", [
    "11O1O519491231002X", "I1010519491231002X", "11010519491231002×", "11010519491231002x",
    "110105 19491231 002X", "11010519491231OO2X", "//0105/949/23/002X",
])
def test_ocr_confusions_are_repaired_by_the_check_character(raw):
    fixed = id_number.repair(raw)
    assert fixed is not None and fixed[0] == "11010519491231002X"


def test_b_and_s_confusions():
    number = make_id(region="500108", born=dt.date(1988, 5, 25), seq="58", sex_digit=5)
    raw = number.replace("8", "B", 1).replace("5", "S", 1)
    assert id_number.repair(raw)[0] == number


def test_an_unrepairable_reading_is_kept_but_doubted():
    good = make_id()
    wrong = good[:10] + ("7" if good[10] != "7" else "1") + good[11:]
    cands = id_number.extract([row(f"身份证号:{wrong}")])
    assert len(cands) == 1 and cands[0].source.endswith("invalid") and cands[0].confidence < 0.5


def test_id_numbers_found_in_rows_with_boxes():
    number = make_id()
    cands = id_number.extract([row(f"公民身份号码 {number}")])
    assert [c.value for c in cands] == [number]
    assert cands[0].bbox.x0 == pytest.approx(50 + 10 * 7)  # starts after the label and a space
    assert cands[0].confidence > 0.9


def test_a_22_character_certificate_number_is_not_an_id():
    assert id_number.extract([row("证书编号:S000050123456232000123")]) == []


# --- dates -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("1985年03月12日", "1985-03-12"), ("1985年3月12日", "1985-03-12"), ("1985.03.12", "1985-03-12"),
    ("1985-03-12", "1985-03-12"), ("一九八五年三月十二日", "1985-03-12"), ("１９８５年３月１２日", "1985-03-12"),
    ("1985年3月", "1985-03"), ("1985.3", "1985-03"), ("二〇〇一年十月三十一日", "2001-10-31"),
    ("1985 年 3 月 12 日", "1985-03-12"),
])
def test_date_forms(text, value):
    assert dates.parse_date(normalise(text)) == value


def test_impossible_dates_are_not_dates():
    assert dates.parse_date("1985年2月30日") is None
    assert dates.parse_date("1985年13月") is None


def test_birth_date_is_read_from_its_label_not_from_other_dates():
    rows = [row("发证日期:2020年05月06日", top=50), row("出生年月:1985年3月", top=80)]
    cands = dates.extract_birth_dates(rows)
    assert [c.value for c in cands] == ["1985-03"]
    assert cands[0].source == "label:出生年月"


def test_booklet_value_below_its_label():
    rows = [row("出生日期", top=100), row("1990年07月08日", top=116)]
    assert [c.value for c in dates.extract_birth_dates(rows)] == ["1990-07-08"]


def test_same_date_compares_at_the_shorter_precision():
    assert dates.same_date("1985-03", "1985-03-12")
    assert not dates.same_date("1985-04", "1985-03-12")


# --- grades ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,grade", [
    ("职业技能等级:二级/技师", "技师"), ("国家职业资格一级", "高级技师"), ("等级 三级", "高级工"),
    ("高级技师", "高级技师"), ("首席技师", "首席技师"), ("职业资格二级", "技师"), ("四级/中级工", "中级工"),
    ("二级（技师）", "技师"),
])
def test_grade_wordings(text, grade):
    assert [c.value for c in grades.extract([row(normalise(text))])] == [grade]


@pytest.mark.parametrize("text", ["重庆市技师学院", "毕业于重庆市高级技工学校", "高级工程师", "三级甲等医院", "二级建造师",
                                  "重庆工程技师学", "重庆市高级技工学"])  # a seal's name cut short by its arc
def test_school_names_and_titles_are_not_grades(text):
    assert grades.extract([row(text)]) == []


def test_a_bare_level_needs_a_grade_label():
    assert grades.extract([row("三级")]) == []


def test_normalise_grade_for_forms():
    assert grades.normalise_grade("二级/技师") == "技师"
    assert grades.normalise_grade("国家职业资格三级") == "高级工"
    assert grades.normalise_grade("高级技师") == "高级技师"
    assert grades.normalise_grade("技师学院") is None


# --- honours -----------------------------------------------------------------------------

def test_national_and_city_honours_are_told_apart():
    found = {c.value: c.source for c in honors.extract([row("授予 张三 全国技术能手 称号"), row("全市技术能手"),
                                                        row("重庆市技术能手")])}
    assert found == {"全国技术能手": "honor:honor", "全市技术能手": "honor:city_honor",
                     "重庆市技术能手": "honor:city_honor"}


def test_a_recommendation_is_not_an_honour():
    assert honors.extract([row("优先纳入全国技术能手推荐参评人选")]) == []


# --- names and sex -----------------------------------------------------------------------

def test_name_stops_at_the_next_label_when_ocr_joins_cells():
    assert [c.value for c in names.extract_names([row("姓名:张三丰性别:男")])] == ["张三丰"]
    assert [c.value for c in names.extract_genders([row("姓名:张三丰性别:男")])] == ["男"]


def test_name_followed_by_another_column():
    assert [c.value for c in names.extract_names([row("姓名:曹龙武 发证机关:重庆市人力资源和社会保障局")])] == ["曹龙武"]
    assert [c.value for c in names.extract_names([row("姓名 李 四 民族 汉")])] == ["李四"]


def test_a_narrative_names_its_candidate():
    assert [c.value for c in names.extract_names([row("候选人:郭国志 工作单位:重庆市嘉陵技师学院")])] == ["郭国志"]
    assert [c.value for c in names.extract_names([row("候选人:郭国志工作单位:重庆市嘉陵技师学院")])] == ["郭国志"]
    assert [c.value for c in names.extract_names([row("申报人：李 四")])] == ["李四"]
    # the narrative's title is no label
    assert names.extract_names([row("候选人事迹材料")]) == []


def test_seal_text_between_label_and_number():
    assert [c.value for c in certificate_number.extract([row("证书编号 庆市 1950170905299800")])] == ["1950170905299800"]
    assert certificate_number.extract([row("编号 第一批 123")]) == []


def test_the_id_number_label_is_not_a_certificate_number_label():
    assert certificate_number.extract([row("身份证号:500101200008287453")]) == []


def test_seal_text_across_the_name_row_is_skipped():
    [c] = names.extract_names([row("姓名 重庆 钟涛玥 社会")])
    assert c.value == "钟涛玥" and c.bbox.x0 == pytest.approx(50 + 10 * 6)


def test_spaced_label_and_award_wording():
    assert [c.value for c in names.extract_names([row("姓 名 李 四")])] == ["李四"]
    assert [c.value for c in names.extract_names([row("兹授予 王喆 同志 全国技术能手称号")])] == ["王喆"]


# --- certificate numbers -----------------------------------------------------------------

def test_skill_certificate_number_and_its_level():
    cands = certificate_number.extract([row("证书编号:S000050123456232000123")])
    assert [c.value for c in cands] == ["S000050123456232000123"]
    assert certificate_number.grade_of(cands[0].value) == "技师"


def test_leading_s_read_as_5_and_letter_o_in_digits():
    cands = certificate_number.extract([row("证书编号 50000501234562320O0123")])
    assert cands[0].value == "S000050123456232000123"


def test_number_after_an_english_label():
    assert [c.value for c in certificate_number.extract([row("No. 1550010000100123")])] == ["1550010000100123"]


@pytest.mark.parametrize("printed", ["S0OOO5Ol23456232OOOl23", "5000050123456232000I23", "S0000S0l234S6Z3Z000l23",
                                     "s000050123456232000123", "S0000501234562320001２3"])
def test_look_alike_glyphs_in_a_number_are_read_as_digits(printed):
    assert certificate_number.canonical(normalise(printed)) == "S000050123456232000123"


def test_a_capital_l_is_not_a_one():
    assert certificate_number.canonical("L23456789012") == "L23456789012"


def test_a_newer_number_read_in_part_keeps_its_letter():
    """S000050108066191: the 16 first characters of a 22-character number (a seal over its
    end). With 5 for S they passed for a 16-digit 职业资格证书 number, whose first two digits
    are its year of issue (1994 to the 2020s), never 5x."""
    assert certificate_number.canonical("S000050108066191") == "S000050108066191"
    assert not certificate_number.well_formed("S000050108066191")
    assert not certificate_number.well_formed("5000050108066191")
    assert certificate_number.well_formed("0950020121200833") and certificate_number.well_formed("9850020121200833")


def test_qualification_number_level_is_the_eleventh_digit():
    assert certificate_number.grade_of("1550010000100123") == "高级技师"
    assert certificate_number.grade_of("12345") is None


# --- narrative, page kinds, evidence ------------------------------------------------------

def test_narrative_length_ignores_white_space_title_and_page_numbers():
    rows = [row("候选人事迹材料", top=50), row("该同志 扎根一线 二十年。", top=80), row("- 1 -", top=800)]
    info = narrative.measure(rows, (PageKind.NARRATIVE,))
    assert info.characters == len("该同志扎根一线二十年。")


def test_page_kinds():
    assert classify([row("职业技能等级证书", top=50)], 595) is PageKind.CERTIFICATE
    assert classify([row("荣誉证书", top=50), row("授予 张三 全国技术能手 称号")], 595) is PageKind.HONOR
    assert classify([row("公民身份号码 " + make_id())], 595) is PageKind.ID_CARD
    assert classify([row("候选人事迹材料", top=50)], 595) is PageKind.NARRATIVE


def test_claims_in_the_narrative_are_not_evidence():
    narrative_page = page(1, [line("候选人事迹材料", 250, 50), line("他毕业于重庆市技师学院，曾获全国技术能手称号。", 50, 100)],
                          text_layer=True)
    number = make_id()
    cert = page(2, [line("职业技能等级证书", 200, 60, page=2), line("姓名", 80, 150, page=2),
                    line("张三丰", 140, 150, page=2), line(f"证件号码 {number}", 80, 180, page=2),
                    line("职业技能等级 二级/技师", 80, 210, page=2)])
    ev = extract_evidence([narrative_page, cert])
    assert ev.page_kinds == (PageKind.NARRATIVE, PageKind.CERTIFICATE)
    assert ev.honors == ()
    assert [c.value for c in ev.grades] == ["技师"]
    assert ev.names[0].value == "张三丰" and ev.names[0].page == 2
    assert ev.id_numbers[0].value == number
    assert {c.value for c in ev.birth_dates} == {"1985-03-12"} and ev.birth_dates[0].source == "id_number"
    assert ev.narrative.characters == len("他毕业于重庆市技师学院，曾获全国技术能手称号。")


def test_two_certificates_on_one_sheet_the_higher_grade_and_its_number_lead():
    """A photocopy of two certificates: both are the applicant's, the higher one counts; the
    OCR being a shade surer of the lower one's lines says nothing about which counts."""
    sheet = page(1, [
        line("职业技能等级证书", 200, 60), line("姓名：张三", 100, 90),
        line("职业技能等级：高级工", 100, 110, conf=0.99), line("证书编号：S000050123456233000123", 100, 130, conf=0.99),
        line("职业技能等级证书", 200, 440), line("姓名：张三", 100, 470),
        line("职业技能等级：技师", 100, 490, conf=0.93), line("证书编号：S000050123456232000124", 100, 510, conf=0.93),
    ])
    ev = extract_evidence([sheet])
    assert ev.page_kinds == (PageKind.CERTIFICATE,)
    assert ev.grades[0].value == "技师"
    assert ev.certificate_numbers[0].value == "S000050123456232000124"


def test_a_number_read_two_ways_gives_both_readings_and_the_first_ones_grade():
    """A second reading of an unsure number's line that differs: either may be the printed
    one, so both are candidates, and the second gives no grade of its own."""
    number_line = replace(line("证书编号：1350159032256894", 100, 130, conf=0.979),
                          second="证书编号：1350150032356894", second_confidence=0.963)
    sheet = page(1, [line("职业资格证书", 200, 60), line("姓名：张三", 100, 90),
                     line("等级：二级（技师）", 100, 110), number_line])
    ev = extract_evidence([sheet])
    assert [c.value for c in ev.certificate_numbers] == ["1350159032256894", "1350150032356894"]
    assert [c.confidence for c in ev.certificate_numbers] == sorted((c.confidence for c in ev.certificate_numbers), reverse=True)
    assert {c.value for c in ev.grades} == {"技师"}  # the second's level digit (3: 高级工) adds nothing
    plain = extract_evidence([page(1, [replace(ln, second="", second_confidence=0.0) for ln in sheet.lines])])
    assert [c.value for c in plain.certificate_numbers] == ["1350159032256894"]
