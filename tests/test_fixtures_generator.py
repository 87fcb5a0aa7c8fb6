"""The synthetic corpus generator: its truth is complete and true, its files are what it says."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pdfplumber
import pypdf
import pypdfium2
import pytest

from fixtures import (
    BATCH_CODES,
    ROUND_ROBIN,
    CertificateData,
    generate_corpus,
    id_check_char,
    id_number_valid,
    make_certificate_page,
    make_submission,
)
from fixtures.forms import CHINESE_KEYS
from fixtures.grades import (
    BORN_ON_OR_AFTER,
    DEADLINE,
    EXPERT,
    GRADES,
    LEVEL_CODE,
    MASTER,
    MIN_GRADE,
    level_of_number,
)
from fixtures.people import master_quota

CONTRACT_CODES = {
    "PDF_UNREADABLE",
    "PDF_ENCRYPTED",
    "NOT_A_PDF",
    "FORM_INVALID",
    "PAGE_LIMIT_EXCEEDED",
    "NAME_MISMATCH",
    "ID_NUMBER_INVALID",
    "ID_NUMBER_MISMATCH",
    "GENDER_MISMATCH",
    "BIRTH_DATE_MISMATCH",
    "AGE_LIMIT_EXCEEDED",
    "CERTIFICATE_NOT_FOUND",
    "GRADE_MISMATCH",
    "GRADE_BELOW_REQUIREMENT",
    "CERTIFICATE_NUMBER_MISMATCH",
    "HONOR_REQUIRED_MISSING",
    "HONOR_EXCLUDES_CATEGORY",
    "ATTESTATION_MISSING",
    "SEAL_MISSING",
    "NARRATIVE_TOO_LONG",
    "SUBMITTED_AFTER_DEADLINE",
    "DUPLICATE_APPLICANT",
    "QUOTA_EXCEEDED",
    "LOW_CONFIDENCE",
}
FILE_LEVEL = {"NOT_A_PDF", "PDF_UNREADABLE", "PDF_ENCRYPTED", "FORM_INVALID"}
NATIONAL = {"全国技术能手", "中华技能大奖"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    truths = generate_corpus(out, count=30, seed=7, dpi=150)
    return out, {t.submission: t.to_json() for t in truths}


def read_form(out: Path, truth: dict) -> tuple[bytes, object]:
    """The form's raw bytes and its parsed content (None for a broken one), English keys."""
    raw = (out / truth["form_path"]).read_bytes()
    text = raw.decode(truth["form_encoding"])
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return raw, None
    back = {v: k for k, v in CHINESE_KEYS.items()}
    return raw, {back.get(k, k): v for k, v in data.items()}


# ---------------------------------------------------------------------------------------------


def test_every_code_appears_and_truth_is_well_formed(corpus):
    out, truths = corpus
    assert len(truths) == 30
    seen = Counter(c for t in truths.values() for c in t["expected_codes"])
    assert set(ROUND_ROBIN) | set(BATCH_CODES) <= set(seen)
    assert set(seen) <= CONTRACT_CODES
    for sid, t in truths.items():
        assert json.loads((out / "truth" / f"{sid}.json").read_text(encoding="utf-8")) == t
        assert t["expected_codes"] == sorted(set(t["expected_codes"]))
        assert t["clean"] == (not t["expected_codes"])
        assert len(t["page_kinds"]) == t["pages"]
        assert set(t["page_kinds"]) <= {"narrative", "certificate", "honor", "id_card", "other"}
        assert set(t["fields"]) == {
            "name",
            "id_number",
            "birth_date",
            "gender",
            "grade",
            "certificate_number",
            "honors",
        }
        if t["clean"]:
            assert 2 <= t["pages"] <= 6 or t["file_mode"] != "pdf"
    clean = sum(t["clean"] for t in truths.values())
    assert 10 <= clean <= 18


