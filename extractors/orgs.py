"""Organisation names as seals spell them and forms abbreviate them.

Matching a name read from a seal against the declared unit and recommender is tolerant of
OCR slips and of the usual abbreviations (人力社保局 for 人力资源和社会保障局, 市 for 重庆市).
"""

from __future__ import annotations

import re

from .attestation import approximate_find
from .textnorm import normalise

# Abbreviations a form may use for what a seal spells out.
_EXPANSIONS = (
    ("人力社保局", "人力资源和社会保障局"),
    ("人社局", "人力资源和社会保障局"),
    ("人力资源社会保障", "人力资源和社会保障"),
    ("经济信息委", "经济和信息化委员会"),
    ("经信委", "经济和信息化委员会"),
    ("教委", "教育委员会"),
    ("国资委", "国有资产监督管理委员会"),
    ("工商联", "工商业联合会"),
)
_PREFIXES = ("中华人民共和国", "重庆市", "重庆")


def canonical_org(name: str) -> str:
    """An organisation's name with abbreviations spelt out and the place prefix dropped."""
    s = normalise(name).replace(" ", "")
    for short, full in _EXPANSIONS:
        if full not in s:
            s = s.replace(short, full)
    for p in _PREFIXES:
        if s.startswith(p):
            s = s[len(p) :]
            break
    else:
        city = s.find("市", 0, 4)
        if city > 0:  # 重庆市 read with a slip (草因市)
            s = s[city + 1 :]
    return s.removeprefix("市")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# What many organisations' names end in; two names that share one are told apart by what
# comes before it (渝中区 / 江北区 人力资源和社会保障局).
_GENERIC_ENDINGS = (
    "人力资源和社会保障局", "人力资源和社会保障部", "劳动和社会保障局", "劳动和社会保障部",
    "股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "公司",
    "职业技术学院", "技师学院", "高级技工学校", "技工学校", "职业教育中心", "学院", "学校",
    "职业技能鉴定指导中心", "职业技能鉴定中心", "行业协会", "协会", "委员会",
)


def _ending(name: str) -> str:
    """The longest generic ending a canonical name has ("" for none)."""
    for ending in sorted(_GENERIC_ENDINGS, key=len, reverse=True):
        if name.endswith(ending) and len(name) > len(ending):
            return ending
    return ""


def _without_ending(read: str, ending: str) -> str:
    """read without the declared name's ending, found where it is read with a slip or two."""
    if not ending:
        return read
    edits, start, end = approximate_find(ending, read)
    if edits <= max(1, len(ending) // 3) and end >= len(read) - 1:
        return read[:start]
    return read


def _ratio(a: str, b: str) -> float:
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


# Kinds of school: one of a kind is not a school of another kind of the same place (重庆市南山
# 技师学院 and 重庆市南山高级技工学校 are two schools). A kind that ends another (技工学校,
# 高级技工学校; 学院, 技师学院) may be the same school's name in short, or read with a slip.
_SCHOOL_KINDS = ("职业技术学院", "技师学院", "高级技工学校", "技工学校", "职业教育中心", "职业高级中学")


def _school_kind(name: str) -> str:
    return next((k for k in _SCHOOL_KINDS if name.endswith(k)), "")


def other_kind_of_school(read: str, name: str) -> bool:
    """Whether a (canonical) name read and a declared one are schools of two kinds."""
    a, b = _school_kind(read), _school_kind(name)
    return bool(a and b) and not (a.endswith(b) or b.endswith(a))


def org_similarity(read: str, name: str) -> float:
    """0..1: how well a name read from a seal matches a declared organisation: 1 - the edit
    distance over the longer canonical name, and no more than the same for the names'
    distinctive parts (so that two district bureaus do not match on their long common end);
    0 for schools of two kinds."""
    a, b = canonical_org(read), canonical_org(name)
    if not a or not b or other_kind_of_school(a, b):
        return 0.0
    ending = _ending(b)
    distinct = b[: len(b) - len(ending)]
    own = _ratio(_without_ending(a, ending), distinct)
    if distinct:  # ...found where it is in the reading: a slip at the ending's start can
        edits, _, _ = approximate_find(distinct, a)  # cut the ending in the wrong place
        own = max(own, 1.0 - edits / len(distinct))
    return min(_ratio(a, b), own)


# What ends the name of a district, county or city ahead of a bureau's generic ending.
_PLACE_SUFFIXES = "区县市"


def read_in_part(read: str, name: str) -> bool:
    """Whether a name read from a seal is better taken as a part of name than as another
    organisation: its distinctive part (what comes before name's generic ending) is one
    character where name's has more (重庆市区人力资源和社会保障局: the district's name
    dropped; or one character and the place's ending, 际区 for 涪陵区), or is shorter than
    name's and mostly name's characters in name's order (山城查 for 山城机械制造: the OCR of a
    seal drops characters). Two names of the same length are compared in full: 江北区 against
    渝中区 is another bureau."""
    a, b = canonical_org(read), canonical_org(name)
    ending = _ending(b)
    if not a or not b or not ending:
        return False
    mine, theirs = _without_ending(a, ending), b[: len(b) - len(ending)]
    if mine == a:
        return False  # the ending was not read: nothing to align the names on
    if len(mine) == 1:
        return len(theirs) >= 2  # (none at all is the city's own: 重庆市人力资源和社会保障局)
    if len(mine) == 2 and mine[-1] in _PLACE_SUFFIXES and theirs.endswith(mine[-1]) and len(theirs) >= 3:
        return True  # 际区 for 涪陵区: a district or county is named by two characters or more
    return len(mine) < len(theirs) and _common_in_order(mine, theirs) >= max(2, 0.6 * len(mine))


def _common_in_order(a: str, b: str) -> int:
    """The length of the longest common subsequence of a and b."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


# The region's prefix a seal's name starts with, then (for a district's or county's body) the
# place: 重庆市荣昌区人力资源和社会保障局.
_REGION = re.compile(r"^(?:重庆市?|重.市|.庆市)")  # (with a slip in 重庆)
_PLACE = re.compile(r"^.{1,7}?[区县]")
_LATIN = re.compile(r"[A-Za-z]+")


def misread(read: str, names: list[str], places: tuple[str, ...]) -> bool:
    """Whether a name read from a seal shows itself misread, so that it says nothing of whose
    seal it is: Latin letters that none of the declared names has (a seal's Chinese characters
    hidden under print read as VT), or, after the region's prefix, a district or county the
    region does not have (采品区 for 荣昌区: two slips make another place of the same shape,
    which only the list of places tells from another bureau's seal). places: the region's
    districts and counties; none, no place is judged."""
    s = normalise(read).replace(" ", "")
    declared = [normalise(n).replace(" ", "") for n in names]
    if any(not any(run in n for n in declared) for run in _LATIN.findall(s)):
        return True
    region = _REGION.match(s)
    if not places or region is None:
        return False
    place = _PLACE.match(s[region.end() :])
    return place is not None and place.group() not in places
