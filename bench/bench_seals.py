"""Benchmark of the seal, attestation and signature detectors on generated copy pages.

    python bench/bench_seals.py [--pages 240] [--seed 7] [--dpi 200] [--read-dpi 300]
                                [--workers 2] [--gain-pages 40] [--json OUT.json]

Generates --pages copy pages (fixtures.copies: half of them missing the unit's seal, every
seal, the attestation, both, or the signature; colour scans, black-and-white copies stamped
in colour and grey scans; seals red, blue, purple, round or oval, at any angle, faint,
bounced, half off the page; stamped, pen and brush attestations; red headings, logos and
rules), puts each in a PDF and reads it the way the pipeline does (pypdfium2 at --read-dpi,
OCR of the colour-removed image, then extractors.marks.find_marks on the colour image), and
prints:
- seal detection precision and recall (each seal stamped is one to find; one at least half
  on the page must be found, one mostly off it may be), by scan colour;
- attestation and signature detection precision and recall (per page), by scan colour;
- seal-text character accuracy (1 - edits / length of the organisation's name) on the seals
  found, by seal colour;
- the copy checks per page: SEAL_MISSING / ATTESTATION_MISSING precision and recall at
  warning-or-error, and clean pages reported missing at error severity (must be 0);
- with --damage, the same on pages damaged as the hard corpus damages them (fixtures.damage:
  phone photos, skew, grey, low resolution, JPEG 30-55, blur); seals then counted per page;
- clean pages the detectors were sure lacked a seal or the attestation (certainty of absence
  at the rules' error_at: what would be errors were absence allowed to be one);
- per-page cost: seal detection alone, all mark detection (seal strips and stamps OCR-ed),
  and the page's own OCR, in CPU seconds of the worker;
- with --gain-pages N: the OCR gain from seal-colour removal on fields under a seal (colour
  scans, of the first N pages): the field the issuer's seal covers, as the whole page's OCR
  reads it from the colour-removed image (the pipeline) and from the colour image as
  scanned; character error rate and exact reads of each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

SEAL_FIELDS = ("name", "grade", "issue_date", "issuer", "award_date", "certificate_number", "id_number")

_engine = None


def _init_worker() -> None:
    global _engine
    import cv2

    cv2.setNumThreads(1)  # one core per worker, as a batch runs
    from pipeline.ocr import RapidOcrEngine

    _engine = RapidOcrEngine(threads=1)
    _engine.warm_up()


def run_case(args: tuple) -> dict:
    """Read one generated page the pipeline's way and score what was found on it."""
    case, dpi, read_dpi, gain, damage = args
    from checks.copies import check_copy_page
    from checks.rules import load_rules
    from extractors.copy_marks import absent_certainty, attestation_detail
    from extractors.evidence import extract_evidence
    from extractors.marks import find_marks
    from extractors.seals import find_seals
    from fixtures.copies import make_case_page
    from fixtures.pdfs import build_pdf
    from pipeline.pages import read_image, render_page

    page = make_case_page(case, dpi)
    info = page.info
    kinds: list[str] = []
    if damage:
        page, kinds = _damaged(page, case.seed)
    image = np.asarray(render_page(build_pdf([page]), 1, read_dpi))
    h_px, w_px = image.shape[:2]
    w_pt, h_pt = w_px * 72 / read_dpi, h_px * 72 / read_dpi
    t = time.process_time()
    content = read_image(image, _engine, read_dpi, 1, w_pt, h_pt)
    t_ocr = time.process_time() - t
    t = time.process_time()
    find_seals(image, read_dpi)
    t_seals = time.process_time() - t
    t = time.process_time()
    marks = find_marks(image, content, _engine, read_dpi)
    t_marks = time.process_time() - t
    content = replace(content, marks=marks)
    kind = extract_evidence([content]).page_kinds[0].value
    rules = load_rules()
    findings = check_copy_page(1, marks, _form(case), rules)
    out = {
        "index": case.index,
        "kind": info["kind"],
        "classified": kind,
        "missing": case.missing,
        "mode": info["colour_mode"],
        "decor": info["decor"],
        "rotation": info["rotation"],
        "t_ocr": t_ocr,
        "t_seals": t_seals,
        "t_marks": t_marks,
        "damage": kinds,
        "seals": _count_seals(info, marks) if damage else _score_seals(info, marks),
        "attestation": _score_box(info.get("attestation") != "none", info.get("attestation_box"),
                                  attestation_detail(marks), where=not damage),
        "signature": _score_box(bool(info.get("signature")), info.get("signature_box"),
                                attestation_detail(marks)["signature"], where=not damage),
        "sure_absent": [k for k in ("seal", "attestation") if absent_certainty(marks, k) >= rules.error_at],
        "findings": [(f.code, f.severity.value) for f in findings],
        "expected": _expected(info),
        "allowed": _allowed(info),
        "attestation_style": info.get("attestation"),
    }
    if gain and info["colour_mode"] == "colour" and info["rotation"] == 0:
        out["gain"] = _gain(image, info, content, read_dpi)
    return out


