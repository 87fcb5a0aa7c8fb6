"""Chinese labels for the reviewer-facing reports (HTML, Excel), and ID-number masking."""

from __future__ import annotations

import datetime as dt
import re

STATUS_LABELS = {"pass": "通过", "review": "需复核", "fail": "不通过", "error": "无法处理"}
# worst first: the order a reviewer wants them in
STATUS_RANK = {"fail": 0, "error": 1, "review": 2, "pass": 3}
SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

CODE_LABELS = {
    "PDF_UNREADABLE": "PDF无法读取",
    "PDF_ENCRYPTED": "PDF已加密",
    "NOT_A_PDF": "不是PDF文件",
    "FORM_INVALID": "表单数据无效",
    "RESOURCE_LIMIT": "超出处理限制",
    "PAGE_LIMIT_EXCEEDED": "页数超限",
    "NAME_MISMATCH": "姓名不一致",
    "NAME_NOT_READ": "未读到姓名",
    "ID_NUMBER_INVALID": "身份证号无效",
    "ID_NUMBER_MISMATCH": "身份证号不一致",
    "GENDER_MISMATCH": "性别不一致",
    "BIRTH_DATE_MISMATCH": "出生日期不一致",
    "AGE_LIMIT_EXCEEDED": "超出年龄要求",
    "CERTIFICATE_NOT_FOUND": "未找到证书",
    "GRADE_MISMATCH": "证书等级不一致",
    "GRADE_BELOW_REQUIREMENT": "证书等级未达要求",
    "CERTIFICATE_NUMBER_MISMATCH": "证书编号不一致",
    "HONOR_REQUIRED_MISSING": "缺少必备荣誉",
    "HONOR_EXCLUDES_CATEGORY": "所获荣誉不能申报此类别",
    "ATTESTATION_MISSING": "缺少“此件与原件相符”或经办人签字",
    "SEAL_MISSING": "缺少公章",
    "SEAL_ORG_UNMATCHED": "印章单位不一致",
    "NARRATIVE_TOO_LONG": "事迹材料超字数",
    "NARRATIVE_NOT_FOUND": "未找到事迹材料",
    "SUBMITTED_AFTER_DEADLINE": "逾期提交",
    "DUPLICATE_APPLICANT": "重复申报",
    "QUOTA_EXCEEDED": "超出推荐名额",
    "LOW_CONFIDENCE": "识别置信度低",
}
BATCH_CODES = ("DUPLICATE_APPLICANT", "QUOTA_EXCEEDED")

PAGE_KIND_LABELS = {
    "certificate": "证书",
    "honor": "荣誉证书",
    "id_card": "身份证",
    "narrative": "事迹材料",
    "application_form": "申报表",
    "copy": "复印件",
    "other": "其他",
}

FIELD_LABELS = {
    "id": "编号",
    "category": "申报类别",
    "name": "姓名",
    "gender": "性别",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "occupation": "职业（工种）",
    "grade": "证书等级",
    "certificate_number": "证书编号",
    "honors": "荣誉",
    "unit": "工作单位",
    "recommender": "推荐单位",
    "submitted_at": "提交时间",
}

# which extracted field a code is about (for the declared-vs-found table)
CODE_FIELDS = {
    "NAME_MISMATCH": "name",
    "NAME_NOT_READ": "name",
    "ID_NUMBER_INVALID": "id_number",
    "ID_NUMBER_MISMATCH": "id_number",
    "GENDER_MISMATCH": "gender",
    "BIRTH_DATE_MISMATCH": "birth_date",
    "AGE_LIMIT_EXCEEDED": "birth_date",
    "CERTIFICATE_NOT_FOUND": "grade",
    "GRADE_MISMATCH": "grade",
    "GRADE_BELOW_REQUIREMENT": "grade",
    "CERTIFICATE_NUMBER_MISMATCH": "certificate_number",
    "HONOR_REQUIRED_MISSING": "honors",
    "HONOR_EXCLUDES_CATEGORY": "honors",
}


def code_label(code: str) -> str:
    return CODE_LABELS.get(code, code)


# An 18-character ID number (GB 11643-1999) whose chars 7-14 are a plausible birth date, and
# the 15-character numbers of old cards (chars 7-12: YYMMDD). Not inside a longer run of
# letters or digits (a certificate number).
_ID18 = re.compile(r"(?<![0-9A-Za-z])(\d{6})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3}[0-9Xx])"
                   r"(?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(\d{3})(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    """Every ID number in text shown as 500101********1234 (15-character ones as
    500101******123): the birth date hidden, the region and the last characters kept."""
    text = _ID18.sub(lambda m: f"{m.group(1)}{'*' * 8}{m.group(3)}", text)
    return _ID15.sub(lambda m: f"{m.group(1)}{'*' * 6}{m.group(3)}", text)


def masker(enabled: bool):
    """A function that masks ID numbers in a value when enabled; None stays None."""

    def mask(value):
        if value is None or not enabled:
            return value
        return mask_id_numbers(str(value))

    return mask


BEIJING = dt.timezone(dt.timedelta(hours=8))


def beijing_time(iso: str | None) -> str:
    """An ISO 8601 time (any offset) as Beijing time, 'YYYY-MM-DD HH:MM:SS'."""
    if not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if t.tzinfo is None:
        return t.strftime("%Y-%m-%d %H:%M:%S")
    return t.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