def test_batch_expectations_match_the_truth_files(corpus):
    out, truths = corpus
    batch = json.loads((out / "truth" / "batch.json").read_text(encoding="utf-8"))
    assert set(batch) == set(BATCH_CODES)
    for code in BATCH_CODES:
        assert batch[code] == sorted(s for s, t in truths.items() if code in t["expected_codes"])
    assert len(batch["DUPLICATE_APPLICANT"]) == 2 and len(batch["QUOTA_EXCEEDED"]) == 3
    a, b = (read_form(out, truths[s])[1] for s in batch["DUPLICATE_APPLICANT"])
    assert a["id_number"] == b["id_number"]
    recs = {read_form(out, truths[s])[1]["recommender"] for s in batch["QUOTA_EXCEEDED"]}
    assert len(recs) == 1


def test_id_check_character():
    assert id_check_char("11010519491231002") == "X"  # the example printed in GB 11643
    assert id_check_char("44052418800101001") == "4"
    assert id_number_valid("11010519491231002X")
    assert not id_number_valid("110105194912310021")
    assert not id_number_valid("110105194902300024")  # 30 February


def test_id_numbers_in_truth_validate(corpus):
    _, truths = corpus
    shown = [t["fields"]["id_number"] for t in truths.values() if t["fields"]["id_number"]]
    assert len(shown) >= 25
    for number in shown:
        assert id_number_valid(number), number


def _declared_codes(form: dict, t: dict) -> set[str]:
    """An independent reading of the rules: what a correct pre-check reports."""
    f, codes = t["fields"], set()
    category = form["category"]
    if form["name"] != f["name"]:
        codes.add("NAME_MISMATCH")
    declared_id = form["id_number"]
    if not id_number_valid(declared_id):
        codes.add("ID_NUMBER_INVALID")
    elif f["id_number"] and declared_id != f["id_number"]:
        codes.add("ID_NUMBER_MISMATCH")
    sex = "男" if int(declared_id[16]) % 2 else "女"
    if form["gender"] != sex or (f["gender"] and form["gender"] != f["gender"]):
        codes.add("GENDER_MISMATCH")
    id_birth = f"{declared_id[6:10]}-{declared_id[10:12]}-{declared_id[12:14]}"
    if form["birth_date"] != id_birth or (
        f["birth_date"] and form["birth_date"] != f["birth_date"]
    ):
        codes.add("BIRTH_DATE_MISMATCH")
    birth = dt.date.fromisoformat(f["birth_date"] or form["birth_date"])
    if birth < BORN_ON_OR_AFTER[category]:
        codes.add("AGE_LIMIT_EXCEEDED")
    if f["grade"] is None:
        codes.add("CERTIFICATE_NOT_FOUND")
    else:
        if form["grade"] != f["grade"]:
            codes.add("GRADE_MISMATCH")
        if GRADES.index(f["grade"]) < GRADES.index(MIN_GRADE[category]):
            codes.add("GRADE_BELOW_REQUIREMENT")
        if form["certificate_number"] != f["certificate_number"]:
            codes.add("CERTIFICATE_NUMBER_MISMATCH")
    honors = set(f["honors"]) | set(form["honors"])
    if category == MASTER and not (NATIONAL & set(f["honors"])):
        codes.add("HONOR_REQUIRED_MISSING")
    if category == EXPERT and "全国技术能手" in honors:
        codes.add("HONOR_EXCLUDES_CATEGORY")
    if t["narrative_chars"] > 1500:
        codes.add("NARRATIVE_TOO_LONG")
    if t["pages"] > 15:
        codes.add("PAGE_LIMIT_EXCEEDED")
    if dt.datetime.fromisoformat(form["submitted_at"]) > DEADLINE:
        codes.add("SUBMITTED_AFTER_DEADLINE")
    return codes


def test_expected_codes_are_complete_and_true(corpus):
    """For every submission the checks can read, an independent oracle over the form and the
    document truth finds exactly the expected codes (plus at most the allowed ones)."""
    out, truths = corpus
    checked = 0
    for sid, t in truths.items():
        if set(t["expected_codes"]) & FILE_LEVEL:
            continue
        _, form = read_form(out, t)
        found = _declared_codes(form, t) | (set(t["expected_codes"]) & set(BATCH_CODES))
        assert (
            set(t["expected_codes"]) <= found <= set(t["expected_codes"]) | set(t["allowed_codes"])
        ), sid
        checked += 1
    assert checked >= 20