def _damaged(page, seed: int):
    """The page damaged as the hard corpus damages scans (fixtures.damage): phone photo, skew,
    grey, low resolution, JPEG, blur. Seal positions no longer follow the truth."""
    import dataclasses
    import io
    import random

    import cv2
    from PIL import Image

    from fixtures.damage import _pick, damage_image
    from fixtures.render import encode_jpeg

    rng = random.Random(seed ^ 0x5EED)
    kinds, quality, scale = _pick(rng)
    rgb = np.asarray(Image.open(io.BytesIO(page.jpeg)).convert("RGB"))
    out = damage_image(rgb, rng, kinds)
    if scale != 100:
        out = cv2.resize(out, None, fx=scale / 100, fy=scale / 100, interpolation=cv2.INTER_AREA)
    h, w = out.shape[:2]
    return dataclasses.replace(page, jpeg=encode_jpeg(out, quality), size_px=(w, h)), kinds


def _count_seals(info: dict, marks) -> dict:
    """On a damaged page (the truth's geometry no longer holds): seals found against seals
    stamped at least half on the page, by count."""
    found = [m for m in marks if m.kind == "seal" and m.confidence >= 0.5]
    truth = [s for s in info["seals"] if s["visible"] >= 0.5]
    n = min(len(found), len(truth))
    return {"tp": [s["colour"] for s in truth[:n]], "fn": truth[n:], "fp": [m.colour for m in found[n:]],
            "texts": []}


def _form(case):
    import datetime as dt

    from pipeline.model import DeclaredForm

    return DeclaredForm("bench", "全市技术能手", "某某", "500101199001011234", dt.date(1990, 1, 1), "技师",
                        unit=case.unit, recommender=case.recommender)


def _score_seals(info: dict, marks) -> dict:
    """Each seal stamped, matched to a seal found: the truth centre inside the found box
    (grown by 30 % of the radius) and the found box inside the truth's circle (grown 30 %)."""
    found = [m for m in marks if m.kind == "seal" and m.confidence >= 0.5]
    used: set[int] = set()
    tp, fn, texts = [], [], []
    for s in info["seals"]:
        cx, cy = s["centre"]
        r = max(s["axes"])
        match = None
        for i, m in enumerate(found):
            b = m.box
            g = 0.3 * r
            inside = b.x0 - g <= cx <= b.x1 + g and b.top - g <= cy <= b.bottom + g
            within = (b.x0 >= cx - 1.3 * r and b.x1 <= cx + 1.3 * r and b.top >= cy - 1.3 * r
                      and b.bottom <= cy + 1.3 * r)
            if inside and within and i not in used:
                match = i
                break
        if match is not None:
            used.add(match)
        if s["visible"] < 0.5:
            continue  # mostly off the page: finding it is a bonus, missing it no fault
        if match is None:
            fn.append({k: s[k] for k in ("role", "colour", "shape", "look", "visible")})
        else:
            tp.append(s["colour"])
            m = found[match]
            if m.text_confidence > 0:
                texts.append({"colour": s["colour"], "look": s["look"], "shape": s["shape"],
                              "truth": s["org"], "read": m.text, "conf": m.text_confidence,
                              "accuracy": _char_accuracy(m.text, s["org"])})
    fp = [{"colour": m.colour, "shape": m.shape, "confidence": m.confidence, "box": m.box.as_list()}
          for i, m in enumerate(found) if i not in used]
    return {"tp": tp, "fn": fn, "fp": fp, "texts": texts}


