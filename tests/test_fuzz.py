"""Property-based tests (hypothesis) of form parsing and the extractors, and a fuzz run of PDF
ingest over mutated real PDFs. What they found is fixed and kept below as explicit examples."""

from __future__ import annotations

import datetime as dt
import json
import time

from batch_helpers import person, text_pdf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extractors.certificate_number import canonical, same_number
from extractors.dates import parse_date
from extractors.grades import LADDER, normalise_grade
from extractors.id_number import check_character, parse_id, repair
from fixtures import hostile
from pipeline.errors import FormInvalid, PrecheckError
from pipeline.forms import FIELDS, parse_form
from pipeline.model import DeclaredForm

CATEGORIES = ("重庆技能大师", "全市技术能手", "巴渝青年技能之星")
KEYS = [k for k, (aliases, _) in FIELDS.items()] + [a for _, (aliases, _) in FIELDS.items() for a in aliases]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


# --- forms ---------------------------------------------------------------------------------


def _parse(data: bytes):
    try:
        return parse_form(data, CATEGORIES, "fallback")
    except FormInvalid as exc:
        return exc


@settings(max_examples=300, deadline=None, database=None)
@given(st.binary(max_size=300))
@example(b"[" * 100_000 + b"]" * 100_000)  # found: RecursionError from json.loads
@example(b"9" * 5000)  # found: ValueError (int conversion limit) from json.loads
@example(b'{"birth_date": ' + b"1" * 5000 + b"}")
def test_any_bytes_parse_to_a_form_or_form_invalid(data):
    out = _parse(data)
    assert isinstance(out, (DeclaredForm, FormInvalid))


@settings(max_examples=150, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=10), st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_any_json_object_parses_to_a_form_or_form_invalid(raw, encoding):
    try:
        data = json.dumps(raw, ensure_ascii=False).encode(encoding)
    except UnicodeEncodeError:
        data = json.dumps(raw).encode(encoding)
    out = _parse(data)
    assert isinstance(out, (DeclaredForm, FormInvalid))
    if isinstance(out, FormInvalid):
        assert out.chinese  # a message for the applicant


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(0, 200), st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_a_valid_form_parses_the_same_in_every_encoding(i, encoding):
    form = person(i)
    parsed = parse_form(json.dumps(form, ensure_ascii=False).encode(encoding), CATEGORIES, "x")
    assert (parsed.name, parsed.id_number, parsed.birth_date.isoformat(), parsed.grade) == \
        (form["name"], form["id_number"], form["birth_date"], form["grade"])


# --- extractors ---------------------------------------------------------------------------

id_like = st.text(alphabet="0123456789XxOoIlBSZzGb×K |", min_size=15, max_size=22)


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(id_like, st.text(max_size=25)))
@example("５００１０３１９８５０３１２１２３Ｘ")  # full-width digits are not an ID number as such
def test_parse_id_and_repair_never_raise_and_agree(raw):
    info = parse_id(raw)
    if info is not None:
        assert info.number.isascii() and len(info.number) == 18
        assert check_character(info.number[:17]) == info.number[17]
    fixed = repair(raw)
    if fixed is not None:
        number, changed = fixed
        assert parse_id(number) is not None
        assert changed == (number != raw.replace(" ", "").upper())


@settings(max_examples=200, deadline=None, database=None)
@given(st.dates(dt.date(1930, 1, 1), dt.date(2005, 12, 31)), st.integers(0, 999), st.booleans())
def test_valid_id_numbers_parse_and_repair_to_themselves(born, seq, spaced):
    first17 = f"500103{born:%Y%m%d}{seq:03d}"
    number = first17 + check_character(first17)
    info = parse_id(number)
    assert info is not None and info.birth_date == born
    text = " ".join([number[:6], number[6:14], number[14:]]) if spaced else number
    assert repair(text) == (number, False)


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(max_size=40))
def test_parse_date_never_raises_and_returns_a_real_date(text):
    value = parse_date(text)
    if value is not None:
        if len(value) == 10:
            assert 1900 <= dt.date.fromisoformat(value).year <= 2100
        else:
            y, m = value.split("-")
            assert len(value) == 7 and 1900 <= int(y) <= 2100 and 1 <= int(m) <= 12


@settings(max_examples=200, deadline=None, database=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.sampled_from(["{y}年{m}月{d}日", "{y}-{m:02d}-{d:02d}",
                                                                           "{y}.{m}.{d}", "{y}/{m:02d}/{d:02d}"]))
def test_parse_date_reads_every_written_date(d, pattern):
    assert parse_date(pattern.format(y=d.year, m=d.month, d=d.day)) == d.isoformat()


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=20))
def test_normalise_grade_gives_a_rung_or_none(text):
    assert normalise_grade(text) in (None, *LADDER)


