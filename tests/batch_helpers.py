"""Shared by the batch tests: small submissions, and reports compared without their timings."""

from __future__ import annotations

import json
from pathlib import Path

# Fields that measure time, not content: left out when reports of two runs are compared.
TIMING_META = ("generated_at", "seconds", "stages")


def comparable(report: dict) -> dict:
    """The report JSON without its timing fields."""
    out = json.loads(json.dumps(report))
    for key in TIMING_META:
        out.get("meta", {}).pop(key, None)
    for page in out.get("page_details", []):
        page.pop("seconds", None)
    return out


def read_reports(out: Path) -> dict[str, dict]:
    return {p.stem: comparable(json.loads(p.read_text("utf-8"))) for p in sorted(out.glob("*.json"))}


SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def check_char(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def person(i: int) -> dict:
    """A valid applicant of 全市技术能手, different for each i."""
    born = f"1985{(i % 12) + 1:02d}{(i % 27) + 1:02d}"
    first17 = f"500103{born}{10 + i % 80:02d}{(2 * i + 1) % 10}"
    return {
        "id": f"T{i:02d}", "category": "全市技术能手", "name": ["张三丰", "李小龙", "王建国", "赵丽华", "陈明"][i % 5],
        "gender": "男", "id_number": first17 + check_char(first17),
        "birth_date": f"{born[:4]}-{born[4:6]}-{born[6:]}", "occupation": "焊工", "grade": "技师",
        "certificate_number": f"S0000501234562{i % 10}2000{100 + i}", "honors": [],
        "unit": "重庆某机械有限公司", "recommender": "渝中区人力社保局",
        "submitted_at": "2023-12-10T10:00:00+08:00",
    }


def text_pdf(form: dict, pages: int = 2) -> bytes:
    """A typed certificate page and narrative pages, with an embedded CJK font (a text layer)."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    if "BatchWQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BatchWQY", FONT, subfontIndex=0))
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    y0 = 760
    lines = ["职业技能等级证书", f"姓名：{form['name']}", f"性别：{form['gender']}",
             f"公民身份号码：{form['id_number']}", "出生日期：" + "{}年{}月{}日".format(*form["birth_date"].split("-")),
             f"职业（工种）：{form['occupation']}", f"职业技能等级：{form['grade']}",
             f"证书编号：{form['certificate_number']}", "发证日期：2019年06月30日"]
    c.setFont("BatchWQY", 14)
    for k, line in enumerate(lines):
        c.drawString(80, y0 - 28 * k, line)
    c.showPage()
    for p in range(1, pages):
        c.setFont("BatchWQY", 16)
        c.drawString(220, y0, "候选人事迹材料")
        c.setFont("BatchWQY", 12)
        for k in range(12):
            c.drawString(72, y0 - 40 - 20 * k, f"该同志从事{form['occupation']}工作多年，第{p}页第{k + 1}行，技术精湛，成绩突出。")
        c.showPage()
    c.save()
    return buf.getvalue()


def write_pair(root: Path, sid: str, pdf: bytes, form: dict | bytes, folder: bool = False) -> None:
    form_bytes = form if isinstance(form, bytes) else json.dumps({**form, "id": sid}, ensure_ascii=False).encode()
    if folder:
        (root / sid).mkdir(parents=True, exist_ok=True)
        (root / sid / f"{sid}.pdf").write_bytes(pdf)
        (root / sid / "form.json").write_bytes(form_bytes)
    else:
        root.mkdir(parents=True, exist_ok=True)
        (root / f"{sid}.pdf").write_bytes(pdf)
        (root / f"{sid}.json").write_bytes(form_bytes)


def copy_sample(root: Path, sid: str) -> None:
    """A committed sample submission (scanned pages), in the flat layout."""
    src = SAMPLE / sid
    if src.is_dir():
        write_pair(root, sid, (src / f"{sid}.pdf").read_bytes(), (src / "form.json").read_bytes())
    else:
        write_pair(root, sid, (SAMPLE / f"{sid}.pdf").read_bytes(), (SAMPLE / f"{sid}.json").read_bytes())
