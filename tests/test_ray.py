"""The batch on a local Ray instance gives the same reports as the local process pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_helpers import copy_sample, person, read_reports, text_pdf, write_pair

from fixtures import hostile
from pipeline.runner import BatchOptions, Options, run_batch

ray = pytest.importorskip("ray")


def test_ray_reports_equal_the_local_pools(tmp_path: Path):
    inputs = tmp_path / "in"
    for i in range(3):
        write_pair(inputs, f"R{i:02d}", text_pdf(person(40 + i)), person(40 + i))
    copy_sample(inputs, "CQ-S05")  # a scanned certificate: OCR, seals, page images shipped back
    write_pair(inputs, "R-bomb", hostile.decompression_bomb(), person(50))
    write_pair(inputs, "R-truncated", hostile.truncated(text_pdf(person(51))), person(51))
    local = run_batch(inputs, tmp_path / "local", Options(), batch=BatchOptions(workers=2, use_cache=False))
    on_ray = run_batch(inputs, tmp_path / "ray", Options(),
                       batch=BatchOptions(engine="ray", workers=2, use_cache=False))
    assert not ray.is_initialized()  # the local instance it started is shut down again
    assert on_ray.checked == local.checked == 6 and on_ray.stats["workers"] == 2
    a, b = read_reports(tmp_path / "local"), read_reports(tmp_path / "ray")
    assert sorted(a) == sorted(b) == ["CQ-S05", "R-bomb", "R-truncated", "R00", "R01", "R02"]
    for sid in a:
        assert a[sid] == b[sid], (sid, {k: (a[sid][k], b[sid].get(k)) for k in a[sid] if a[sid][k] != b[sid].get(k)})
    # the page images the actors rendered came back as files
    local_images = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local" / "CQ-S05").iterdir())
    ray_images = sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray" / "CQ-S05").iterdir())
    assert ray_images == local_images and ray_images
    assert (tmp_path / "local" / "summary.csv").read_text("utf-8-sig").splitlines()[0] == \
        (tmp_path / "ray" / "summary.csv").read_text("utf-8-sig").splitlines()[0]