@settings(max_examples=50, deadline=None, database=None)
@given(st.sampled_from(LADDER), st.sampled_from(["", " ", "\u3000"]))
def test_every_rung_normalises_to_itself(grade, space):
    assert normalise_grade(space.join(grade)) == grade


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(alphabet="0123456789OoIlDBZ|SY5 ", max_size=26), st.text(max_size=26)))
@example("q")  # found by this test: canonical gave Q, which canonical reads as 0
@example("Yq" + "1" * 20)
def test_certificate_number_canonical_is_idempotent(raw):
    once = canonical(raw)
    assert canonical(once) == once
    assert same_number(raw, once)


# --- PDF ingest -----------------------------------------------------------------------------


class _NoOcr:
    """An engine that reads nothing, fast: the fuzz run is about the parsers, not OCR."""

    name = "none"
    version = "0"

    def read(self, image):
        return []

    def read_line(self, image):
        return "", 0.0


SEEDS = [text_pdf(person(1)), hostile.plain_pdf(), hostile.many_pages(3), hostile.xobject_loop().replace(b"7 0 R\n", b"6\n")]
# Each fuzzed file: open and read within this many seconds (a cheap engine, 72 dpi).
FUZZ_BOUND_S = 20


def _mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, pos, blob in edits:
        pos %= max(1, len(out))
        if kind == 0:
            out[pos : pos + len(blob)] = blob  # overwrite
        elif kind == 1:
            out[pos:pos] = blob  # insert
        else:
            del out[pos : pos + len(blob) + 1]  # delete
    return bytes(out)


interesting = st.sampled_from([b"0", b"9999999999", b"-1", b"R", b" 0 R", b"<<", b">>", b"[", b"]", b"/Kids",
                               b"/Count 1000000", b"obj", b"endobj", b"stream\n", b"endstream", b"/FlateDecode",
                               b"/Length 0", b"\x00", b"\xff" * 8, b"/Type /Pages", b"1 0 R", b"trailer"])


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(range(len(SEEDS))),
       st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 20), interesting | st.binary(min_size=1, max_size=8)),
                min_size=1, max_size=6))
def test_mutated_pdfs_open_and_read_or_raise_a_precheck_error(seed, edits):
    from pipeline.ingest import open_pdf
    from pipeline.pages import read_pages

    data = _mutate(SEEDS[seed], edits)
    start = time.monotonic()
    try:
        doc = open_pdf(data)
        read_pages(doc.data, _NoOcr(), dpi=72, pages=range(1, min(doc.pages, 3) + 1))
    except PrecheckError:
        pass
    assert time.monotonic() - start < FUZZ_BOUND_S


# Found by the fuzz run: pypdf opens these, pdfminer then fails (a syntax error, a page count
# it disagrees on). read_pages raised the parser's own exceptions; now UnreadablePdf.
PARSER_DISAGREEMENTS = {
    "number-as-dict-key": hostile.plain_pdf().replace(b"/Type /Font", b"9999999999 /Type /Font"),
    "number-in-resources": hostile.plain_pdf().replace(b"/Resources <<", b"/Resources << 0"),
    "number-among-kids": hostile.many_pages(3).replace(b"/Kids [4 0 R", b"/Kids [4 0 R 0"),
    "kids-defined-twice": hostile.many_pages(2).replace(b"/Kids [4 0 R 6 0 R]", b"/Kids [4 0 R 6 0 R] /Kids [4 0 R]"),
}


def test_parser_disagreements_found_by_fuzzing_are_unreadable_pdfs():
    import pytest

    from pipeline.errors import UnreadablePdf
    from pipeline.ingest import open_pdf
    from pipeline.pages import read_pages

    for name, data in PARSER_DISAGREEMENTS.items():
        doc = open_pdf(data)  # pypdf reads it
        with pytest.raises(UnreadablePdf):
            read_pages(doc.data, _NoOcr(), dpi=72, pages=range(1, doc.pages + 1))
        print(name, "ok")


# --- the attestation's phrases ---------------------------------------------------------------


def _every_phrase_searched(text: str, phrases: tuple[str, ...]):
    """find_phrase without its shortcuts: every phrase searched in full."""
    from extractors.attestation import PhraseMatch, accepted, approximate_find
    from extractors.textnorm import normalise, strip_spaces

    flat, best = strip_spaces(normalise(text)), None
    for phrase in phrases:
        edits, start, end = approximate_find(phrase, flat)
        if accepted(phrase, edits):
            score = 1.0 - edits / len(phrase)
            if best is None or (score, len(phrase)) > (best.score, len(best.phrase)):
                best = PhraseMatch(phrase, start, end, score)
    return best


_PHRASE_CHARS = "此件与原复印相符一致经核对无误姓名证书编号重庆市人力资源和社会保障局0123456789: "


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_PHRASE_CHARS, max_size=18))
@example("此件与原件相符")
@example("与原件相")
@example("此件与 件相")
def test_find_phrase_skips_only_lines_that_cannot_hold_a_phrase(text):
    from extractors.attestation import attestation_phrases, find_phrase

    phrases = attestation_phrases()
    assert find_phrase(text, phrases) == _every_phrase_searched(text, phrases)