def test_defects_are_realised_as_described(corpus):
    out, truths = corpus
    for t in truths.values():
        _, form = read_form(out, t)
        f = t["fields"]
        for d in t["defects"]:
            code = d.split(":")[0]
            if code == "ID_NUMBER_MISMATCH":  # another valid number, same birth date and sex digit
                assert id_number_valid(form["id_number"]) and form["id_number"] != f["id_number"]
                assert form["id_number"][6:14] == f["id_number"][6:14]
                assert int(form["id_number"][16]) % 2 == int(f["id_number"][16]) % 2
            if code == "CERTIFICATE_NUMBER_MISMATCH":
                assert form["certificate_number"] != f["certificate_number"]
                assert level_of_number(form["certificate_number"]) == level_of_number(
                    f["certificate_number"]
                )
            if code == "FORM_INVALID" and d.endswith("missing_birth_date"):
                assert "birth_date" not in form
        if f["certificate_number"]:
            assert level_of_number(f["certificate_number"]) == LEVEL_CODE[f["grade"]]


def test_clean_submissions_meet_the_rules(corpus):
    out, truths = corpus
    masters: Counter[str] = Counter()
    quota_ids = set(
        json.loads((out / "truth" / "batch.json").read_text(encoding="utf-8"))["QUOTA_EXCEEDED"]
    )
    for sid, t in truths.items():
        _, form = read_form(out, t)
        if form and form.get("category") == MASTER and sid not in quota_ids:
            masters[form["recommender"]] += 1
        if not t["clean"]:
            continue
        f = t["fields"]
        assert (form["name"], form["id_number"], form["birth_date"], form["gender"]) == (
            f["name"],
            f["id_number"],
            f["birth_date"],
            f["gender"],
        )
        assert (form["grade"], form["certificate_number"]) == (f["grade"], f["certificate_number"])
        assert dt.date.fromisoformat(f["birth_date"]) >= BORN_ON_OR_AFTER[form["category"]]
        assert dt.datetime.fromisoformat(form["submitted_at"]) <= DEADLINE
        assert form["submitted_at"].endswith("+08:00")
    for rec, n in masters.items():
        assert n <= master_quota(rec), rec


def test_pdfs_open_with_the_right_page_counts(corpus):
    out, truths = corpus
    modes = Counter(t["file_mode"] for t in truths.values())
    assert modes["encrypted"] == 1 and modes["owner_only"] == 1 and modes["truncated"] == 1
    assert modes["jpeg"] + modes["docx"] == 1
    for t in truths.values():
        path = out / t["pdf_path"]
        assert path.suffix == ".pdf"
        if t["file_mode"] in ("pdf", "owner_only"):
            assert len(pypdf.PdfReader(path).pages) == t["pages"]
            assert len(pypdfium2.PdfDocument(path)) == t["pages"]
        elif t["file_mode"] == "encrypted":
            reader = pypdf.PdfReader(path)
            assert reader.is_encrypted
            with pytest.raises(pypdf.errors.FileNotDecryptedError):
                len(reader.pages)
            with pytest.raises(pypdfium2.PdfiumError):
                pypdfium2.PdfDocument(path)
            assert reader.decrypt("x")
            assert len(reader.pages) == t["pages"] > 0
        elif t["file_mode"] == "truncated":
            data = path.read_bytes()
            assert data.startswith(b"%PDF") and t["pages"] == 0
            with pytest.raises(pypdfium2.PdfiumError):
                pypdfium2.PdfDocument(data)
            try:
                n = len(pypdf.PdfReader(path).pages)
            except Exception:  # noqa: BLE001 - any failure to read is the point
                n = 0
            assert n == 0
        else:
            data = path.read_bytes()
            assert not data.startswith(b"%PDF") and t["pages"] == 0
            assert data[:3] == b"\xff\xd8\xff" or data[:2] == b"PK"


