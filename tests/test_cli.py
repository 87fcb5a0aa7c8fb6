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
