"""Accuracy against a corpus's truth, as the fixtures generator writes it.

Reads the reports a batch wrote and the truth files; prints per-field accuracy of the top
candidate, per-code precision/recall/F1 at warning-or-error severity, the share of clean
submissions wrongly failed, and page-count accuracy.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# A request for a person to look, not a claim about the applicant: counted, not scored.
UNSCORED = {"LOW_CONFIDENCE"}
FIELDS = ("name", "id_number", "birth_date", "grade", "certificate_number", "honors")
NATIONAL_HONORS = {"全国技术能手", "中华技能大奖"}
CONFIDENCE_BANDS = ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01))


@dataclass
class Evaluation:
    submissions: int = 0
    field_right: Counter = field(default_factory=Counter)
    field_total: Counter = field(default_factory=Counter)
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    clean: int = 0
    clean_failed: int = 0
    low_confidence: int = 0  # submissions with LOW_CONFIDENCE
    pages_right: int = 0
    pages_total: int = 0
    misses: list[str] = field(default_factory=list)
    # (confidence of the top candidate, whether it was right), for the calibration table
    readings: list[tuple[float, bool]] = field(default_factory=list)

    def calibration(self) -> list[tuple[str, int, float | None]]:
        """Accuracy of top candidates by confidence band: a calibrated confidence matches it."""
        out = []
        for lo, hi in CONFIDENCE_BANDS:
            hits = [ok for conf, ok in self.readings if lo <= conf < hi]
            out.append((f"{lo:.2f}-{min(hi, 1.0):.2f}", len(hits), sum(hits) / len(hits) if hits else None))
        return out

    def accuracy(self, name: str) -> float | None:
        n = self.field_total[name]
        return self.field_right[name] / n if n else None

    def code_scores(self, code: str) -> tuple[float, float, float]:
        tp, fp, fn = self.tp[code], self.fp[code], self.fn[code]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def to_json(self) -> dict:
        codes = sorted(set(self.tp) | set(self.fp) | set(self.fn))
        return {
            "submissions": self.submissions,
            "fields": {f: {"accuracy": self.accuracy(f), "n": self.field_total[f]} for f in FIELDS},
            "codes": {c: dict(zip(("precision", "recall", "f1"), self.code_scores(c)),
                              tp=self.tp[c], fp=self.fp[c], fn=self.fn[c]) for c in codes},
            "clean": self.clean,
            "low_confidence_submissions": self.low_confidence,
            "clean_wrongly_failed": self.clean_failed,
            "clean_wrongly_failed_share": self.clean_failed / self.clean if self.clean else 0.0,
            "page_count_accuracy": self.pages_right / self.pages_total if self.pages_total else None,
            "calibration": [{"band": b, "n": n, "accuracy": a} for b, n, a in self.calibration()],
            "misses": self.misses,
        }


def _top(report: dict, key: str) -> str | None:
    cands = report.get("extracted", {}).get(key) or []
    return cands[0]["value"] if cands else None


def _field_right(report: dict, key: str, truth) -> bool:
    if key == "honors":
        found = {c["value"] for c in report["extracted"].get("honors", []) if c["confidence"] >= 0.5}
        return found & NATIONAL_HONORS == set(truth) & NATIONAL_HONORS
    top = _top(report, key)
    if top is None:
        return False
    if key == "birth_date":
        return top == truth or (len(top) == 7 and truth.startswith(top))
    return top == truth


def evaluate(reports_dir: Path, truth_dir: Path) -> Evaluation:
    ev = Evaluation()
    batch_path = truth_dir / "batch.json"
    batch = json.loads(batch_path.read_text("utf-8")) if batch_path.exists() else {}
    for tpath in sorted(truth_dir.glob("*.json")):
        if tpath.name == "batch.json":
            continue
        truth = json.loads(tpath.read_text("utf-8"))
        sid = truth["submission"]
        rpath = reports_dir / f"{sid}.json"
        if not rpath.exists():
            ev.misses.append(f"{sid}: no report")
            continue
        report = json.loads(rpath.read_text("utf-8"))
        ev.submissions += 1
        expected = set(truth.get("expected_codes", []))
        expected |= {code for code, ids in batch.items() if sid in ids}
        allowed = set(truth.get("allowed_codes", []))
        reported = {f["code"] for f in report["findings"] if f["severity"] in ("error", "warning")}
        ev.low_confidence += bool(reported & UNSCORED)
        reported -= UNSCORED
        for code in expected & reported:
            ev.tp[code] += 1
        for code in expected - reported:
            ev.fn[code] += 1
            ev.misses.append(f"{sid}: missed {code}")
        for code in reported - expected - allowed:
            ev.fp[code] += 1
            ev.misses.append(f"{sid}: unexpected {code}")
        if truth.get("clean"):
            ev.clean += 1
            if report["status"] == "fail":
                ev.clean_failed += 1
        if report["status"] == "error" or not truth.get("fields"):
            continue
        if truth.get("pages") is not None:
            ev.pages_total += 1
            ev.pages_right += report.get("pages") == truth["pages"]
        for key in FIELDS:
            value = truth["fields"].get(key)
            if value in (None, "") or (key != "honors" and not _shown(truth, key)):
                continue
            ev.field_total[key] += 1
            right = _field_right(report, key, value)
            cands = report["extracted"].get(key) or []
            if cands and key != "honors":
                ev.readings.append((cands[0]["confidence"], right))
            if right:
                ev.field_right[key] += 1
            else:
                ev.misses.append(f"{sid}: {key} read {_top(report, key)!r}, truth {value!r}")
    return ev


def _shown(truth: dict, key: str) -> bool:
    """Whether the PDF shows the field at all (a submission without a certificate has no grade)."""
    kinds = truth.get("page_kinds") or []
    if key in ("grade", "certificate_number"):
        return "certificate" in kinds
    return any(k in ("certificate", "honor", "id_card") for k in kinds)


def format_text(ev: Evaluation) -> str:
    lines = [f"submissions evaluated: {ev.submissions}", "", "field accuracy (top candidate):"]
    for f in FIELDS:
        acc = ev.accuracy(f)
        lines.append(f"  {f:<20} {'-' if acc is None else f'{acc:.3f}'}  (n={ev.field_total[f]})")
    lines += ["", "codes at warning or error:  precision  recall  f1     tp  fp  fn"]
    for code in sorted(set(ev.tp) | set(ev.fp) | set(ev.fn)):
        p, r, f1 = ev.code_scores(code)
        lines.append(f"  {code:<26} {p:.3f}      {r:.3f}   {f1:.3f}  {ev.tp[code]:>3} {ev.fp[code]:>3} {ev.fn[code]:>3}")
    lines.append(f"  (LOW_CONFIDENCE, a request to look rather than a claim, on {ev.low_confidence} submissions)")
    share = ev.clean_failed / ev.clean if ev.clean else 0.0
    lines += ["", f"clean submissions wrongly failed: {ev.clean_failed}/{ev.clean} ({share:.1%})"]
    if ev.pages_total:
        lines.append(f"page-count accuracy: {ev.pages_right}/{ev.pages_total}")
    lines.append("confidence of top candidates vs accuracy:")
    for band, n, acc in ev.calibration():
        if n:
            lines.append(f"  {band}  n={n:<4} accuracy {acc:.3f}")
    return "\n".join(lines)
