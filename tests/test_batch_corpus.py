"""End to end: a generated corpus through `precheck batch`, every expected code reported.

Real PDFs from the fixtures generator, real rendering and OCR, the real CLI entry point.
"""

import csv
import json

import pytest
from click.testing import CliRunner

from fixtures import generate_corpus
from pipeline.cli import main
from pipeline.evaluate import evaluate

COUNT = 30


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    generate_corpus(root, count=COUNT, seed=20231215, dpi=200)
    out = root / "reports"
    result = CliRunner().invoke(main, ["batch", str(root / "submissions"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return root, out


def _truths(root):
    return {p.stem: json.loads(p.read_text("utf-8")) for p in (root / "truth").glob("*.json") if p.stem != "batch"}


def test_every_submission_gets_a_contract_report(batch):
    root, out = batch
    truths = _truths(root)
    assert len(truths) == COUNT
    for sid in truths:
        report = json.loads((out / f"{sid}.json").read_text("utf-8"))
        assert {"submission", "status", "pages", "extracted", "page_details", "findings"} <= set(report)
        assert report["status"] in ("pass", "review", "fail", "error")
        assert set(report["extracted"]) >= {"name", "id_number", "birth_date", "grade", "certificate_number", "honors"}
        for f in report["findings"]:
            assert f["severity"] in ("error", "warning", "info") and f["message"]
    with open(out / "summary.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["submission"] for r in rows) == sorted(truths)


def test_every_expected_code_is_reported(batch):
    root, out = batch
    batch_truth = json.loads((root / "truth" / "batch.json").read_text("utf-8"))
    missed = []
    for sid, truth in _truths(root).items():
        expected = set(truth["expected_codes"]) | {c for c, ids in batch_truth.items() if sid in ids}
        report = json.loads((out / f"{sid}.json").read_text("utf-8"))
        reported = {f["code"] for f in report["findings"] if f["severity"] in ("error", "warning")}
        missed += [f"{sid}: {code}" for code in expected - reported]
    assert missed == []


def test_clean_submissions_get_no_error(batch):
    root, out = batch
    wrongly = []
    for sid, truth in _truths(root).items():
        if not truth["clean"]:
            continue
        report = json.loads((out / f"{sid}.json").read_text("utf-8"))
        errors = [f["code"] for f in report["findings"] if f["severity"] == "error"]
        if errors or report["status"] in ("fail", "error"):
            wrongly.append(f"{sid}: {report['status']} {errors}")
    assert wrongly == []


def _code_precision_recall(ev) -> tuple[float, float]:
    tp, fp, fn = sum(ev.tp.values()), sum(ev.fp.values()), sum(ev.fn.values())
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_extraction_accuracy_floor(batch):
    """A regression gate a little under what the pipeline reads today (README, accuracy
    section: every field and code 1.000 on this corpus on 2026-12-02): one more miss than
    today in any field or code fails it."""
    root, out = batch
    ev = evaluate(out, root / "truth")
    for field in ("name", "id_number", "birth_date", "grade", "certificate_number", "honors"):
        assert ev.accuracy(field) >= 0.95, (field, ev.misses)
    precision, recall = _code_precision_recall(ev)
    assert precision >= 0.95 and recall >= 0.95, ev.misses


HARD_COUNT = 20


@pytest.fixture(scope="module")
def hard_batch(tmp_path_factory):
    """The scans real applicants upload: the same kind of corpus, its scanned pages damaged."""
    from fixtures.damage import damage_corpus

    root = tmp_path_factory.mktemp("hard")
    generate_corpus(root / "clean", count=HARD_COUNT, seed=424242, dpi=200)
    damage_corpus(root / "clean", root / "hard", seed=3)
    out = root / "reports"
    result = CliRunner().invoke(main, ["batch", str(root / "hard" / "submissions"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return root / "hard", out


def test_hard_scans_regression_gate(hard_batch):
    """Floors a little under today's figures on damaged scans (README, accuracy section; on
    2026-12-02 every field 1.000 but certificate numbers 18/19, codes precision 15/17 (two
    false SEAL_MISSING warnings) and recall 1.000): one more miss than today in any of them
    still passes, two fail."""
    root, out = hard_batch
    ev = evaluate(out, root / "truth")
    for field in ("name", "id_number", "birth_date", "grade", "honors"):
        assert ev.accuracy(field) >= 0.93, (field, ev.misses)
    assert ev.accuracy("certificate_number") >= 0.89, ev.misses
    assert ev.clean_failed == 0, ev.misses
    precision, recall = _code_precision_recall(ev)
    assert precision >= 0.8 and recall >= 0.95, ev.misses