def test_owner_password_only_pdf_opens_without_a_password(corpus):
    out, truths = corpus
    (t,) = [t for t in truths.values() if t["file_mode"] == "owner_only"]
    assert t["clean"] and "PDF_ENCRYPTED" not in t["expected_codes"]
    reader = pypdf.PdfReader(out / t["pdf_path"])
    assert reader.is_encrypted
    assert len(reader.pages) == t["pages"]
    with pdfplumber.open(out / t["pdf_path"]) as pdf:
        assert "候选人事迹材料" in (pdf.pages[0].extract_text() or "")


def test_narrative_has_a_text_layer_and_copies_have_none(corpus):
    out, truths = corpus
    readable = [t for t in truths.values() if t["file_mode"] in ("pdf", "owner_only")]
    for i, t in enumerate(readable):
        kinds = t["page_kinds"]
        narrative = ""
        for page, kind in zip(pypdf.PdfReader(out / t["pdf_path"]).pages, kinds, strict=True):
            if kind in ("certificate", "honor", "id_card"):  # one scanned image, no text at all
                xobjects = page["/Resources"]["/XObject"]
                assert [xobjects[k]["/Subtype"] for k in xobjects] == ["/Image"]
                assert b"Tj" not in page.get_contents().get_data()
            elif kind == "narrative":
                narrative += page.extract_text()
        assert sum(1 for c in narrative if not c.isspace()) == t["narrative_chars"]
        if i % 4 == 0:  # as the pipeline reads it (pdfplumber takes 0.1-0.3 s a page)
            with pdfplumber.open(out / t["pdf_path"]) as pdf:
                first = pdf.pages[0].extract_text()
            assert first.startswith("候选人事迹材料")
            assert t["fields"]["name"] in first


def test_forms_decode_in_all_their_encodings(corpus):
    out, truths = corpus
    seen = Counter()
    for t in truths.values():
        raw, form = read_form(out, t)
        seen[t["form_encoding"]] += 1
        seen[t["form_keys"]] += 1
        if t["form_encoding"] == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        if t["form_encoding"] == "gbk":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        broken = any(d == "FORM_INVALID:broken_json" for d in t["defects"])
        assert (form is None) == broken
        if form is not None:
            assert form["id"] == t["submission"]
            keys = set(json.loads(raw.decode(t["form_encoding"])))
            assert keys <= (
                set(CHINESE_KEYS.values()) if t["form_keys"] == "zh" else set(CHINESE_KEYS)
            )
        layout_form = out / "submissions" / t["submission"] / "form.json"
        assert (t["layout"] == "folder") == layout_form.exists()
    assert seen["gbk"] and seen["utf-8-sig"] and seen["utf-8"] and seen["zh"] and seen["en"]
    assert seen["gbk"] + seen["utf-8-sig"] < 20


def test_same_seed_same_files(tmp_path):
    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    generate_corpus(tmp_path / "a", count=4, seed=3, dpi=72)
    generate_corpus(tmp_path / "b", count=4, seed=3, dpi=72)
    generate_corpus(tmp_path / "c", count=4, seed=4, dpi=72)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


@pytest.mark.parametrize(
    ("category", "defect", "codes"),
    [
        (EXPERT, "GRADE_MISMATCH:declared_higher", ["GRADE_MISMATCH"]),
        (MASTER, "GRADE_MISMATCH", ["GRADE_BELOW_REQUIREMENT", "GRADE_MISMATCH"]),
        (MASTER, "HONOR_REQUIRED_MISSING:city_honor_only", ["HONOR_REQUIRED_MISSING"]),
        (None, "ATTESTATION_MISSING", ["ATTESTATION_MISSING"]),
    ],
)
def test_make_submission_with_one_defect(tmp_path, category, defect, codes):
    t = make_submission(
        tmp_path, "T1", seed=1, category=category, defects=[defect], dpi=72, layout="flat"
    )
    assert t.expected_codes == codes
    assert (tmp_path / "submissions" / "T1.pdf").exists() and (
        tmp_path / "truth" / "T1.json"
    ).exists()
    form = json.loads((tmp_path / "submissions" / "T1.json").read_bytes().decode(t.form_encoding))
    if defect.startswith("GRADE_MISMATCH"):
        back = {v: k for k, v in CHINESE_KEYS.items()}
        form = {back.get(k, k): v for k, v in form.items()}
        assert GRADES.index(form["grade"]) > GRADES.index(t.fields["grade"])
    if defect == "ATTESTATION_MISSING":
        cert_page = t.page_info[t.page_kinds.index("certificate")]
        assert cert_page["attestation"] == "none" and cert_page["unit_seal"]


