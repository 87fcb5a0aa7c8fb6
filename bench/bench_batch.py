"""Benchmark of `precheck batch`: parallel speed-up, the cached re-check, memory per worker.

    python bench/bench_batch.py [--count 10] [--seed 7] [--corpus DIR] [--workers 2]
    (about 4 minutes on 2 cores with the defaults)

On one corpus (generated: --count submissions of the fixtures generator at 200 dpi, or
--corpus DIR), in one run:
1. the batch with 1 worker, no cache: pages per second;
2. the batch with --workers workers, a new cache: pages per second, and the speed-up over 1
   (target: 2 workers >= 1.8x one); this is also the cached batch's first run;
3. the same batch after a rules change (a later deadline): every report made again, every
   page from the cache; its time against run 2's (target: >= 20x faster); again without the
   HTML report's page images, which are rendered anew with every report;
4. the same again with the same rules: every report kept (a resumed run with nothing left).
The speed-up is printed beside the machine's own ceiling: pure-Python CPU work in as many
processes against one. Pages per second count the pages read, over the pool's busy time (first task sent to last
result, worker start-up left out) and over the whole run; peak memory is the largest
resident size any worker reached. The load average is printed with the figures: on a shared
machine they move with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.runner import BatchOptions, Options, run_batch

RULES = Path(__file__).resolve().parent.parent / "checks" / "notices" / "notice-2023-chongqing.toml"


def _run(corpus: Path, out: Path, options: Options, batch: BatchOptions) -> dict:
    start = time.perf_counter()
    result = run_batch(corpus, out, options, batch=batch)
    wall = time.perf_counter() - start
    pages = result.stats.get("pages", 0)
    busy = result.stats.get("busy_seconds", 0.0) or wall
    return {"wall": wall, "busy": busy, "pages": pages, "checked": result.checked, "kept": result.kept,
            "pps_busy": pages / busy if busy else 0.0, "pps_wall": pages / wall if wall else 0.0,
            "peak_mb": result.stats.get("peak_rss_mb", 0.0), "failures": result.stats.get("failures", {})}


def _spin(n: int = 20_000_000) -> float:
    start = time.perf_counter()
    x = 0
    for i in range(n):
        x += i
    return time.perf_counter() - start


def machine_ceiling(workers: int) -> float:
    """How much faster `workers` processes of pure CPU work finish than one, on this machine now
    (vCPUs that share a core, or other load, keep it under `workers`): the speed-up's ceiling."""
    from concurrent.futures import ProcessPoolExecutor

    one = _spin()
    with ProcessPoolExecutor(workers) as pool:
        many = max(pool.map(_spin, [20_000_000] * workers))
    return workers * one / many


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--corpus", type=Path, default=None, help="a folder of submissions instead of a generated one")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = args.corpus
        if corpus is None:
            from fixtures import generate_corpus

            t = time.perf_counter()
            generate_corpus(tmp / "corpus", count=args.count, seed=args.seed, dpi=200, workers=2)
            corpus = tmp / "corpus" / "submissions"
            print(f"corpus: {args.count} generated submissions ({time.perf_counter() - t:.0f}s to make)")
        load_before = os.getloadavg()
        ceiling = machine_ceiling(args.workers)
        one = _run(corpus, tmp / "one", Options(), BatchOptions(workers=1, use_cache=False))
        many = _run(corpus, tmp / "many", Options(), BatchOptions(workers=args.workers, cache=tmp / "cache.sqlite3"))
        later = tmp / "later-deadline.toml"
        later.write_text(RULES.read_text("utf-8").replace("deadline = 2023-12-15T18:00:00+08:00",
                                                          "deadline = 2023-12-31T18:00:00+08:00"), "utf-8")
        recheck = _run(corpus, tmp / "many", Options(rules_path=str(later)),
                       BatchOptions(workers=args.workers, cache=tmp / "cache.sqlite3"))
        plain = _run(corpus, tmp / "many", Options(rules_path=str(later), images=False),
                     BatchOptions(workers=args.workers, cache=tmp / "cache.sqlite3"))
        resumed = _run(corpus, tmp / "many", Options(rules_path=str(later), images=False),
                       BatchOptions(workers=args.workers, cache=tmp / "cache.sqlite3"))
        load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          "(the machine may be shared: figures move with its load)")
    print(f"pages read per run: {one['pages']} in {one['checked']} submissions")
    print(f"1 worker : {one['pps_busy']:.2f} pages/s busy ({one['pps_wall']:.2f} over the whole run, "
          f"{one['wall']:.1f}s); peak memory per worker {one['peak_mb']:.0f} MB")
    print(f"{args.workers} workers: {many['pps_busy']:.2f} pages/s busy ({many['pps_wall']:.2f} over the whole run, "
          f"{many['wall']:.1f}s); peak memory per worker {many['peak_mb']:.0f} MB")
    speedup = many["pps_busy"] / one["pps_busy"] if one["pps_busy"] else float("nan")
    speedup_wall = many["pps_wall"] / one["pps_wall"] if one["pps_wall"] else float("nan")
    print(f"speed-up {args.workers} workers / 1: {speedup:.2f}x busy, {speedup_wall:.2f}x whole run (target >= 1.8x); "
          f"pure CPU work in {args.workers} processes on this machine now: {ceiling:.2f}x")
    ratio = many["wall"] / recheck["wall"] if recheck["wall"] else float("nan")
    print(f"re-check after a rules change: {recheck['wall']:.2f}s for {recheck['checked']} submissions "
          f"against {many['wall']:.1f}s first run: {ratio:.1f}x faster (target >= 20x)")
    print(f"  the same without the HTML report's page images (--no-images): {plain['wall']:.2f}s, "
          f"{many['wall'] / plain['wall']:.1f}x faster")
    print(f"same rules again (all {resumed['kept']} reports kept): {resumed['wall']:.2f}s "
          f"({many['wall'] / resumed['wall']:.0f}x faster than the first run)")
    if any(r["failures"] for r in (one, many, recheck, plain, resumed)):
        print("failures:", [r["failures"] for r in (one, many, recheck, plain, resumed)])


if __name__ == "__main__":
    main()
