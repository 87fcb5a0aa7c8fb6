"""Batches that finish: hostile files among good ones, limits, a SIGKILL and a restart, the cache.

Inputs are made here: small text-layer PDFs (reportlab, embedded CJK font), one committed
scanned sample, and the hostile files of fixtures.hostile.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_helpers import copy_sample, person, read_reports, text_pdf, write_pair

from fixtures import hostile
from pipeline.parallel import Failure, LocalPool, PoolError, WorkerLimits
from pipeline.runner import BatchOptions, Options, run_batch

ROOT = Path(__file__).resolve().parent.parent
GOOD = ["G01", "G02", "G03"]
SCANNED = "CQ-S05"  # two pages, one a scanned certificate
# The whole hostile batch, two workers, on this 2-core machine (about 30 s when it is idle).
HOSTILE_BATCH_BOUND_S = 150


def _good_inputs(root: Path) -> None:
    for i, sid in enumerate(GOOD):
        write_pair(root, sid, text_pdf(person(i)), person(i))
    copy_sample(root, SCANNED)


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "in"
    _good_inputs(inputs)
    good_pdf = text_pdf(person(7))  # each file below has an applicant of its own: no duplicates
    write_pair(inputs, "H-truncated", hostile.truncated(good_pdf), person(20))
    write_pair(inputs, "H-encrypted", hostile.encrypted(good_pdf), person(21))
    write_pair(inputs, "H-jpeg", hostile.jpeg_bytes(), person(22))
    write_pair(inputs, "H-gbk", good_pdf, json.dumps({**person(7), "id": "H-gbk"}, ensure_ascii=False).encode("gbk"))
    write_pair(inputs, "H-broken-form", good_pdf, b'{"name": "\xe5\xbc\xa0", "category": ', folder=True)
    for k, (name, make) in enumerate(hostile.HOSTILE.items()):
        write_pair(inputs, f"H-{name}", make(), person(30 + k))
    out = root / "out"
    start = time.monotonic()
    result = run_batch(inputs, out, Options(images=False), batch=BatchOptions(workers=2, timeout=90, memory_mb=1536))
    return root, result, time.monotonic() - start


def test_hostile_batch_ends_within_its_bound_and_every_input_has_a_report(hostile_batch):
    root, result, seconds = hostile_batch
    assert seconds < HOSTILE_BATCH_BOUND_S, f"{seconds:.0f}s"
    names = {p.name.removesuffix(".pdf").removesuffix(".json") for p in (root / "in").iterdir()}
    assert {r.submission for r in result.reports} == names
    assert set(read_reports(root / "out")) == names
    assert not result.stats.get("failures"), result.stats  # every trap was bounded before a limit was needed


def test_each_hostile_file_gets_the_right_code(hostile_batch):
    root, result, _ = hostile_batch
    by_id = {r.submission: r for r in result.reports}

    def codes(sid):
        return {f.code for f in by_id[sid].findings}

    expected_error = {
        "H-truncated": "PDF_UNREADABLE", "H-encrypted": "PDF_ENCRYPTED", "H-jpeg": "NOT_A_PDF",
        "H-bomb": "RESOURCE_LIMIT", "H-content-bomb": "RESOURCE_LIMIT", "H-million-pages": "RESOURCE_LIMIT",
        "H-tree-loop": "PDF_UNREADABLE", "H-xobject-loop": "PDF_UNREADABLE",
    }
    for sid, code in expected_error.items():
        assert by_id[sid].status.value == "error" and codes(sid) == {code}, (sid, codes(sid))
    # read, in part or as a scan, and checked
    for sid in ("H-huge-page", "H-deep-nesting", "H-many-operators", "H-2000-pages"):
        assert by_id[sid].status.value != "error", (sid, codes(sid))
    long = by_id["H-2000-pages"]
    assert long.pages == 2000 and len(long.page_details) == Options().max_pages_read
    assert "PAGE_LIMIT_EXCEEDED" in codes("H-2000-pages")
    assert not by_id["H-many-operators"].page_details[0].text_layer  # rendered and OCR-ed, not parsed
    assert "FORM_INVALID" in codes("H-broken-form")
    assert by_id["H-gbk"].status.value == "pass" and by_id["H-gbk"].form.name == person(7)["name"]


def test_good_submissions_are_unaffected_by_their_neighbours(hostile_batch, tmp_path):
    root, _, _ = hostile_batch
    alone = tmp_path / "in"
    _good_inputs(alone)
    run_batch(alone, tmp_path / "out", Options(images=False), batch=BatchOptions(workers=0, use_cache=False))
    mixed, reference = read_reports(root / "out"), read_reports(tmp_path / "out")
    for sid in GOOD + [SCANNED]:
        assert mixed[sid] == reference[sid], sid
    assert {mixed[sid]["status"] for sid in GOOD} == {"pass"}


# --- limits, with handlers that misbehave on purpose -------------------------------------------


def test_pool_survives_hangs_crashes_and_memory_hogs():
    import pool_handlers

    tasks = ["ok:1", "sleep:30", "ok:2", "exit:7", "segv", "alloc:4096", "raise", "ok:3", "ok:4"]
    outcomes: dict[str, object] = {}
    pool = LocalPool(2, pool_handlers.make, WorkerLimits(timeout=2.0, memory_bytes=512 * 1024 * 1024))
    start = time.monotonic()
    stats = pool.run(tasks, lambda task, outcome: outcomes.__setitem__(task, outcome))
    assert time.monotonic() - start < 40
    assert set(outcomes) == set(tasks)
    kinds = {t: o.kind for t, o in outcomes.items() if isinstance(o, Failure)}
    assert kinds == {"sleep:30": "timeout", "exit:7": "crash", "segv": "crash", "alloc:4096": "memory",
                     "raise": "error"}
    assert all(str(outcomes[t]).startswith("ok") for t in ("ok:1", "ok:2", "ok:3", "ok:4"))
    assert stats.started >= 2 + 4  # every worker that died or was killed was replaced


def test_pool_that_cannot_start_says_so():
    import pool_handlers

    with pytest.raises(PoolError):
        LocalPool(1, pool_handlers.broken).run(["ok:1"], lambda *_: None)


def test_document_over_the_time_limit_is_reported_and_the_batch_goes_on(tmp_path):
    inputs = tmp_path / "in"
    copy_sample(inputs, "CQ-S03")  # three pages, two of them scans: far more than two seconds
    write_pair(inputs, "G01", text_pdf(person(0)), person(0))
    result = run_batch(inputs, tmp_path / "out", Options(images=False),
                       batch=BatchOptions(workers=1, timeout=2, use_cache=False))
    by_id = {r.submission: r for r in result.reports}
    slow = by_id["CQ-S03"]
    assert slow.status.value == "error" and [f.code for f in slow.findings] == ["RESOURCE_LIMIT"]
    assert "2秒" in slow.findings[0].message and slow.form is not None  # the form still parsed
    assert by_id["G01"].status.value == "pass"


# --- SIGKILL and restart -------------------------------------------------------------------------


def _batch_cmd(inputs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", "batch", str(inputs), "--out", str(out), *extra]


def _descendants(pid: int) -> list[int]:
    """The processes under pid (the workers are the fork server's children)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            children = [int(x) for x in f.read().split()]
    except OSError:
        return []
    return children + [d for c in children for d in _descendants(c)]


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_a_batch_killed_mid_run_and_restarted_equals_an_uninterrupted_one(tmp_path):
    inputs = tmp_path / "in"
    for i in range(10):
        write_pair(inputs, f"K{i:02d}", text_pdf(person(10 + i), pages=3), person(10 + i))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_batch_cmd(inputs, out, "--workers", "1"), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while len(list(out.glob("K*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    written = len(list(out.glob("*.json")))
    assert 2 <= written < 10, f"killed too late to test anything ({written} reports)"
    assert workers
    # the workers die with the batch (no orphan goes on writing)
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]
    for leftover in out.glob(".*.tmp"):  # a half-written file is only ever a temporary one
        assert not leftover.name.endswith(".json")
    again = subprocess.run(_batch_cmd(inputs, out, "--workers", "1"), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    kept = int(again.stdout.split("(")[1].split()[0]) if "kept from an earlier run" in again.stdout else 0
    assert kept >= 2, again.stdout  # only what was left was checked
    reference = tmp_path / "reference"
    run_batch(inputs, reference, Options(), batch=BatchOptions(workers=0, use_cache=False))
    resumed, uninterrupted = read_reports(out), read_reports(reference)
    assert sorted(resumed) == sorted(uninterrupted) == [f"K{i:02d}" for i in range(10)]
    for sid in uninterrupted:
        assert resumed[sid] == uninterrupted[sid], sid
    assert (out / "summary.csv").read_text("utf-8-sig") == (reference / "summary.csv").read_text("utf-8-sig") \
        or (out / "summary.csv").read_text("utf-8-sig").count("\n") == 11


# --- the cache --------------------------------------------------------------------------------


def test_rules_change_rechecks_from_the_cache_without_ocr(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    copy_sample(inputs, SCANNED)
    write_pair(inputs, "G01", text_pdf(person(0)), {**person(0), "submitted_at": "2023-12-18T09:00:00+08:00"})
    out = tmp_path / "out"
    first = run_batch(inputs, out, Options(images=False), batch=BatchOptions(workers=0))
    assert first.checked == 2
    late = {r.submission: {f.code for f in r.findings} for r in first.reports}["G01"]
    assert "SUBMITTED_AFTER_DEADLINE" in late
    rules = (ROOT / "checks" / "notices" / "notice-2023-chongqing.toml").read_text("utf-8")
    changed = tmp_path / "later-deadline.toml"
    changed.write_text(rules.replace("deadline = 2023-12-15T18:00:00+08:00", "deadline = 2023-12-20T18:00:00+08:00"),
                       "utf-8")

    def no_reading(*args, **kwargs):
        raise AssertionError("a page was read again")

    monkeypatch.setattr("pipeline.pages.read_pages", no_reading)
    second = run_batch(inputs, out, Options(images=False, rules_path=str(changed)), batch=BatchOptions(workers=0))
    assert second.checked == 2 and second.kept == 0  # new rules: every report made again, from cached pages
    by_id = {r.submission: r for r in second.reports}
    assert "SUBMITTED_AFTER_DEADLINE" not in {f.code for f in by_id["G01"].findings}
    before = {r.submission: r for r in first.reports}
    assert by_id[SCANNED].evidence == before[SCANNED].evidence
    third = run_batch(inputs, out, Options(images=False, rules_path=str(changed)), batch=BatchOptions(workers=0))
    assert third.kept == 2 and third.checked == 0  # the same input and rules: nothing to do


def test_page_cache_key_is_the_page_not_its_position():
    from pipeline.cache import page_content_hashes

    a, b = text_pdf(person(1), pages=2), text_pdf(person(2), pages=2)
    ha, hb = page_content_hashes(a, [1, 2], "a"), page_content_hashes(b, [1, 2], "b")
    assert ha[0] != hb[0]  # different certificates
    import io

    import pypdf

    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(b), pages=[0])
    writer.append(io.BytesIO(a), pages=[0])
    merged = io.BytesIO()
    writer.write(merged)
    hm = page_content_hashes(merged.getvalue(), [1, 2], "m")
    assert hm == [hb[0], ha[0]]  # the same pages in another file, in another order: the same keys


def test_rules_change_keeps_the_page_images_of_unchanged_findings(tmp_path, monkeypatch):
    inputs = tmp_path / "in"
    write_pair(inputs, "G02", text_pdf(person(3), pages=2), {**person(3), "submitted_at": "2023-12-18T09:00:00+08:00"})
    out = tmp_path / "out"
    run_batch(inputs, out, Options(), batch=BatchOptions(workers=0))
    folder = out / "G02"
    manifest = json.loads((folder / "images.json").read_text("utf-8"))
    files = sorted(p.name for p in folder.iterdir() if p.suffix in (".jpg", ".png"))
    assert {"page-1.jpg", "page-2.jpg"} <= set(files)
    written = {name: (folder / name).stat().st_mtime_ns for name in files}
    rules = (ROOT / "checks" / "notices" / "notice-2023-chongqing.toml").read_text("utf-8")
    changed = tmp_path / "later-deadline.toml"
    changed.write_text(rules.replace("deadline = 2023-12-15T18:00:00+08:00", "deadline = 2023-12-20T18:00:00+08:00"),
                       "utf-8")
    renders = []
    import pypdfium2

    real_render = pypdfium2.PdfPage.render
    monkeypatch.setattr(pypdfium2.PdfPage, "render", lambda self, *a, **k: renders.append(1) or real_render(self, *a, **k))
    second = run_batch(inputs, out, Options(rules_path=str(changed)), batch=BatchOptions(workers=0))
    assert second.checked == 1
    assert renders == []  # the late-submission finding had no box: no page changed its images
    assert {name: (folder / name).stat().st_mtime_ns for name in files} == written
    assert json.loads((folder / "images.json").read_text("utf-8"))["pages"] == manifest["pages"]
    # a page whose image is gone is drawn again, the others kept
    (folder / "page-2.jpg").unlink()
    run_batch(inputs, out, Options(rules_path=str(changed)), batch=BatchOptions(workers=0, resume=False))
    assert len(renders) == 1 and (folder / "page-2.jpg").is_file()
