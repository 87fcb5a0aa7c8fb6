"""The corpus a helper session drew without reading the fixture generator
(fixtures.independent: its own layouts, labels, wordings and seals), through `precheck batch`:
a check that the pipeline reads more than its own generator's pages."""

import json

import pytest
from click.testing import CliRunner

from fixtures.independent import build
from pipeline.cli import main
from pipeline.evaluate import evaluate


@pytest.fixture(scope="module")
def independent(tmp_path_factory):
    root = tmp_path_factory.mktemp("independent")
    ids = build(str(root))
    out = root / "reports"
    result = CliRunner().invoke(main, ["batch", str(root / "submissions"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return root, out, ids


def test_the_independent_corpus_is_read_and_checked(independent):
    """On 2026-12-04 every field and every planted code right, no clean submission failed
    (before that day's changes: certificate numbers 5/12, three false
    CERTIFICATE_NUMBER_MISMATCH, one a clean submission failed, and one false
    ATTESTATION_MISSING). The floors leave one miss."""
    root, out, ids = independent
    assert len(ids) == 12
    ev = evaluate(out, root / "truth")
    for field in ("name", "id_number", "birth_date", "grade", "certificate_number", "honors"):
        assert ev.accuracy(field) >= 11 / 12, (field, ev.misses)
    assert ev.clean_failed == 0, ev.misses
    tp, fp, fn = sum(ev.tp.values()), sum(ev.fp.values()), sum(ev.fn.values())
    assert tp >= 5 and fp <= 1 and fn <= 1, ev.misses


def test_a_number_under_the_issuer_seal_is_no_mismatch(independent):
    """P11: the grey issuer seal's ring crosses the end of a clean submission's 22-character
    number; it was read cut short and called a mismatch at error."""
    root, out, _ = independent
    report = json.loads((out / "P11.json").read_text("utf-8"))
    assert report["status"] != "fail"
    assert not [f for f in report["findings"] if f["code"] == "CERTIFICATE_NUMBER_MISMATCH"]
