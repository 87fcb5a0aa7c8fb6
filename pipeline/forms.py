"""The declared form: decoding, key aliases, validation. Bad input names the field."""

from __future__ import annotations

import datetime as dt
import json
import re

from extractors.grades import normalise_grade
from extractors.textnorm import normalise

from .errors import FormInvalid
from .model import DeclaredForm

# Contract keys, their Chinese aliases, and the Chinese name used in messages.
FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "id": (("编号",), "编号"),
    "category": (("申报类别", "类别"), "申报类别"),
    "name": (("姓名",), "姓名"),
    "gender": (("性别",), "性别"),
    "id_number": (("身份证号", "身份证号码", "公民身份号码"), "身份证号"),
    "birth_date": (("出生日期", "出生年月"), "出生日期"),
    "occupation": (("职业", "职业（工种）", "工种"), "职业"),
    "grade": (("证书等级", "等级", "职业技能等级"), "证书等级"),
    "certificate_number": (("证书编号",), "证书编号"),
    "honors": (("荣誉", "荣誉称号"), "荣誉"),
    "unit": (("工作单位", "单位"), "工作单位"),
    "recommender": (("推荐单位",), "推荐单位"),
    "submitted_at": (("提交时间",), "提交时间"),
}
REQUIRED = ("category", "name", "id_number", "birth_date", "grade")
_GENDERS = {"男": "男", "女": "女", "男性": "男", "女性": "女", "male": "男", "female": "女", "m": "男", "f": "女"}
_CHECKS_AT = dt.timezone(dt.timedelta(hours=8))  # a time without offset is Chongqing time


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GBK/GB18030; anything else is FORM_INVALID."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FormInvalid("文件编码无法识别（应为UTF-8或GBK）")


def parse_form(data: bytes, categories: tuple[str, ...] | list[str], fallback_id: str) -> DeclaredForm:
    """form.json bytes to a DeclaredForm; FormInvalid names the first bad field."""
    try:
        raw = json.loads(decode(data))
    except json.JSONDecodeError as exc:
        raise FormInvalid(f"JSON格式错误（第{exc.lineno}行第{exc.colno}列）") from None
    except (RecursionError, ValueError):  # nested thousands deep, or a number of thousands of digits
        raise FormInvalid("JSON格式错误（嵌套过深或数字过长）") from None
    if not isinstance(raw, dict):
        raise FormInvalid("JSON顶层应为对象")
    values = _canonical_keys(raw)
    for key in REQUIRED:
        if _blank(values.get(key)):
            raise FormInvalid(f"表单缺少{FIELDS[key][1]}（{key}）", field=key)
    category = _category(_text(values, "category"), categories)
    if category not in categories:
        raise FormInvalid(f"申报类别“{category}”不是{'、'.join(categories)}之一", field="category")
    grade = normalise_grade(_text(values, "grade"))
    if grade is None:
        raise FormInvalid(f"证书等级“{_text(values, 'grade')}”无法识别", field="grade")
    gender = None
    if not _blank(values.get("gender")):
        gender = _GENDERS.get(_text(values, "gender").lower())
        if gender is None:
            raise FormInvalid("性别应为“男”或“女”", field="gender")
    return DeclaredForm(
        id=_text(values, "id") if not _blank(values.get("id")) else fallback_id,
        category=category,
        name="".join(_text(values, "name").split()),
        id_number=normalise(_text(values, "id_number")).replace(" ", "").upper(),
        birth_date=_date(_text(values, "birth_date"), "birth_date"),
        grade=grade,
        gender=gender,
        occupation=_optional(values, "occupation"),
        certificate_number=(lambda v: v.replace(" ", "").upper() if v else None)(_optional(values, "certificate_number")),
        honors=_honors(values.get("honors")),
        unit=_optional(values, "unit"),
        recommender=_optional(values, "recommender"),
        submitted_at=_datetime(values.get("submitted_at")),
    )


def _category(text: str, categories) -> str:
    """The category named, also when the form adds words around it (…候选人, 申报…)."""
    flat = "".join(text.split())
    named = [c for c in categories if c in flat]
    return named[0] if len(named) == 1 else flat


def _canonical_keys(raw: dict) -> dict:
    lookup = {}
    for key, (aliases, _) in FIELDS.items():
        lookup[key] = key
        for a in aliases:
            lookup[a] = key
    out: dict = {}
    for k, v in raw.items():
        key = lookup.get(str(k).strip())
        if key is not None and key not in out:
            out[key] = v
    return out


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(values: dict, key: str) -> str:
    v = values[key]
    if not isinstance(v, (str, int)) or isinstance(v, bool):
        raise FormInvalid(f"{FIELDS[key][1]}（{key}）应为文本", field=key)
    return normalise(str(v)).strip()


def _optional(values: dict, key: str) -> str | None:
    return None if _blank(values.get(key)) else _text(values, key)


def _date(text: str, key: str) -> dt.date:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if m is None:
        raise FormInvalid(f"{FIELDS[key][1]}（{key}）应为YYYY-MM-DD格式", field=key)
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise FormInvalid(f"{FIELDS[key][1]}（{key}）不是有效日期", field=key) from None


def _datetime(v) -> dt.datetime | None:
    if _blank(v):
        return None
    if not isinstance(v, str):
        raise FormInvalid("提交时间（submitted_at）应为ISO 8601文本", field="submitted_at")
    try:
        t = dt.datetime.fromisoformat(normalise(v).strip().replace("Z", "+00:00"))
    except ValueError:
        raise FormInvalid("提交时间（submitted_at）不是有效的ISO 8601时间", field="submitted_at") from None
    return t if t.tzinfo else t.replace(tzinfo=_CHECKS_AT)


def _honors(v) -> tuple[str, ...]:
    if _blank(v):
        return ()
    if isinstance(v, str):
        items = re.split(r"[,，、;；/\s]+", v)
    elif isinstance(v, list):
        items = [str(x) for x in v if not _blank(x)]
    else:
        raise FormInvalid("荣誉（honors）应为列表", field="honors")
    return tuple(canonical_honor(normalise(i).strip()) for i in items if i and i.strip())


def canonical_honor(text: str) -> str:
    """全国技术能手称号 -> 全国技术能手: the honour's canonical name where one is named."""
    from extractors.honors import canonical

    return canonical(text) or text
