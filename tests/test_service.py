"""`precheck serve` end to end: the real server as a subprocess on 127.0.0.1, a free port and a
temporary data folder, every endpoint and error, a kill -9 and restart mid-jobs, and a
property-based run (schemathesis) against /openapi.json. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from helpers import form_dict  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TOKEN = "svc-test-token-0123456789abcdef"
TOKEN2 = "svc-second-token-fedcba9876543210"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LOCAL = "127.0.0.1"


# --- documents ---------------------------------------------------------------------------------


def text_pdf(pages: list[list[str]]) -> bytes:
    """Typed pages in an embedded CJK font: the first line a centred title."""
    from fixtures.pdfs import typed_pdf

    return typed_pdf(pages)


def certificate_lines(form: dict) -> list[str]:
    return ["职业技能等级证书", f"姓名：{form['name']}", "性别：男", f"身份证号：{form['id_number']}",
            "职业（工种）：焊工", "职业技能等级：二级/技师", f"证书编号：{form['certificate_number']}",
            "发证日期：2021年6月1日", "此件与原件相符"]


def submission_pdf(form: dict) -> bytes:
    narrative = ["候选人事迹材料", f"候选人：{form['name']}", "工作单位：重庆某机械有限公司",
                 "该同志长期从事焊接工作，技术精湛，带徒传技，成绩突出。"]
    return text_pdf([narrative, certificate_lines(form)])


def scanned_pdf(form: dict) -> bytes:
    """One certificate page as an image only (no text layer): it must be OCR-ed."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
    draw = ImageDraw.Draw(img)
    title, body = ImageFont.truetype(FONT, 56, index=0), ImageFont.truetype(FONT, 36, index=0)
    lines = certificate_lines(form)
    draw.text((620, 160), lines[0], font=title, fill="black", anchor="mm")
    for i, text in enumerate(lines[1:]):
        draw.text((150, 300 + 80 * i), text, font=body, fill=(20, 20, 20))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(img), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, "JPEG")
    return buf.getvalue()


def encrypted_pdf(pdf: bytes) -> bytes:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.encrypt("user-secret", "owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def new_form(**overrides) -> dict:
    return form_dict(**{"id": f"t-{uuid.uuid4().hex[:8]}", **overrides})


def files(pdf: bytes, form: dict | bytes | str, name: str = "材料.pdf", pdf_type: str = "application/pdf") -> dict:
    raw = form if isinstance(form, (bytes, str)) else json.dumps(form, ensure_ascii=False)
    return {"pdf": (name, pdf, pdf_type), "form": ("form.json", raw, "application/json")}


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCAL, 0))
        return s.getsockname()[1]