def _char_accuracy(read: str, truth: str) -> float:
    from extractors.orgs import edit_distance

    return max(0.0, 1.0 - edit_distance(read, truth) / len(truth))


def _score_box(truth: bool, truth_box, detail: dict, where: bool = True) -> dict:
    """Per page: found or not, and whether what was found lies where the truth says (taken
    as so when where is False: a damaged page's geometry is not the truth's)."""
    found = bool(detail["found"])
    if not where:
        return {"truth": truth, "found": found, "where": found and truth, "confidence": detail["confidence"]}
    where = False
    if found and truth and truth_box and detail.get("bbox"):
        a, b = detail["bbox"], truth_box
        g = 15.0  # points
        where = not (a[2] < b[0] - g or a[0] > b[2] + g or a[3] < b[1] - g or a[1] > b[3] + g)
    return {"truth": truth, "found": found, "where": where, "confidence": detail["confidence"]}


def _expected(info: dict) -> list[str]:
    codes = []
    if info["case"]["other_certifier"] and _legible_unit_seal(info):
        codes.append("SEAL_ORG_UNMATCHED")
    if info.get("attestation") == "none" or not info.get("signature"):
        codes.append("ATTESTATION_MISSING")
    has_unit = any(s["role"] == "certifier" for s in info["seals"])
    if not has_unit and (not info["seals"] or info.get("attestation") != "none"):
        codes.append("SEAL_MISSING")
    return codes


def _allowed(info: dict) -> list[str]:
    """Codes that are true but not required: no unit seal and no attestation to place it by;
    a certifier's seal too faint, grey or cut to be read with confidence."""
    has_unit = any(s["role"] == "certifier" for s in info["seals"])
    out = ["SEAL_MISSING"] if not has_unit else []
    if info["case"]["other_certifier"]:
        out.append("SEAL_ORG_UNMATCHED")
    return out


def _legible_unit_seal(info: dict) -> bool:
    return any(s["role"] == "certifier" and s["visible"] > 0.9 and s["look"] == "normal" and s["colour"] == "red"
               and s["shape"] == "circle" for s in info["seals"])


def _gain(image: np.ndarray, info: dict, content, dpi: float) -> list[dict]:
    """The field under the issuer's seal as the page's OCR reads it from the colour-removed
    image (the pipeline's reading, content) and from the colour image as scanned (read once
    more, whole, the same way): lines over the field's box, joined."""
    from extractors.orgs import edit_distance
    from extractors.textnorm import normalise
    from pipeline.pages import pixels_to_points, read_upright

    key = info.get("seal_over")
    value = normalise(info.get("values", {}).get(key or "", "")).replace(" ", "")
    if key not in SEAL_FIELDS or not value:
        return []
    field = info["boxes"][key]

    def over_field(boxes_texts) -> str:
        hits = [t for box, t in boxes_texts
                if min(box[2], field[2]) - max(box[0], field[0]) > 0 and min(box[3], field[3]) - max(box[1], field[1]) > 0]
        return normalise("".join(hits)).replace(" ", "")

    removed = over_field([(line.box.as_list(), line.text) for line in content.lines])
    rotation, raw_lines = read_upright(image, _engine)
    if rotation:
        return []
    colour = over_field([(pixels_to_points(line.box, dpi).as_list(), line.text) for line in raw_lines])
    row = {"field": key, "truth": value, "colour": colour, "removed": removed}
    for name, text in (("colour", colour), ("removed", removed)):
        row[f"{name}_cer"] = min(1.0, _best_window_edits(text, value, edit_distance) / len(value))
    return [row]


def _best_window_edits(text: str, value: str, edit_distance) -> int:
    """Edits between value and the stretch of text most like it (a crop may catch a neighbour)."""
    value = value.replace(" ", "")
    if len(text) <= len(value):
        return edit_distance(text, value)
    return min(edit_distance(text[i:i + len(value)], value) for i in range(len(text) - len(value) + 1))


# --- the report ------------------------------------------------------------------------------


def _pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)


