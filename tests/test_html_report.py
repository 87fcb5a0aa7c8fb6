"""The reviewer's reports (issue 5): OUT/index.html and OUT/<id>.html opened in headless
Chromium (Debian's chromium driven through /usr/bin/chromedriver), OUT/summary.xlsx read
back with openpyxl, and --mask-id.

The batch is nine small text-layer PDFs (no OCR, so the file runs in seconds): a clean one,
one discrepancy each of name, certificate number and birth date, a duplicate applicant and
three 重庆技能大师 from one recommender (quota 2). Screenshots go to tmp_path/screenshots
(and two are copied to /tmp/precheck-screenshots/ for a person to look at).
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from helpers import form_dict, make_id
from PIL import Image

from pipeline.labels import STATUS_RANK
from pipeline.pages import render_page
from pipeline.runner import Options, run_batch
from pipeline.xlsx_report import display_width

LEAD_SCREENSHOTS = Path("/tmp/precheck-screenshots")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    # belt and braces: no name resolves but this machine's own
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
    "--hide-scrollbars", "--window-size=1366,900", "--lang=zh-CN",
]


# --- the batch ---------------------------------------------------------------------------


def cert_no(level: int, serial: int) -> str:
    """A 职业技能等级证书 number carrying its level (1 高级技师 ... 3 高级工)."""
    return f"S000050123456{21}{level}{serial:06d}"


def text_pdf(pages: list[list[str]]) -> bytes:
    """A4 pages in an embedded CJK font: a frame, a centred title, then labelled lines."""
    from fixtures.pdfs import typed_pdf

    return typed_pdf(pages, title_size=22, title_top=100, body_top=160, line_gap=32, left=90, frame=True)


def narrative(f: dict) -> list[str]:
    return ["候选人事迹材料", f"候选人：{f['name']}", f"工作单位：{f['unit']}",
            f"该同志长期从事{f['occupation']}工作，技术精湛，带徒传技，成绩突出。"]


def certificate(f: dict, grade: str, **shown) -> list[str]:
    v = {**f, **shown}
    return ["职业技能等级证书", f"姓名：{v['name']}", f"性别：{v['gender']}", f"身份证号：{v['id_number']}",
            f"职业（工种）：{v['occupation']}", f"职业技能等级：{grade}", f"证书编号：{v['certificate_number']}",
            "发证日期：2021年6月1日", "评价机构：重庆市职业技能鉴定指导中心"]


def honor(f: dict, title: str) -> list[str]:
    return ["荣誉证书", f"{f['name']}同志：", f"被授予“{title}”称号。", "特发此证，以资鼓励。", "人力资源社会保障部",
            "二〇二二年十二月"]


def corpus() -> dict[str, tuple[dict, list[list[str]]]]:
    """sid -> (form, pages)."""
    subs: dict[str, tuple[dict, list[list[str]]]] = {}
    import datetime as dt

    def add(sid: str, f: dict, pages: list[list[str]]) -> None:
        subs[sid] = (f, pages)

    f = form_dict(id="CQ-001", certificate_number=cert_no(2, 101))
    add("CQ-001", f, [narrative(f), certificate(f, "二级/技师")])  # clean
    f = form_dict(id="CQ-002", name="李四海", id_number=make_id(born=dt.date(1980, 5, 6), seq="21"),
                  birth_date="1980-05-06", certificate_number=cert_no(2, 102), recommender="江北区人力社保局")
    add("CQ-002", f, [narrative(f), certificate(f, "二级/技师", name="李四河")])  # name on the certificate
    f = form_dict(id="CQ-003", name="王小红", gender="女", id_number=make_id(born=dt.date(1990, 1, 2), seq="33", sex_digit=4),
                  birth_date="1990-01-02", category="巴渝青年技能之星", certificate_number=cert_no(2, 103),
                  recommender="市总工会", occupation="数控车工")
    add("CQ-003", f, [narrative(f), certificate(f, "二级/技师", certificate_number=cert_no(2, 999))])
    born = dt.date(1986, 9, 17)
    f = form_dict(id="CQ-004", name="陈志强", id_number=make_id(born=born, seq="44"), birth_date="1986-09-27",
                  certificate_number=cert_no(2, 104), recommender="江北区人力社保局")
    add("CQ-004", f, [narrative(f), certificate(f, "二级/技师")])  # declared birth date off by ten days
    f = form_dict(id="CQ-005", name="刘德华", id_number=make_id(born=dt.date(1984, 4, 4), seq="55"),
                  birth_date="1984-04-04", certificate_number=cert_no(2, 105))
    add("CQ-005", f, [narrative(f), certificate(f, "二级/技师")])
    g = {**f, "id": "CQ-006"}  # the same person submitted twice
    add("CQ-006", g, [narrative(g), certificate(g, "二级/技师")])
    for k, (sid, name) in enumerate([("CQ-007", "赵大勇"), ("CQ-008", "钱江"), ("CQ-009", "孙丽娟")]):
        f = form_dict(id=sid, name=name, gender="女" if k == 2 else "男", category="重庆技能大师", grade="高级技师",
                      id_number=make_id(born=dt.date(1975, 3, 1 + k), seq=f"7{k}", sex_digit=4 if k == 2 else 3),
                      birth_date=f"1975-03-0{1 + k}", certificate_number=cert_no(1, 107 + k), honors=["全国技术能手"],
                      recommender="沙坪坝区人力社保局", occupation="钳工")
        add(sid, f, [narrative(f), certificate(f, "一级/高级技师"), honor(f, "全国技术能手")])
    return subs


def write_corpus(root: Path) -> dict[str, dict]:
    root.mkdir(parents=True, exist_ok=True)
    forms = {}
    for sid, (f, pages) in corpus().items():
        (root / f"{sid}.pdf").write_bytes(text_pdf(pages))
        (root / f"{sid}.json").write_text(json.dumps(f, ensure_ascii=False), "utf-8")
        forms[sid] = f
    return forms


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    root = tmp_path_factory.mktemp("html-in")
    return root, write_corpus(root)


@pytest.fixture(scope="module")
def batch(inputs, tmp_path_factory):
    root, forms = inputs
    out = tmp_path_factory.mktemp("html-out")
    result = run_batch(root, out, Options())
    return out, result, forms


def json_reports(out: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(out.glob("*.json"))}


def problem_codes(report: dict) -> set[str]:
    return {f["code"] for f in report["findings"] if f["severity"] != "info"}


def test_the_batch_has_what_the_pages_show(batch):
    """The corpus gives every status and both batch-level codes, and findings with boxes."""
    out, _, _ = batch
    reports = json_reports(out)
    assert reports["CQ-001"]["status"] == "pass", reports["CQ-001"]["findings"]
    assert "NAME_MISMATCH" in problem_codes(reports["CQ-002"])
    assert "CERTIFICATE_NUMBER_MISMATCH" in problem_codes(reports["CQ-003"])
    assert "BIRTH_DATE_MISMATCH" in problem_codes(reports["CQ-004"])
    assert {sid for sid, r in reports.items() if "DUPLICATE_APPLICANT" in problem_codes(r)} == {"CQ-005", "CQ-006"}
    assert {sid for sid, r in reports.items() if "QUOTA_EXCEEDED" in problem_codes(r)} == {"CQ-007", "CQ-008", "CQ-009"}
    for name in ("index.html", "summary.csv", "summary.xlsx", *(f"{sid}.html" for sid in reports)):
        assert (out / name).is_file(), name


# --- images ------------------------------------------------------------------------------


def test_page_images_and_crops_are_rendered_from_the_pdf_and_cheap(batch, inputs):
    out, _result, _ = batch
    root, _ = inputs
    reports = json_reports(out)
    per_page = []
    for sid, rep in reports.items():
        manifest = json.loads((out / sid / "images.json").read_text("utf-8"))
        assert sorted(map(int, manifest["pages"])) == list(range(1, rep["pages"] + 1))
        per_page.append(manifest["seconds"] / rep["pages"])
        # the page image is the PDF's page: compare with a fresh render
        page = manifest["pages"]["1"]
        img = np.asarray(Image.open(out / sid / page["file"]).convert("L"), dtype=float)
        ref = np.asarray(render_page((root / f"{sid}.pdf").read_bytes(), 1, manifest["page_dpi"])
                         .convert("L").resize(img.shape[::-1]), dtype=float)
        assert np.abs(img - ref).mean() < 6
        assert page["pixels"][0] == pytest.approx(page["width"] * manifest["page_dpi"] / 72, abs=2)
        # a crop for every finding with a page and a box (and for some that quote a value read
        # elsewhere), the box highlighted in the finding's colour
        with_box = [i for i, f in enumerate(rep["findings"], 1) if f["page"] and f["bbox"]]
        assert set(with_box) <= set(map(int, manifest["findings"]))
        for i in map(int, manifest["findings"]):
            crop = np.asarray(Image.open(out / sid / manifest["findings"][str(i)]["file"]).convert("RGB"))
            red = (crop[:, :, 0] > 180) & (crop[:, :, 1] < 140) & (crop[:, :, 2] < 80)
            assert red.sum() > 50, (sid, i)
    # the pages are text layers here (read in milliseconds), so this bounds rendering alone
    assert max(per_page) < 0.5, per_page
    print(f"\nrendering: {1000 * sum(per_page) / len(per_page):.0f} ms per page on average")


# --- the spreadsheet ---------------------------------------------------------------------


def sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=2)]


def test_summary_xlsx_matches_the_json_reports(batch):
    out, _, forms = batch
    reports = json_reports(out)
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    assert wb.sheetnames[:2] == ["汇总", "问题明细"]

    ws = wb["汇总"]
    rows = sheet_rows(ws)
    assert [r["编号"] for r in rows] == sorted(reports)
    for r in rows:
        j = reports[r["编号"]]
        codes = sorted(problem_codes(j))
        assert r["状态"] == j["status"]
        assert r["申报类别"] == j["category"]
        assert r["姓名"] == j["declared"]["name"]
        assert r["身份证号"] == j["declared"]["id_number"] == forms[r["编号"]]["id_number"]
        assert r["推荐单位"] == j["declared"]["recommender"]
        assert r["页数"] == j["pages"]
        assert r["错误"] == sum(f["severity"] == "error" for f in j["findings"])
        assert r["警告"] == sum(f["severity"] == "warning" for f in j["findings"])
        assert (r["问题代码"] or "") == ";".join(codes)
        assert r["用时(秒)"] == pytest.approx(j["meta"]["seconds"], abs=0.01)
        assert r["报告"] == f"{r['编号']}.html"
    # the look: frozen header, filters, coloured status, widths that hold Chinese text
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == f"A1:O{len(rows) + 1}"
    header = [c.value for c in ws[1]]
    status_col = header.index("状态") + 1
    fills = {ws.cell(i, status_col).value: ws.cell(i, status_col).fill.fgColor.rgb for i in range(2, len(rows) + 2)}
    assert len(set(fills.values())) == len(fills) >= 3  # pass, review, fail each its own colour
    for col, key in ((header.index("推荐单位") + 1, "推荐单位"), (header.index("申报类别") + 1, "申报类别")):
        letter = openpyxl.utils.get_column_letter(col)
        assert ws.column_dimensions[letter].width >= max(display_width(r[key]) for r in rows)

    fs = wb["问题明细"]
    frows = sheet_rows(fs)
    got = collections.Counter((r["编号"], r["代码"], r["说明"], r["页码"]) for r in frows)
    want = collections.Counter((sid, f["code"], f["message"], f["page"]) for sid, j in reports.items()
                               for f in j["findings"])
    assert got == want
    assert fs.freeze_panes == "B2" and fs.auto_filter.ref.startswith("A1:")
    about = {r[0].value: r[1].value for r in wb["批次信息"].iter_rows()}
    meta = reports["CQ-001"]["meta"]
    assert about["版本"] == meta["version"] and about["规则文件"] == meta["rules"]
    # the CSV stays
    csv_ids = [line.split(",")[0] for line in (out / "summary.csv").read_text("utf-8-sig").splitlines()[1:]]
    assert sorted(csv_ids) == sorted(reports)


# --- --mask-id ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def masked(inputs, tmp_path_factory):
    from click.testing import CliRunner

    from pipeline.cli import main

    root, forms = inputs
    out = tmp_path_factory.mktemp("html-masked")
    res = CliRunner().invoke(main, ["batch", str(root), "--out", str(out), "--mask-id"])
    assert res.exit_code == 0, res.output
    return out, forms


def test_mask_id_hides_id_numbers_in_html_spreadsheet_and_images(masked, batch):
    out, forms = masked
    ids = {f["id_number"] for f in forms.values()}
    for page in out.glob("*.html"):
        text = page.read_text("utf-8")
        text += re.sub(r"<[^>]+>", "", text)  # also as read: tags (a <mark>) do not split a number
        assert not [i for i in ids if i in text], page.name
    cq1 = forms["CQ-001"]["id_number"]
    assert f"{cq1[:6]}********{cq1[-4:]}" in (out / "CQ-001.html").read_text("utf-8")
    assert "500103********" in (out / "index.html").read_text("utf-8")  # the duplicate's panel
    wb = openpyxl.load_workbook(out / "summary.xlsx")
    for ws in wb:
        for row in ws.iter_rows(values_only=True):
            assert not [v for v in row if isinstance(v, str) and any(i in v for i in ids)], row
    assert all(re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r["身份证号"]) for r in sheet_rows(wb["汇总"]))
    # the JSON, for programs, keeps the number
    assert json.loads((out / "CQ-001.json").read_text("utf-8"))["declared"]["id_number"] == cq1
    # and the pictures: the birth-date part of the number is painted over
    plain, _, _ = batch
    a = np.asarray(Image.open(plain / "CQ-001" / "field-id_number.png").convert("L"), dtype=int)
    b = np.asarray(Image.open(out / "CQ-001" / "field-id_number.png").convert("L"), dtype=int)
    assert a.shape == b.shape and np.abs(a - b).mean() > 3
    assert ((b > 60) & (b < 130)).sum() > 2000  # the grey bar (under the highlight's tint)


# --- in Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    if not chromium or not driver:
        msg = "Debian's chromium and chromium-driver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    webdriver = pytest.importorskip("selenium.webdriver")
    tmp = tmp_path_factory.mktemp("chromium")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp / 'profile'}")
    # The driver's path is given, so Selenium Manager (which could download one) never runs.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SE_AVOID_STATS", "true")
        service = webdriver.ChromeService(executable_path=driver, log_output=str(tmp / "chromedriver.log"))
        d = webdriver.Chrome(options=opts, service=service)
    d.set_page_load_timeout(30)
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture()
def screenshots(tmp_path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


def full_page_screenshot(d, path: Path) -> None:
    height = d.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    width = d.execute_script("return window.outerWidth")
    d.set_window_size(width, min(max(900, height + 140), 6000))
    time.sleep(0.2)
    d.save_screenshot(str(path))
    d.set_window_size(1366, 900)


def wait_for(d, script: str, *args, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = d.execute_script(script, *args)
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_index_filters_sorts_and_links_to_a_page_whose_crops_load(batch, browser, screenshots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    out, _, forms = batch
    reports = json_reports(out)
    d = browser
    d.get((out / "index.html").as_uri())
    assert wait_for(d, "return document.readyState === 'complete'")
    rows = d.find_elements(By.CSS_SELECTOR, "#subs tbody tr")
    assert len(rows) == len(reports)
    d.save_screenshot(str(screenshots / "01-index.png"))

    def shown() -> list[str]:
        return sorted(d.execute_script(
            "return Array.from(document.querySelectorAll('#subs tbody tr')).filter(r => !r.hidden).map(r => r.dataset.id)"))

    def expect(pred) -> list[str]:
        return sorted(sid for sid, r in reports.items() if pred(r))

    def reset() -> None:
        d.find_element(By.ID, "f-reset").click()
        assert shown() == sorted(reports)

    select = {k: Select(d.find_element(By.ID, f"f-{k}")) for k in ("status", "code", "category", "recommender")}
    for status in ("fail", "review", "pass"):
        select["status"].select_by_value(status)
        assert shown() == expect(lambda r, s=status: r["status"] == s) != []
        assert d.find_element(By.ID, "shown").text == str(len(shown()))
    d.save_screenshot(str(screenshots / "02-index-pass.png"))
    reset()
    # every code offered filters to exactly the submissions that have it
    offered = [o.get_attribute("value") for o in select["code"].options if o.get_attribute("value")]
    assert set(offered) == {c for r in reports.values() for c in problem_codes(r)}
    for code in offered:
        select["code"].select_by_value(code)
        assert shown() == expect(lambda r, c=code: c in problem_codes(r)), code
    reset()
    for cat in {r["category"] for r in reports.values()}:
        select["category"].select_by_value(cat)
        assert shown() == expect(lambda r, c=cat: r["category"] == c)
    reset()
    rec = "江北区人力社保局"
    select["recommender"].select_by_value(rec)
    assert shown() == expect(lambda r: r["declared"]["recommender"] == rec) == ["CQ-002", "CQ-004"]
    select["status"].select_by_value("review")  # filters combine
    assert shown() == expect(lambda r: r["declared"]["recommender"] == rec and r["status"] == "review")
    reset()
    d.find_element(By.ID, "f-q").send_keys(forms["CQ-003"]["name"])
    assert shown() == ["CQ-003"]
    reset()
    # a status button is a filter too
    d.find_element(By.CSS_SELECTOR, ".stats button[data-status='fail']").click()
    assert shown() == expect(lambda r: r["status"] == "fail")
    reset()
    # sorting: by status puts the failures first, clicking again reverses
    th = d.find_element(By.CSS_SELECTOR, "#subs th[data-key='status']")
    th.click()
    order = d.execute_script("return Array.from(document.querySelectorAll('#subs tbody tr')).map(r => r.dataset.status)")
    assert order == sorted(order, key=STATUS_RANK.get) and order[0] == "fail"
    th.click()
    order = d.execute_script("return Array.from(document.querySelectorAll('#subs tbody tr')).map(r => r.dataset.status)")
    assert order[0] == "pass"
    # the batch-level panel names both kinds, with links
    panel = d.find_element(By.ID, "batch")
    assert "DUPLICATE_APPLICANT" in panel.text and "QUOTA_EXCEEDED" in panel.text
    assert {a.text for a in panel.find_elements(By.TAG_NAME, "a")} == {"CQ-005", "CQ-006", "CQ-007", "CQ-008", "CQ-009"}

    # follow a link: the filter is kept in the address, so "back" finds it again
    select["code"].select_by_value("NAME_MISMATCH")
    assert shown() == ["CQ-002"]
    d.find_element(By.CSS_SELECTOR, "#subs tbody tr:not([hidden]) td.id a").click()
    assert wait_for(d, "return location.pathname.endsWith('/CQ-002.html') && document.readyState === 'complete'")
    check_submission_page(d, out, "CQ-002", reports["CQ-002"])
    full_page_screenshot(d, screenshots / "03-submission-CQ-002.png")
    d.back()
    assert wait_for(d, "return location.pathname.endsWith('/index.html') && document.readyState === 'complete'")
    assert wait_for(d, "return document.getElementById('f-code').value === 'NAME_MISMATCH'")
    assert shown() == ["CQ-002"]

    # every submission's page: every finding with a box shows its crop, every image loads
    for sid in sorted(reports):
        d.get((out / f"{sid}.html").as_uri())
        assert wait_for(d, "return document.readyState === 'complete'")
        check_submission_page(d, out, sid, reports[sid])
    d.get((out / "CQ-004.html").as_uri())
    assert wait_for(d, "return document.readyState === 'complete'")
    full_page_screenshot(d, screenshots / "04-submission-CQ-004.png")

    assert sorted(p.name for p in screenshots.iterdir()) == [
        "01-index.png", "02-index-pass.png", "03-submission-CQ-002.png", "04-submission-CQ-004.png"]
    LEAD_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("01-index.png", "03-submission-CQ-002.png"):
        shutil.copy(screenshots / name, LEAD_SCREENSHOTS / name)


def check_submission_page(d, out: Path, sid: str, report: dict) -> None:
    from selenium.webdriver.common.by import By

    assert sid in d.find_element(By.TAG_NAME, "h1").text
    badge = d.find_element(By.CSS_SELECTOR, "h1 .badge")
    assert badge.get_attribute("data-status") == report["status"]
    meta = d.find_element(By.CSS_SELECTOR, "main > p.meta").text
    assert report["meta"]["version"] in meta and report["meta"]["rules"] in meta and "用时" in meta
    # each finding is on the page; each one with a page and a box has its crop, loaded
    articles = d.find_elements(By.CSS_SELECTOR, "article.finding")
    assert [a.get_attribute("data-code") for a in articles] == [
        f["code"] for f in sorted(report["findings"], key=lambda f: f["severity"] == "info")]
    for i, f in enumerate(report["findings"], 1):
        art = d.find_element(By.ID, f"finding-{i}")
        assert f["message"] in art.text
        if f["page"] and f["bbox"]:
            img = art.find_element(By.CSS_SELECTOR, "img.crop")
            assert wait_for(d, "return arguments[0].complete && arguments[0].naturalWidth > 0", img), (sid, i)
            link = img.find_element(By.XPATH, "..").get_attribute("href")
            assert link.endswith(f"/{sid}/page-{f['page']}.jpg")
    # every image (crops, thumbnails) loads; nothing was fetched but files from the batch folder
    broken = wait_for(d, "return Array.from(document.images).every(i => i.complete) && JSON.stringify("
                         "Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src))")
    assert broken == "[]", broken
    assert len(d.find_elements(By.CSS_SELECTOR, ".pages figure")) == report["pages"]
    with_box = {f["page"] for f in report["findings"] if f["page"] and f["bbox"] and f["severity"] != "info"}
    for page in with_box:
        assert d.find_elements(By.CSS_SELECTOR, f"#page-{page} .thumb .box")
    urls = d.execute_script("return Array.from(document.querySelectorAll('[src]')).map(e => e.src)")
    assert urls and all(u.startswith(out.as_uri() + "/") for u in urls), urls


def test_no_page_refers_to_anything_outside_the_batch_folder(batch):
    out, _, _ = batch
    for page in out.glob("*.html"):
        text = page.read_text("utf-8")
        assert "Content-Security-Policy" in text and "@media print" in text
        assert not re.search(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:|//)""", text, re.IGNORECASE), page.name


def test_masking_hides_the_birth_date_of_id_numbers_only():
    from pipeline.labels import mask_id_numbers

    assert mask_id_numbers("500101198503121234") == "500101********1234"
    assert mask_id_numbers("身份证号：50010119850312123X。") == "身份证号：500101********123X。"
    assert mask_id_numbers("500101850312123") == "500101******123"  # a 15-character number
    for other in ("S000050123456212000101", "1050123456789012", "CQ-001、CQ-002", "2023-12-15 18:00"):
        assert mask_id_numbers(other) == other
