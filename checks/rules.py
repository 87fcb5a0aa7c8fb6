"""The rules of one notice, loaded from TOML and validated at load."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from extractors.grades import LADDER
from pipeline.errors import RulesInvalid
from pipeline.model import PageKind

DEFAULT_RULES = "notice-2023-chongqing.toml"


@dataclass(frozen=True, slots=True)
class CategoryRules:
    name: str
    born_on_or_after: dt.date
    min_grade: str
    required_honor: str | None = None
    required_honor_waived_by: tuple[str, ...] = ()
    excluded_honors: tuple[str, ...] = ()
    quota_per_recommender: int | None = None
    quota_exceptions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CopyRules:
    """What a copy (复印件) must carry, and how sure a seal's name must be read to be compared."""

    kinds: tuple[str, ...]  # page kinds that are copies
    seal_text_at: float  # a seal's name read at least this sure is compared with the form
    seal_org_similarity: float  # ...and matches an organisation at least this similar
    # the region's districts and counties, as a seal's name spells them after the region's
    # name; a name read naming none of them is misread (empty: not judged)
    places: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rules:
    id: str
    title: str
    source: str  # the file it was read from
    deadline: dt.datetime
    max_pages: int
    narrative_max_chars: int
    error_at: float
    usable_at: float
    categories: dict[str, CategoryRules]
    recommender_aliases: dict[str, str]  # any spelling -> the quota's name
    copies: CopyRules | None = None  # None: the notice asks nothing of copies

    def category(self, name: str) -> CategoryRules:
        return self.categories[name]

    def recommender_key(self, name: str) -> str:
        key = "".join(name.split())
        return self.recommender_aliases.get(key, key)


def load_rules(path: str | Path | None = None) -> Rules:
    """The packaged notice's rules, or another rules file's."""
    if path is None:
        text = resources.files("checks.notices").joinpath(DEFAULT_RULES).read_text("utf-8")
        source = f"checks/notices/{DEFAULT_RULES}"
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise RulesInvalid(f"{path}: cannot read ({exc.strerror})") from exc
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesInvalid(f"{source}: not valid TOML ({exc})") from exc
    return _build(data, source)


def _get(table: dict, key: str, kind: type | tuple, source: str, where: str):
    if key not in table:
        raise RulesInvalid(f"{source}: missing key {where}{key}")
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RulesInvalid(f"{source}: {where}{key} has the wrong type ({type(value).__name__})")
    return value


def _build(data: dict, source: str) -> Rules:
    notice = _get(data, "notice", dict, source, "")
    conf = _get(data, "confidence", dict, source, "")
    deadline = _get(notice, "deadline", dt.datetime, source, "notice.")
    if deadline.tzinfo is None:
        raise RulesInvalid(f"{source}: notice.deadline needs a UTC offset, e.g. +08:00")
    max_pages = _get(notice, "max_pages", int, source, "notice.")
    narrative_max = _get(notice, "narrative_max_chars", int, source, "notice.")
    cats = {}
    for name, table in _get(data, "categories", dict, source, "").items():
        where = f"categories.{name}."
        grade = _get(table, "min_grade", str, source, where)
        if grade not in LADDER:
            raise RulesInvalid(f"{source}: {where}min_grade {grade!r} is not one of {', '.join(LADDER)}")
        cats[name] = CategoryRules(
            name=name,
            born_on_or_after=_get(table, "born_on_or_after", dt.date, source, where),
            min_grade=grade,
            required_honor=table.get("required_honor"),
            required_honor_waived_by=tuple(table.get("required_honor_waived_by", ())),
            excluded_honors=tuple(table.get("excluded_honors", ())),
            quota_per_recommender=table.get("quota_per_recommender"),
            quota_exceptions=dict(table.get("quota_exceptions", {})),
        )
    if not cats:
        raise RulesInvalid(f"{source}: no categories")
    copies = _copies(data["copies"], source) if "copies" in data else None
    aliases = {}
    for canonical_name, spellings in data.get("recommender_aliases", {}).items():
        for s in spellings:
            aliases["".join(s.split())] = canonical_name
    return Rules(
        id=_get(notice, "id", str, source, "notice."),
        title=notice.get("title", ""),
        source=source,
        deadline=deadline,
        max_pages=max_pages,
        narrative_max_chars=narrative_max,
        error_at=float(_get(conf, "error_at", (int, float), source, "confidence.")),
        usable_at=float(_get(conf, "usable_at", (int, float), source, "confidence.")),
        categories=cats,
        recommender_aliases=aliases,
        copies=copies,
    )


def _copies(table: dict, source: str) -> CopyRules:
    if not isinstance(table, dict):
        raise RulesInvalid(f"{source}: copies must be a table")
    kinds = _get(table, "kinds", list, source, "copies.")
    known = {k.value for k in PageKind}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise RulesInvalid(f"{source}: copies.kinds {unknown} are not page kinds ({', '.join(sorted(known))})")
    return CopyRules(
        kinds=tuple(kinds),
        seal_text_at=float(_get(table, "seal_text_confidence", (int, float), source, "copies.")),
        seal_org_similarity=float(_get(table, "seal_org_similarity", (int, float), source, "copies.")),
        places=_places(table, source),
    )


def _places(table: dict, source: str) -> tuple[str, ...]:
    places = table.get("places", [])
    if not isinstance(places, list) or not all(isinstance(p, str) and p for p in places):
        raise RulesInvalid(f"{source}: copies.places must be a list of names")
    return tuple(places)