def summarise(results: list[dict]) -> dict:
    s: dict = {"pages": len(results)}
    modes = ("colour", "bw_copy", "grey")
    # seals
    seal = {}
    for mode in modes + ("all",):
        rs = [r for r in results if mode == "all" or r["mode"] == mode]
        tp = sum(len(r["seals"]["tp"]) for r in rs)
        fp = sum(len(r["seals"]["fp"]) for r in rs)
        fn = sum(len(r["seals"]["fn"]) for r in rs)
        p, rc = _pr(tp, fp, fn)
        seal[mode] = {"pages": len(rs), "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": rc}
    s["seal"] = seal
    # attestation and signature, per page
    for what in ("attestation", "signature"):
        d = {}
        for mode in modes + ("all",):
            rs = [r[what] for r in results if mode == "all" or r["mode"] == mode]
            tp = sum(1 for x in rs if x["truth"] and x["found"] and x["where"])
            fp = sum(1 for x in rs if x["found"] and not (x["truth"] and x["where"]))
            fn = sum(1 for x in rs if x["truth"] and not (x["found"] and x["where"]))
            p, rc = _pr(tp, fp, fn)
            d[mode] = {"pages": len(rs), "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": rc}
        s[what] = d
    by_style: dict = defaultdict(lambda: [0, 0])
    for r in results:
        if r["attestation"]["truth"]:
            by_style[r["attestation_style"]][0] += 1
            by_style[r["attestation_style"]][1] += r["attestation"]["found"] and r["attestation"]["where"]
    s["attestation_recall_by_style"] = {k: v[1] / v[0] for k, v in sorted(by_style.items())}
    # seal text
    texts = [t for r in results for t in r["seals"]["texts"]]
    st: dict = {}
    for colour in sorted({t["colour"] for t in texts}) + (["all"] if texts else []):
        ts = [t for t in texts if colour == "all" or t["colour"] == colour]
        st[colour] = {"seals": len(ts), "char_accuracy": statistics.mean(t["accuracy"] for t in ts),
                      "exact": sum(t["accuracy"] == 1.0 for t in ts) / len(ts)}
    sure = [t for t in texts if t["conf"] >= 0.85]
    st["read_with_confidence>=0.85"] = {"seals": len(sure), "char_accuracy": statistics.mean(
        t["accuracy"] for t in sure) if sure else None}
    s["seal_text"] = st
    # checks
    chk = {}
    for code in ("SEAL_MISSING", "ATTESTATION_MISSING", "SEAL_ORG_UNMATCHED"):
        tp = fp = fn = 0
        for r in results:
            reported = any(c == code for c, _ in r["findings"])
            expected = code in r["expected"]
            allowed = code in r["allowed"]
            if reported and expected:
                tp += 1
            elif reported and not allowed:
                fp += 1
            elif expected and not reported:
                fn += 1
        p, rc = _pr(tp, fp, fn)
        chk[code] = {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": rc}
    clean = [r for r in results if not r["missing"]]
    chk["clean_pages"] = len(clean)
    chk["clean_pages_missing_at_error"] = sum(
        1 for r in clean if any(sev == "error" and c in ("SEAL_MISSING", "ATTESTATION_MISSING") for c, sev in r["findings"]))
    chk["clean_pages_with_a_warning"] = sum(1 for r in clean if r["findings"])
    # what the detectors were sure was absent (an error, were absence allowed to be one)
    chk["clean_pages_sure_absent"] = sum(1 for r in clean if r["sure_absent"])
    chk["copy_pages_classified_as_copies"] = sum(
        1 for r in results if r["classified"] in ("certificate", "honor", "id_card", "copy")) / len(results)
    s["checks"] = chk
    # cost
    s["seconds_per_page"] = {
        k: {"median": statistics.median(r[f"t_{k}"] for r in results),
            "p95": sorted(r[f"t_{k}"] for r in results)[int(0.95 * (len(results) - 1))]}
        for k in ("seals", "marks", "ocr")}
    # OCR gain
    gains = [g for r in results for g in r.get("gain", [])]
    if gains:
        s["ocr_gain_under_seal"] = {"fields": len(gains)} | {
            name: {"cer": statistics.mean(g[f"{name}_cer"] for g in gains),
                   "exact": sum(g[f"{name}_cer"] == 0 for g in gains) / len(gains)}
            for name in ("colour", "removed")}
    return s


def print_summary(s: dict) -> None:
    print(f"copy pages: {s['pages']}")
    print("\nseal detection (each seal)      precision  recall   tp  fp  fn  pages")
    for mode, d in s["seal"].items():
        print(f"  {mode:28s} {d['precision']:9.3f} {d['recall']:7.3f} {d['tp']:4d} {d['fp']:3d} {d['fn']:3d} {d['pages']:5d}")
    for what in ("attestation", "signature"):
        print(f"\n{what} detection (per page)  precision  recall   tp  fp  fn  pages")
        for mode, d in s[what].items():
            print(f"  {mode:28s} {d['precision']:9.3f} {d['recall']:7.3f} {d['tp']:4d} {d['fp']:3d} {d['fn']:3d} {d['pages']:5d}")
    print("  attestation recall by style:",
          ", ".join(f"{k} {v:.3f}" for k, v in s["attestation_recall_by_style"].items()))
    print("\nseal text (seals found)        seals  char accuracy  exact")
    for colour, d in s["seal_text"].items():
        if d.get("exact") is None:
            acc = d["char_accuracy"]
            print(f"  {colour:28s} {d['seals']:5d}  {acc if acc is None else round(acc, 3)}")
        else:
            print(f"  {colour:28s} {d['seals']:5d}  {d['char_accuracy']:13.3f}  {d['exact']:.3f}")
    c = s["checks"]
    print("\ncopy checks (per page, warning or error)  precision  recall   tp  fp  fn")
    for code in ("SEAL_MISSING", "ATTESTATION_MISSING", "SEAL_ORG_UNMATCHED"):
        d = c[code]
        print(f"  {code:40s} {d['precision']:9.3f} {d['recall']:7.3f} {d['tp']:4d} {d['fp']:3d} {d['fn']:3d}")
    print(f"  clean pages: {c['clean_pages']}, reported missing at error severity: "
          f"{c['clean_pages_missing_at_error']}, with any warning: {c['clean_pages_with_a_warning']}; "
          f"the detectors sure a seal or attestation was absent: {c['clean_pages_sure_absent']}")
    print(f"  copy pages classified as copies: {c['copy_pages_classified_as_copies']:.3f}")
    print("\nCPU seconds per page (worker)   median    p95")
    for k, label in (("seals", "seal detection"), ("marks", "all marks (incl. their OCR)"), ("ocr", "page OCR")):
        d = s["seconds_per_page"][k]
        print(f"  {label:28s} {d['median']:8.3f} {d['p95']:7.3f}")
    if "ocr_gain_under_seal" in s:
        g = s["ocr_gain_under_seal"]
        print(f"\nOCR of the field under a seal, whole page read ({g['fields']} fields, colour scans)  CER   exact")
        for name, label in (("colour", "colour image as scanned"), ("removed", "seal colour removed (max RGB)")):
            print(f"  {label:42s} {g[name]['cer']:.3f}  {g[name]['exact']:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=240)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--dpi", type=int, default=200, help="dpi the pages are generated at")
    ap.add_argument("--read-dpi", type=int, default=300, help="dpi the pipeline renders them at")
    ap.add_argument("--workers", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--gain-pages", type=int, default=40, help="pages to measure the OCR gain on (0: none)")
    ap.add_argument("--damage", action="store_true",
                    help="damage every page as the hard corpus does (phone photo, skew, grey, low resolution, "
                         "JPEG, blur); seals are then counted per page, not matched by place")
    ap.add_argument("--json", type=Path, help="write the per-page results and the summary here")
    args = ap.parse_args(argv)

    from fixtures.copies import plan_copy_cases

    cases = plan_copy_cases(args.pages, args.seed)
    gain_ids = {c.index for c in cases[: args.gain_pages]}
    jobs = [(c, args.dpi, args.read_dpi, c.index in gain_ids and not args.damage, args.damage) for c in cases]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
        results = list(pool.map(run_case, jobs, chunksize=2))
    wall = time.perf_counter() - start
    if args.json:  # the pages first: a summary that fails loses nothing
        args.json.write_text(json.dumps({"pages": results}, ensure_ascii=False, indent=1))
    summary = summarise(results)
    summary["wall_seconds"] = wall
    print_summary(summary)
    print(f"\n{len(results)} pages in {wall:.0f} s with {args.workers} workers")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "pages": results}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