class Server:
    """`precheck serve` in a subprocess; stopped by the test that started it."""

    def __init__(self, data: Path, *args: str, env: dict | None = None):
        self.data, self.args, self.env = data, args, env or {}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log = data.parent / f"{data.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://{LOCAL}:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        env = {**os.environ, "PRECHECK_TOKENS": f"{TOKEN},{TOKEN2}", "PYTHONPATH": str(ROOT), **self.env}
        cmd = [sys.executable, "-m", "pipeline.cli", "serve", "--host", LOCAL, "--port", str(self.port),
               "--data-dir", str(self.data), "--workers", "1", *self.args]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready in {timeout}s:\n{self.log.read_text()}")

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=90, **kw)

    def children(self) -> list[int]:
        assert self.proc is not None
        out = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            out += [int(p) for p in (task / "children").read_text().split()]
        return out

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def wait_done(client: httpx.Client, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/prechecks/{job_id}", headers=AUTH).json()
        if body["state"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not finished in {timeout}s: {body}")


def wait_state(client: httpx.Client, job_id: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while client.get(f"/v1/prechecks/{job_id}", headers=AUTH).json()["state"] != state:
        assert time.monotonic() < deadline, f"job {job_id} never {state}"
        time.sleep(0.05)


def leftover_files(data: Path) -> list[str]:
    return sorted(p.name for d in ("uploads", "tmp") for p in (data / d).iterdir())


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Three servers started at once, so that their OCR warm-ups overlap: the main one (1 MB
    upload limit), one with a tiny queue, a short time limit and retention, and one to kill."""
    base = tmp_path_factory.mktemp("svc")
    sleep = {"PRECHECK_TEST_SLEEP": "1"}
    started = {
        "main": Server(base / "main", "--max-upload-mb", "1", "--queue-size", "40"),
        "limits": Server(base / "limits", "--queue-size", "2", "--job-timeout", "2.5", "--retention", "3s",
                         env=sleep),
        "crash": Server(base / "crash", "--queue-size", "10", env=sleep),
    }
    try:
        for srv in started.values():
            srv.start()
        yield started
    finally:
        for srv in started.values():
            srv.stop()


@pytest.fixture(scope="module")
def server(servers):
    servers["main"].wait_ready()
    return servers["main"]


@pytest.fixture(scope="module")
def client(server):
    with server.client() as c:
        yield c


# --- settings (no server) ----------------------------------------------------------------------


def test_durations_tokens_and_refused_settings(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.service.settings import Settings, parse_duration, read_tokens

    assert [parse_duration(x) for x in ("90", "90s", "15m", "12h", "7d", "0.5h")] == [90, 90, 900, 43200, 604800,
                                                                                       1800]
    with pytest.raises(ValueError):
        parse_duration("7 weeks")
    (tmp_path / "tokens").write_text(f"# platform A\n{TOKEN}\n\n{TOKEN2}\n", encoding="utf-8")
    assert read_tokens(f" {TOKEN2} ,x-extra-token-0123456789", tmp_path / "tokens") == (
        TOKEN2, "x-extra-token-0123456789", TOKEN)
    with pytest.raises(ValueError, match="no bearer token"):
        Settings(tokens=()).check()
    with pytest.raises(ValueError, match="16 characters"):
        Settings(tokens=("short",)).check()
    Settings(tokens=(TOKEN,)).check()
    result = CliRunner(env={"PRECHECK_TOKENS": ""}).invoke(main, ["serve", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "no bearer token" in result.output and not (tmp_path / "d").exists()


# --- endpoints ---------------------------------------------------------------------------------


def test_health_ready_openapi_and_no_pages_loading_assets(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True and ready.json()["workers_ready"] == 1
    spec = client.get("/openapi.json").json()
    assert {"/v1/prechecks", "/v1/prechecks/{job_id}", "/v1/prechecks/{job_id}/report.html", "/healthz",
            "/readyz"} <= set(spec["paths"])
    assert "multipart/form-data" in spec["paths"]["/v1/prechecks"]["post"]["requestBody"]["content"]
    for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):  # Swagger/ReDoc would load a CDN's scripts
        r = client.get(page)
        assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    assert "default-src 'none'" in ready.headers["content-security-policy"]
    assert ready.headers["cache-control"] == "no-store"


def test_tokens_are_required_and_several_work(client):
    form = new_form()
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}):
        r = client.post("/v1/prechecks", headers=headers, files=files(submission_pdf(form), form))
        assert r.status_code == 401, headers
        assert r.json() == {"code": "UNAUTHORIZED", "message": "未授权：缺少或无效的访问令牌"}
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert client.get(f"/v1/prechecks/{'0' * 32}", headers=headers).status_code == 401
    r = client.post("/v1/prechecks?wait=30", headers={"Authorization": f"Bearer {TOKEN2}"},
                    files=files(submission_pdf(form), form))
    assert r.status_code == 200 and r.json()["state"] == "done"


def test_text_layer_submission_with_wait_gets_the_contract_report(client, server):
    form = new_form()
    started = time.perf_counter()
    r = client.post("/v1/prechecks?wait=30", headers=AUTH, files=files(submission_pdf(form), form))
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "done" and body["status"] == "pass" and body["cached"] is False
    assert r.headers["location"] == body["url"] == f"/v1/prechecks/{body['id']}"
    report = body["report"]
    assert {"submission", "status", "pages", "extracted", "page_details", "findings"} <= set(report)
    assert report["submission"] == form["id"] and report["pages"] == 2 and report["findings"] == []
    assert report["extracted"]["id_number"][0]["value"] == form["id_number"]
    assert [p["text_layer"] for p in report["page_details"]] == [True, True]
    assert elapsed < 5
    again = client.get(body["url"], headers=AUTH)
    assert again.status_code == 200 and again.json()["report"] == report
    assert leftover_files(server.data) == []  # the upload is deleted once checked


def test_without_wait_202_then_poll(client):
    form = new_form(birth_date="1986-03-12")  # differs from the ID number: a finding
    r = client.post("/v1/prechecks", headers=AUTH, files=files(submission_pdf(form), form))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["state"] in ("queued", "running", "done") and len(body["id"]) == 32
    assert r.headers["location"] == body["url"]
    done = wait_done(client, body["id"])
    assert done["state"] == "done" and done["status"] == "fail"
    assert "BIRTH_DATE_MISMATCH" in {f["code"] for f in done["report"]["findings"]}


def test_same_file_and_form_are_answered_from_the_stored_result(client):
    form = new_form()
    pdf = submission_pdf(form)
    first = client.post("/v1/prechecks?wait=30", headers=AUTH, files=files(pdf, form)).json()
    reordered = json.dumps(dict(reversed(list(form.items()))), ensure_ascii=False, indent=2)
    for raw in (form, reordered):  # the key is the canonical form, not its bytes
        r = client.post("/v1/prechecks", headers=AUTH, files=files(pdf, raw, name="another-name.pdf"))
        assert r.status_code == 200 and r.json()["cached"] is True
        assert r.json()["id"] == first["id"] and r.json()["report"] == first["report"]
    other = client.post("/v1/prechecks?wait=30", headers=AUTH, files=files(pdf, {**form, "unit": "另一单位"}))
    assert other.json()["id"] != first["id"] and other.json()["cached"] is False


def test_applicant_errors_are_json_with_code_chinese_message_and_status(client, server):
    form = new_form()
    pdf = submission_pdf(form)
    no_birth = {k: v for k, v in form.items() if k != "birth_date"}
    cases = [
        (files(jpeg_bytes(), form, name="证书.pdf"), 415, "NOT_A_PDF", "文件不是PDF"),  # a renamed JPEG
        (files(b"", form), 415, "NOT_A_PDF", "文件为空"),
        (files(pdf, no_birth), 422, "FORM_INVALID", "表单缺少出生日期"),
        (files(pdf, "{not json"), 422, "FORM_INVALID", "JSON格式错误"),
        (files(pdf, {**form, "category": "全国技术能手"}), 422, "FORM_INVALID", "申报类别"),
        (files(text_pdf([[f"第{i}页", "内容"] for i in range(16)]), form), 422, "PAGE_LIMIT_EXCEEDED",
         "超过15页"),
        (files(encrypted_pdf(pdf), form), 422, "PDF_ENCRYPTED", "PDF已加密"),
        (files(pdf[: len(pdf) // 2], form), 422, "PDF_UNREADABLE", "不完整"),
        ({"form": ("form.json", json.dumps(form), "application/json")}, 422, "PDF_MISSING", "缺少PDF文件"),
        ({"pdf": ("a.pdf", pdf, "application/pdf")}, 422, "FORM_INVALID", "缺少表单数据"),
    ]
    for payload, status, code, words in cases:
        r = client.post("/v1/prechecks?wait=5", headers=AUTH, files=payload)
        assert r.status_code == status, (code, r.text)
        body = r.json()
        assert body["code"] == code and words in body["message"], body
    assert r.json()["field"] == "form"
    not_multipart = client.post("/v1/prechecks", headers=AUTH, json=form)
    assert not_multipart.status_code == 415 and not_multipart.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    bad_wait = client.post("/v1/prechecks?wait=-1", headers=AUTH, files=files(pdf, form))
    assert bad_wait.status_code == 422 and bad_wait.json()["code"] == "BAD_REQUEST"
    assert client.get(f"/v1/prechecks/{'f' * 32}", headers=AUTH).json()["code"] == "NOT_FOUND"
    assert client.get("/v1/prechecks/../../etc/passwd", headers=AUTH).status_code == 404
    assert client.get("/nowhere").json() == {"code": "NOT_FOUND", "message": "未找到请求的地址"}
    assert client.delete("/v1/prechecks").json()["code"] == "METHOD_NOT_ALLOWED"
    assert leftover_files(server.data) == []  # nothing refused is kept


def test_report_html_is_served_or_refused_as_json(client):
    form = new_form()
    body = client.post("/v1/prechecks?wait=30", headers=AUTH, files=files(submission_pdf(form), form)).json()
    r = client.get(f"{body['url']}/report.html", headers=AUTH)
    if body["report_html_url"] is None:  # the pipeline has no HTML report (yet): no faked page
        assert r.status_code == 404 and r.json()["code"] == "REPORT_HTML_UNAVAILABLE"
    else:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html") and "<html" in r.text
        assert "http://" not in r.text and "https://" not in r.text  # nothing loaded from the internet
    assert client.get(f"/v1/prechecks/{'a' * 32}/report.html", headers=AUTH).status_code == 404


def _raw_request(port: int, head: str, body_chunks, read_timeout: float = 10) -> tuple[int, bytes, int]:
    """Send a request head and body chunks over a raw socket, stop, and read the answer:
    (HTTP status, response bytes, body bytes sent)."""
    sent = 0
    with socket.create_connection((LOCAL, port), timeout=read_timeout) as sock:
        sock.sendall(head.encode())
        for chunk in body_chunks:
            sock.sendall(chunk)
            sent += len(chunk)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 40:
            part = sock.recv(65536)
            if not part:
                break
            data += part
    return int(data.split(b" ", 2)[1]), data, sent


def test_oversized_upload_is_refused_before_it_is_all_read(server):
    boundary = "xBOUNDARYx"
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; filename=\"big.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n%PDF-1.7\n").encode()
    head = (f"POST /v1/prechecks HTTP/1.1\r\nHost: {LOCAL}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n")
    # A declared 8 MB body (limit 1 MB): answered 413 before a byte of it is sent.
    status, data, sent = _raw_request(server.port, head + "Content-Length: 8388608\r\n\r\n", [])
    assert status == 413 and sent == 0 and b"UPLOAD_TOO_LARGE" in data
    # Chunked, no length: counted while read; refused just past 1 MB of a body meant to be 8 MB.
    chunk = b"0" * 65536

    def body():
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
        for _ in range(17):  # 1.06 MB, then the client stops sending (the rest never comes)
            yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    status, data, sent = _raw_request(server.port, head + "Transfer-Encoding: chunked\r\n\r\n", body())
    assert status == 413 and b"UPLOAD_TOO_LARGE" in data and sent < 1.2 * 1024 * 1024
    assert "上传文件超过1MB".encode() in data
    with server.client() as c:
        assert c.get("/healthz").status_code == 200
    assert leftover_files(server.data) == []


def test_twenty_concurrent_uploads(client):
    forms = [new_form() for _ in range(20)]
    # made before the threads: reportlab's font subsetting is not thread-safe (KeyError in
    # ttfonts when twenty PDFs were built at once)
    pdfs = [submission_pdf(form) for form in forms]

    def post(form_and_pdf):
        form, pdf = form_and_pdf
        r = client.post("/v1/prechecks?wait=60", headers=AUTH, files=files(pdf, form))
        return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(post, zip(forms, pdfs)))
    ids = set()
    for form, (status, body) in zip(forms, results, strict=True):
        if status == 202:
            body = wait_done(client, body["id"])
        assert body["state"] == "done", body
        assert body["report"]["submission"] == form["id"] and body["status"] == "pass"
        ids.add(body["id"])
    assert len(ids) == 20


def test_a_scanned_page_is_ocred_in_the_worker(client):
    form = new_form()
    r = client.post("/v1/prechecks?wait=90", headers=AUTH, files=files(scanned_pdf(form), form))
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    page = report["page_details"][0]
    assert page["text_layer"] is False and page["ocr"] == "rapidocr" and page["kind"] == "certificate"
    assert report["extracted"]["id_number"][0]["value"] == form["id_number"]
    assert report["extracted"]["certificate_number"][0]["value"] == form["certificate_number"]


def test_schemathesis_finds_no_server_error(server, tmp_path):
    """Property-based requests generated from /openapi.json, with and without a token."""
    pytest.importorskip("schemathesis", reason="pip install -e '.[test]'")
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json", "--checks", "not_a_server_error",
           "--header", f"Authorization: Bearer {TOKEN}", "--max-examples", "20", "--max-time", "10",
           "--seed", "6", "--generation-database", "none", "--workers", "2", "--no-color",
           "--request-timeout", "30", "--suppress-health-check", "all"]
    r = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-2000:]
    assert "500" not in r.stdout.split("SUMMARY")[-1] or "No issues found" in r.stdout


def test_logs_carry_no_personal_data(server):
    log = server.log.read_text()
    form = form_dict()
    assert "job " in log and " accepted: " in log
    for personal in (form["name"], form["id_number"], form["id_number"][6:14], form["certificate_number"]):
        assert personal not in log


# --- queue, time limit, retention --------------------------------------------------------------


def test_full_queue_429_time_limit_and_retention(servers):
    srv = servers["limits"]
    data = srv.data
    try:
        srv.wait_ready()
        with srv.client() as c:
            def post(sid: str, wait: float = 0):
                form = new_form(id=sid)
                return c.post(f"/v1/prechecks?wait={wait}", headers=AUTH, files=files(submission_pdf(form), form))

            a = post("sleep-1.5-a").json()
            wait_state(c, a["id"], "running")
            queued = [post(f"sleep-0-{x}") for x in "bc"]
            assert [r.status_code for r in queued] == [202, 202]
            full = post("sleep-0-d")
            assert full.status_code == 429 and full.json()["code"] == "QUEUE_FULL"
            assert "稍后" in full.json()["message"] and int(full.headers["retry-after"]) >= 1
            for job in [a] + [r.json() for r in queued]:
                assert wait_done(c, job["id"])["state"] == "done"
            # Over the time limit: the worker is killed and replaced, the job fails, the next one runs.
            slow = post("sleep-30-e", wait=20)
            assert slow.status_code == 200 and slow.json()["state"] == "failed"
            assert slow.json()["error"]["code"] == "RESOURCE_LIMIT" and "2.5秒" in slow.json()["error"]["message"]
            after = post("after-timeout", wait=60)
            assert after.status_code == 200 and after.json()["state"] == "done"
            # Retention: the first jobs finished over 3 s ago; their reports are gone, the id is told 410.
            deadline = time.monotonic() + 10
            while (r := c.get(a["url"], headers=AUTH)).status_code != 410:
                assert time.monotonic() < deadline, r.text
                time.sleep(0.2)
            assert r.json()["code"] == "JOB_EXPIRED"
            html = c.get(f"{a['url']}/report.html", headers=AUTH)
            assert html.status_code == 410
        assert leftover_files(data) == []
    finally:
        srv.stop()
    with sqlite3.connect(data / "jobs.sqlite3") as db:
        kept = db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'expired' AND report IS NULL AND form IS NULL "
                          "AND key IS NULL AND submission IS NULL").fetchone()[0]
        assert kept >= 3  # a, b and c (the later jobs may not have expired yet)
    log = srv.log.read_text()
    assert "张三丰" not in log and form_dict()["id_number"] not in log  # no personal data in the logs
    assert "over the 2.5s time limit" in log


# --- kill -9 and restart -----------------------------------------------------------------------


def test_kill_9_mid_jobs_and_restart_accounts_for_every_job(servers):
    srv = servers["crash"]
    data = srv.data
    try:
        srv.wait_ready()
        with srv.client() as c:
            forms = [new_form(id=f"sleep-{2 if i == 0 else 0.5}-{i}") for i in range(4)]
            payloads = [files(submission_pdf(form), form) for form in forms]
            accepted = []
            for payload in payloads:
                r = c.post("/v1/prechecks", headers=AUTH, files=payload)
                assert r.status_code == 202
                accepted.append(r.json()["id"])
            wait_state(c, accepted[0], "running")  # killed in the middle of this job, three waiting
        workers = srv.children()
        assert workers
        srv.kill9()
        time.sleep(0.5)
        for pid in workers:  # the worker processes die with the server
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        srv.stop()
    stored = sorted(p.name for p in (data / "uploads").iterdir())
    assert len(stored) == 4  # nothing accepted was lost
    assert all(re.fullmatch(r"[0-9a-f]{32}\.pdf", name) for name in stored)  # server-made names only
    srv.start()  # same data folder, a new port
    try:
        with srv.client() as c:
            deadline = time.monotonic() + 60
            bodies = {}
            while len(bodies) < len(accepted):
                assert time.monotonic() < deadline, bodies
                try:
                    for job_id in accepted:
                        r = c.get(f"/v1/prechecks/{job_id}", headers=AUTH)
                        assert r.status_code == 200, r.text  # never a lost job
                        if r.json()["state"] in ("done", "failed"):
                            bodies[job_id] = r.json()
                except httpx.TransportError:
                    pass  # still starting
                time.sleep(0.2)
        assert all(b["state"] == "done" and b["status"] == "pass" for b in bodies.values()), bodies
    finally:
        srv.stop()
    assert "interrupted jobs queued again" in srv.log.read_text()
    assert leftover_files(data) == []
