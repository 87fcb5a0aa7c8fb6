"""The `precheck check` command as a user runs it: JSON on stdout and the exit status."""

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "sample"


def run_check(pdf: Path, form: Path) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "check", str(pdf), "--form", str(form)],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, json.loads(proc.stdout)


def test_clean_submission_passes_with_exit_0():
    code, report = run_check(SAMPLE / "CQ-S02" / "CQ-S02.pdf", SAMPLE / "CQ-S02" / "form.json")
    assert (code, report["status"]) == (0, "pass"), report["findings"]
    assert report["extracted"]["id_number"][0]["bbox"] is not None


def test_a_discrepancy_exits_1_and_names_the_page():
    code, report = run_check(SAMPLE / "CQ-S03.pdf", SAMPLE / "CQ-S03.json")
    assert code == 1 and report["status"] == "fail"
    [f] = [f for f in report["findings"] if f["code"] == "BIRTH_DATE_MISMATCH"]
    assert f["declared"] and f["found"] and f["page"] >= 1 and len(f["bbox"]) == 4


def test_a_renamed_image_exits_2():
    code, report = run_check(SAMPLE / "CQ-S06.pdf", SAMPLE / "CQ-S06.json")
    assert code == 2 and report["status"] == "error"
    assert [f["code"] for f in report["findings"]] == ["NOT_A_PDF"]


def test_bench_times_the_pipeline_and_the_raw_ocr_on_the_same_pages(tmp_path):
    """`precheck bench` as a user runs it, on two submissions (one warms the process up):
    every figure printed, the raw OCR timed on exactly the pages the pipeline OCR-ed. Times
    are printed, not judged: a test cannot know this machine's load."""
    import re
    import shutil

    for sid in ("CQ-S02", "CQ-S05"):
        shutil.copytree(SAMPLE / sid, tmp_path / sid)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "bench", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"5 pages \(2 scanned, 3 text layer\)", out), out
    for label in ("open (per document)", "render", "raw OCR (engine alone)", "scanned page, pipeline",
                  "text-layer page", "extract", "check", "report (JSON)"):
        assert re.search(re.escape(label) + r"\s+[\d.]+ ms", out), (label, out)
    assert float(re.search(r"pages per second \(pipeline, one process\): ([\d.]+)", out)[1]) > 0
    whole = float(re.search(r"pipeline / raw OCR time on the same scanned pages: ([\d.]+)x", out)[1])
    per_page = float(re.search(r"median per page: ([\d.]+)x", out)[1])
    assert 0.3 < whole < 5 and 0.3 < per_page < 5  # the same pages: the same order of time
    assert float(re.search(r"peak memory \(RSS\): (\d+) MB", out)[1]) > 50
    assert "did not match" not in out
