import io
import json

import pytest
from helpers import form_dict

from checks.rules import load_rules
from pipeline.discover import discover
from pipeline.errors import EncryptedPdf, FormInvalid, NotAPdf, UnreadablePdf
from pipeline.forms import parse_form
from pipeline.ingest import open_pdf

CATEGORIES = tuple(load_rules().categories)
ALIASES = {"id": "编号", "category": "申报类别", "name": "姓名", "gender": "性别", "id_number": "身份证号",
           "birth_date": "出生日期", "occupation": "职业", "grade": "证书等级", "certificate_number": "证书编号",
           "honors": "荣誉", "unit": "工作单位", "recommender": "推荐单位", "submitted_at": "提交时间"}


def encoded(d: dict, encoding="utf-8") -> bytes:
    return json.dumps(d, ensure_ascii=False).encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_chinese_keys_in_every_encoding(encoding):
    d = {ALIASES[k]: v for k, v in form_dict().items()}
    f = parse_form(encoded(d, encoding), CATEGORIES, "fallback")
    assert f.name == "张三丰" and f.category == "全市技术能手" and f.grade == "技师" and f.id == "t1"
    assert f.submitted_at.utcoffset().total_seconds() == 8 * 3600


def test_lenient_wordings_of_the_same_values():
    d = form_dict(gender="男性", birth_date="19850312", category="全市技术能手候选人", honors="全市技术能手称号、巴渝工匠")
    f = parse_form(encoded(d), CATEGORIES, "x")
    assert (f.gender, f.birth_date.isoformat(), f.category) == ("男", "1985-03-12", "全市技术能手")
    assert f.honors == ("全市技术能手", "巴渝工匠")


@pytest.mark.parametrize("change,field", [
    ({"birth_date": None}, "birth_date"),
    ({"name": ""}, "name"),
    ({"category": "全国技术能手"}, "category"),
    ({"birth_date": "1985-02-30"}, "birth_date"),
    ({"grade": "技师学院"}, "grade"),
    ({"gender": "未知"}, "gender"),
    ({"submitted_at": "yesterday"}, "submitted_at"),
])
def test_bad_fields_are_named(change, field):
    d = form_dict(**change)
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(FormInvalid) as exc:
        parse_form(encoded(d), CATEGORIES, "x")
    assert exc.value.field == field and exc.value.code == "FORM_INVALID"


def test_bad_json_and_bad_encoding():
    with pytest.raises(FormInvalid, match="JSON"):
        parse_form(b'{"name": ', CATEGORIES, "x")
    with pytest.raises(FormInvalid):
        parse_form(b"\xff\xfe\x00\x01garbage\x80", CATEGORIES, "x")


def test_error_messages_do_not_echo_the_id_number():
    d = form_dict(birth_date="1985-02-30")
    with pytest.raises(FormInvalid) as exc:
        parse_form(encoded(d), CATEGORIES, "x")
    assert d["id_number"] not in str(exc.value) and "1985-02-30" not in exc.value.chinese


def _pdf(pages=2, **encrypt) -> bytes:
    import pypdf

    w = pypdf.PdfWriter()
    for _ in range(pages):
        w.add_blank_page(595, 842)
    if encrypt:
        w.encrypt(**encrypt)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_pdf_identified_by_bytes():
    assert open_pdf(_pdf(3)).pages == 3
    with pytest.raises(NotAPdf, match="JPEG"):
        open_pdf(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    with pytest.raises(NotAPdf):
        open_pdf(b"")


def test_encryption_user_password_refused_owner_only_processed():
    with pytest.raises(EncryptedPdf):
        open_pdf(_pdf(user_password="secret", owner_password="o"))
    doc = open_pdf(_pdf(2, user_password="", owner_password="owner"))
    assert doc.pages == 2 and doc.was_encrypted


def test_truncated_and_garbled_files_are_unreadable():
    data = _pdf(2)
    with pytest.raises(UnreadablePdf):
        open_pdf(data[: len(data) // 2])
    with pytest.raises(UnreadablePdf):
        open_pdf(b"%PDF-1.7\n" + b"garbage " * 200 + b"\n%%EOF\n")


def test_discover_both_layouts_and_broken_ones(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"x")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.pdf").write_bytes(b"x")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "upload.PDF").write_bytes(b"x")
    (tmp_path / "c" / "form.json").write_text("{}")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "form.json").write_text("{}")
    found = {s.id: s for s in discover(tmp_path)}
    assert set(found) == {"a", "b", "c", "d"}
    assert found["a"].problem is None and found["c"].problem is None and found["c"].pdf.name == "upload.PDF"
    assert "json" in found["b"].problem and "PDF" in found["d"].problem