def test_certificate_page_image():
    cert = CertificateData(
        "qualification",
        "王彧",
        "女",
        "500103198503121244",
        dt.date(1985, 3, 12),
        "钳工",
        "技师",
        "1550010120200001",
        dt.date(2015, 6, 1),
        "重庆市人力资源和社会保障局",
        "重庆市机械高级技工学校职业技能鉴定所",
    )
    img = make_certificate_page(cert, dpi=100, seed=2, layout="grid", seal_over="grade", turn=90)
    assert img.size == (1169, 827)  # A4 at 100 dpi, turned
    info = img.info["fixture"]
    assert info["rotation"] == 90 and info["seal_over"] == "grade" and info["layout"] == "grid"
    assert {"name", "id_number", "grade", "certificate_number", "issue_date", "issuer"} <= set(
        info["boxes"]
    )
    x0, top, x1, bottom = info["boxes"]["name"]
    assert 0 <= x0 < x1 <= 842 and 0 <= top < bottom <= 596
    rgb = np.asarray(img.convert("RGB")).astype(int)
    red = ((rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110)).sum()
    assert red > 500  # the seals are there


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_field_boxes_follow_a_turned_page(turn):
    """A box of the turned page holds the same pixels as on the upright page, turned."""
    cert = CertificateData(
        "skill",
        "李淼",
        "男",
        "500112199001011233",
        dt.date(1990, 1, 1),
        "焊工",
        "高级工",
        "S000050000123203456789",
        dt.date(2020, 9, 9),
        "重庆市山城高级技工学校",
    )
    upright = make_certificate_page(cert, dpi=72, seed=5, layout="lines", scanned=False)
    turned = make_certificate_page(cert, dpi=72, seed=5, layout="lines", scanned=False, turn=turn)
    x0, top, x1, bottom = (round(v) for v in upright.info["fixture"]["boxes"]["id_number"])
    a = np.asarray(upright.convert("L"))[top:bottom, x0:x1].astype(int)
    x0, top, x1, bottom = (round(v) for v in turned.info["fixture"]["boxes"]["id_number"])
    b = np.rot90(np.asarray(turned.convert("L"))[top:bottom, x0:x1], k=-turn // 90).astype(int)
    assert a.shape == b.shape and a.std() > 20
    assert np.abs(a - b).mean() < 8  # JPEG noise only


def test_missing_fonts_name_the_debian_packages(monkeypatch, tmp_path):
    from fixtures import fonts

    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path),))
    monkeypatch.delenv("EVIDENCE_FIXTURES_FONT_DIRS", raising=False)
    with pytest.raises(fonts.FontNotFoundError, match="fonts-wqy-microhei, fonts-noto-cjk"):
        fonts.find_fonts.__wrapped__()


def test_copy_defects_enter_the_rotation_only_when_asked():
    from fixtures.corpus import COPY_CODES, plan_corpus

    def codes(specs):
        return Counter(d.split(":")[0] for s in specs for d in s.defects)

    plain, _ = plan_corpus(60, 11)
    with_copies, _ = plan_corpus(60, 11, copy_defects=True)
    assert not set(COPY_CODES) & set(codes(plain))
    assert set(COPY_CODES) <= set(codes(with_copies))
    for spec in with_copies:
        if any(d.startswith(COPY_CODES) for d in spec.defects):
            assert spec.certificate is not None  # where the copy defects are drawn
            assert {d.split(":")[0] for d in spec.defects} & set(COPY_CODES) <= spec.expected
    assert [s.defects for s in plain] == [s.defects for s in plan_corpus(60, 11)[0]]
