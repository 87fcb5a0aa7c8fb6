"""Benchmark of `precheck serve`: upload-to-report time and throughput, on this machine.

    python bench/bench_service.py [--workers N] [--text-runs 30] [--scanned-runs 5] [--clients 4]
    (about 10 minutes on 2 cores)

Starts the real server on 127.0.0.1 (a free port, a temporary data folder), and prints:
- the batch pipeline's own time for the 10-page scanned submission, in this process
  (Prechecker.check after warm-up), per page: the issue's yardstick, measured in turn with
  the service's uploads of the same file so that other load on the machine weighs on both;
- median and 95th percentile from upload to report (POST ?wait=..., one client) for a
  2-page text-layer submission and for the 10-page scanned one;
- throughput with concurrent clients, text-layer and scanned.
Every request carries a new form id, so that none is answered from a stored result.
All traffic goes to 127.0.0.1; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TOKEN = f"bench-{uuid.uuid4().hex}"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SAMPLE = ROOT / "fixtures" / "sample"


# --- the two submissions -------------------------------------------------------------------------


def text_submission() -> tuple[bytes, dict]:
    """Two typed pages (narrative, certificate) in an embedded CJK font; its form."""
    from extractors.id_number import check_character
    from fixtures.pdfs import typed_pdf

    first17 = "50010319850312123"
    form = {"id": "bench", "category": "全市技术能手", "name": "张三丰", "gender": "男",
            "id_number": first17 + check_character(first17), "birth_date": "1985-03-12", "occupation": "焊工",
            "grade": "技师", "certificate_number": "S000050123456232000123", "honors": [],
            "unit": "重庆某机械有限公司", "recommender": "渝中区人力社保局", "submitted_at": "2023-12-10T10:00:00+08:00"}
    pages = [["候选人事迹材料", f"候选人：{form['name']}", f"工作单位：{form['unit']}",
              "该同志长期从事焊接工作，技术精湛，带徒传技，成绩突出。"],
             ["职业技能等级证书", f"姓名：{form['name']}", "性别：男", f"身份证号：{form['id_number']}",
              "职业（工种）：焊工", "职业技能等级：二级/技师", f"证书编号：{form['certificate_number']}",
              "发证日期：2021年6月1日", "此件与原件相符"]]
    return typed_pdf(pages), form


def scanned_submission(pages: int = 10, dpi: int = 200) -> tuple[bytes, dict]:
    """A committed sample submission's pages (typed narrative and scanned certificates) turned
    into images at `dpi` and repeated to `pages` pages: no page has a text layer."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    src = SAMPLE / "CQ-S01.pdf"
    form = json.loads((SAMPLE / "CQ-S01.json").read_text(encoding="utf-8-sig"))
    doc = pdfium.PdfDocument(src.read_bytes())
    images = []
    for i in range(len(doc)):
        page = doc[i]
        images.append((page.render(scale=dpi / 72).to_pil().convert("RGB"), page.get_size()))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for n in range(pages):
        img, (w, h) = images[n % len(images)]
        img = img.copy()
        ImageDraw.Draw(img).text((20, 20), f"{n + 1}/{pages}", fill=(90, 90, 90))  # no two pages alike
        jpeg = io.BytesIO()
        img.save(jpeg, "JPEG", quality=85)
        c.setPageSize((w, h))
        c.drawImage(ImageReader(io.BytesIO(jpeg.getvalue())), 0, 0, width=w, height=h)
        c.showPage()
    c.save()
    return buf.getvalue(), form


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data: Path, workers: int | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "pipeline.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(data), "--queue-size", "256", "--no-access-log"]
        if workers:
            cmd += ["--workers", str(workers)]
        env = {**os.environ, "PRECHECK_TOKENS": TOKEN, "PYTHONPATH": str(ROOT)}
        self.log = open(data.parent / "server.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200 and r.json()["workers_ready"] == r.json()["workers"]:
                    return r.json()
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("server not ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def upload(client: httpx.Client, pdf: bytes, form: dict, wait: float = 110) -> tuple[float, dict]:
    """Seconds from the start of the upload to the report in hand, and the job."""
    form = {**form, "id": f"{form['id']}-{uuid.uuid4().hex[:10]}"}
    files = {"pdf": ("a.pdf", pdf, "application/pdf"),
             "form": ("form.json", json.dumps(form, ensure_ascii=False), "application/json")}
    started = time.perf_counter()
    r = client.post(f"/v1/prechecks?wait={wait}", headers=AUTH, files=files)
    body = r.json()
    while r.status_code == 202 or body.get("state") in ("queued", "running"):
        time.sleep(0.05)
        r = client.get(body["url"], headers=AUTH)
        body = r.json()
    elapsed = time.perf_counter() - started
    if body.get("state") != "done":
        raise SystemExit(f"job not done: {r.status_code} {body}")
    return elapsed, body


def p95(xs: list[float]) -> float:
    if len(xs) < 2:
        return xs[0]
    return statistics.quantiles(xs, n=20, method="inclusive")[18]


def timing_line(name: str, xs: list[float]) -> str:
    return (f"  {name:<34} n={len(xs):<3} median {statistics.median(xs) * 1000:8.1f} ms   "
            f"p95 {p95(xs) * 1000:8.1f} ms")


def throughput(url: str, pdf: bytes, form: dict, clients: int, jobs_per_client: int) -> tuple[float, int]:
    def run(_: int) -> int:
        with httpx.Client(base_url=url, timeout=600) as c:
            for _ in range(jobs_per_client):
                upload(c, pdf, form)
        return jobs_per_client

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(run, range(clients)))
    return time.perf_counter() - started, done


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=None, help="check processes (default: the server's default)")
    ap.add_argument("--text-runs", type=int, default=30)
    ap.add_argument("--scanned-runs", type=int, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--text-jobs-per-client", type=int, default=15)
    ap.add_argument("--scanned-jobs-per-client", type=int, default=1)
    args = ap.parse_args()

    text_pdf, text_form = text_submission()
    scan_pdf, scan_form = scanned_submission()
    print(f"machine: {os.cpu_count()} cores; text-layer submission 2 pages ({len(text_pdf) // 1024} KB), "
          f"scanned submission 10 pages ({len(scan_pdf) // 1024} KB)")

    # The batch pipeline's own figure, in this process; measured in turn with the service's (one
    # in-process check, then one upload), so that other load on the machine weighs on both alike.
    from pipeline.runner import Options, Prechecker

    checker = Prechecker(Options())
    checker.engine.warm_up()
    scan_form_bytes = json.dumps(scan_form, ensure_ascii=False).encode()
    checker.check("warm", scanned_submission(pages=1)[0], scan_form_bytes)

    with tempfile.TemporaryDirectory(prefix="precheck-bench-") as tmp:
        server = Server(Path(tmp) / "data", args.workers)
        try:
            ready = server.wait_ready()
            print(f"service: {ready['workers']} worker process(es), 127.0.0.1:{server.port}")
            with httpx.Client(base_url=server.url, timeout=600) as c:
                upload(c, text_pdf, text_form)  # first request: connection, any lazy import
                text = [upload(c, text_pdf, text_form)[0] for _ in range(args.text_runs)]
                base, scans = [], []
                for _ in range(args.scanned_runs):
                    t = time.perf_counter()
                    report = checker.check("base", scan_pdf, scan_form_bytes)
                    base.append(time.perf_counter() - t)
                    assert report.pages == 10 and not any(p.text_layer for p in report.page_details)
                    seconds, body = upload(c, scan_pdf, scan_form)
                    scans.append(seconds)
                    assert body["report"]["pages"] == 10
            per_page = statistics.median(base) / 10
            print("batch pipeline, in process (Prechecker.check, 1 OCR thread), 10 scanned pages:")
            print(timing_line("scanned, 10 pages", base) + f"   = {per_page * 1000:.0f} ms per page")
            print("upload to report, one client (POST ?wait=110, then GET until done):")
            print(timing_line("text layer, 2 pages", text))
            print(timing_line("scanned, 10 pages", scans))
            ratios = [s / b for s, b in zip(scans, base, strict=True)]
            print(f"  scanned, service / batch pipeline (median of pairs): {statistics.median(ratios):.2f}x "
                  f"(target <= 1.10x)")
            del checker

            seconds, n = throughput(server.url, text_pdf, text_form, args.clients, args.text_jobs_per_client)
            print(f"throughput, {args.clients} concurrent clients:")
            print(f"  text layer: {n} submissions in {seconds:.1f} s = {n / seconds:.1f} submissions/s")
            seconds, n = throughput(server.url, scan_pdf, scan_form, args.clients, args.scanned_jobs_per_client)
            print(f"  scanned:    {n} submissions in {seconds:.1f} s = {n * 10 / seconds:.2f} pages/s "
                  f"({n / seconds * 60:.1f} submissions/min)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
