"""The reviewer's HTML: OUT/<id>.html per submission and OUT/index.html for the batch.

Static pages opened from disk: no server, nothing loaded from the internet (a Content
Security Policy forbids it), one small inline script in index.html for sorting and
filtering, a print stylesheet. Page images and crops come from pipeline.evidence_images
(OUT/<id>/images.json says which exist); without them the pages still read.
"""

from __future__ import annotations

import difflib
import html
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .evidence_images import read_manifest
from .labels import (
    CODE_FIELDS,
    FIELD_LABELS,
    PAGE_KIND_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    STATUS_RANK,
    beijing_time,
    code_label,
    masker,
)
from .model import Box, Candidate, Finding, Report, Severity
from .report import EXTRACTED_FIELDS, write_atomic

# The batch panel starts folded when it lists more groups than this (a big batch's table first).
BATCH_PANEL_OPEN = 12

CSP = ("default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")

CSS = """
:root { --pass:#2e7d32; --pass-bg:#e8f5e9; --review:#b26a00; --review-bg:#fff3e0; --fail:#c62828;
  --fail-bg:#ffebee; --error:#546e7a; --error-bg:#eceff1; --line:#d9dde3; --muted:#5f6b7a; --accent:#1565c0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.55 "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
  "PingFang SC", sans-serif; color: #1f2933; background: #f4f6f8; }
main { max-width: 1280px; margin: 0 auto; padding: 12px 20px 40px; }
a { color: var(--accent); }
h1 { font-size: 22px; margin: 6px 0 2px; }
h1 small { font-size: 15px; font-weight: normal; color: var(--muted); margin-left: 8px; }
h2 { font-size: 16px; margin: 22px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h2 .count { font-weight: normal; color: var(--muted); font-size: 14px; }
.topbar { display: flex; gap: 14px; align-items: center; padding: 8px 20px; background: #263238; color: #fff; }
.topbar a { color: #cfe3ff; text-decoration: none; }
.topbar .title { font-weight: bold; }
.meta { color: var(--muted); font-size: 12.5px; margin: 2px 0 10px; }
.meta span { display: inline-block; white-space: nowrap; }
.meta span + span::before { content: "·"; margin: 0 6px; color: #aab; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 11px; font-weight: bold; font-size: 13px;
  white-space: nowrap; border: 1px solid transparent; }
.st-pass { color: var(--pass); background: var(--pass-bg); border-color: #a5d6a7; }
.st-review { color: var(--review); background: var(--review-bg); border-color: #ffcc80; }
.st-fail { color: var(--fail); background: var(--fail-bg); border-color: #ef9a9a; }
.st-error { color: var(--error); background: var(--error-bg); border-color: #b0bec5; }
h1 .badge { font-size: 15px; vertical-align: 3px; margin-left: 10px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 12.5px; }
.chip { display: inline-block; margin: 1px 3px 1px 0; padding: 0 6px; border-radius: 4px; font-size: 12px;
  line-height: 19px; white-space: nowrap; border: 1px solid; }
.sev-error.chip { color: var(--fail); border-color: #ef9a9a; background: var(--fail-bg); }
.sev-warning.chip { color: var(--review); border-color: #ffcc80; background: var(--review-bg); }
.sev-info.chip { color: var(--muted); border-color: var(--line); background: #f7f8fa; }
.muted { color: var(--muted); }
.ok { color: var(--pass); font-weight: bold; }
.bad { color: var(--fail); font-weight: bold; }
.warn { color: var(--review); font-weight: bold; }
/* declared vs found */
table.check td.crop { width: 330px; }
table.check img { max-width: 320px; max-height: 70px; border: 1px solid var(--line); display: block; }
table.check tr.row-bad td { background: #fff7f7; }
table.check tr.row-warn td { background: #fffaf0; }
.conf { display: inline-block; width: 46px; height: 6px; background: #e3e7ec; border-radius: 3px; vertical-align: middle;
  margin-left: 4px; overflow: hidden; }
.conf i { display: block; height: 100%; background: #43a047; }
.conf.low i { background: #ef6c00; }
/* findings */
.finding { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 6px 18px; background: #fff;
  border: 1px solid var(--line); border-left: 6px solid var(--muted); border-radius: 6px; padding: 10px 14px; margin: 0 0 10px; }
.finding.sev-error { border-left-color: var(--fail); }
.finding.sev-warning { border-left-color: #ef8f00; }
.finding > .head, .finding > .msg, .finding > dl { grid-column: 1; }
.finding .head { font-size: 13px; color: var(--muted); }
.finding .head .sev { font-weight: bold; margin-right: 6px; }
.finding.sev-error .head .sev { color: var(--fail); }
.finding.sev-warning .head .sev { color: var(--review); }
.finding .msg { font-size: 15.5px; margin: 3px 0 6px; }
.finding dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 0; }
.finding dt { color: var(--muted); }
.finding dd { margin: 0; font-weight: 600; word-break: break-all; }
.finding dd mark { background: #ffe082; color: #b71c1c; border-radius: 2px; padding: 0 1px; }
.finding .evidence { grid-row: 1 / span 3; grid-column: 2; align-self: start; text-align: center; }
.finding .evidence img { display: block; max-width: 460px; max-height: 150px; border: 1px solid var(--line); }
.finding .evidence .cap { font-size: 12px; color: var(--muted); }
.none { padding: 14px; background: var(--pass-bg); color: var(--pass); border-radius: 6px; font-weight: bold; }
/* pages */
.pages { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 14px; }
.pages figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
.pages figure.has-finding { border-color: #ef9a9a; box-shadow: 0 0 0 2px #ffcdd2; }
.thumb { position: relative; display: block; line-height: 0; }
.thumb img { width: 100%; height: auto; border: 1px solid #e0e0e0; }
.thumb .box { position: absolute; border: 2px solid var(--fail); background: rgba(255, 235, 59, .25); }
.thumb .box.warning { border-color: #ef8f00; }
.thumb .box.seal { border: 2px dashed #1e88e5; background: none; border-radius: 50%; }
.thumb .box.attest { border: 2px dashed #2e7d32; background: none; }
.pages figcaption { font-size: 12.5px; margin-top: 6px; line-height: 1.5; }
.pages figcaption b { font-size: 13.5px; }
.noimg { display: flex; align-items: center; justify-content: center; height: 120px; background: #f0f0f0;
  color: var(--muted); line-height: 1.4; font-size: 12px; }
/* index */
.head-row { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 4px 20px; }
.head-row > div:first-child { flex: 1 1 480px; min-width: 0; }
.stats { display: flex; flex-wrap: wrap; gap: 8px; margin: 6px 0; }
.stats button { font: inherit; cursor: pointer; padding: 4px 14px; border-radius: 6px; border: 1px solid var(--line);
  background: #fff; min-width: 88px; text-align: left; }
.stats button b { display: block; font-size: 20px; line-height: 1.2; }
.stats button.active { outline: 3px solid var(--accent); }
.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; margin-bottom: 10px; }
.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
.filters select, .filters input { font: inherit; font-size: 13.5px; padding: 4px 6px; border: 1px solid #b8c0cc;
  border-radius: 4px; background: #fff; min-width: 130px; max-width: 260px; }
.filters button { font: inherit; padding: 4px 12px; cursor: pointer; }
.shown { margin-left: auto; color: var(--muted); }
table.subs th { position: sticky; top: 0; z-index: 1; box-shadow: 0 1px 0 var(--line); }
table.subs th[data-key] { cursor: pointer; user-select: none; }
table.subs th[aria-sort="ascending"]::after { content: " ▲"; font-size: 10px; }
table.subs th[aria-sort="descending"]::after { content: " ▼"; font-size: 10px; }
table.subs tbody tr:hover td { background: #f3f8ff; }
table.subs td.st, table.subs td.id, table.subs td.name { white-space: nowrap; }
table.check td.verdict { white-space: nowrap; }
table.subs td.id a { font-weight: 600; }
.batch { margin-top: 6px; }
.batch summary { cursor: pointer; font-weight: 600; }
.batch h3 { font-size: 14.5px; margin: 8px 0 4px; }
.batch ul { margin: 0 0 6px; padding-left: 20px; }
.empty { color: var(--muted); padding: 10px; }
.print-only { display: none; }
@media (max-width: 900px) {
  .finding { grid-template-columns: 1fr; }
  .finding .evidence { grid-row: auto; grid-column: 1; }
  table.check td.crop { width: auto; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  .topbar, .filters, .no-print { display: none !important; }
  .print-only { display: block !important; }
  .stats button { min-width: 70px; padding: 2px 8px; }
  table.subs th { position: static; box-shadow: none; }
  table.subs { font-size: 9pt; }
  table.subs th, table.subs td { padding: 3px 4px; }
  table.check td.crop { width: 240px; }
  table.check img { max-width: 230px; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .panel, .finding, figure, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  h2 { break-after: avoid; }
  .pages { grid-template-columns: repeat(4, 1fr); gap: 8px; }
  .finding .evidence img { max-width: 300px; }
  table.subs tr[hidden] { display: none; }
}
"""

INDEX_SCRIPT = """
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var table = $('subs'), tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var f = { status: $('f-status'), code: $('f-code'), category: $('f-category'),
            recommender: $('f-recommender'), q: $('f-q') };
  function apply(save) {
    var s = f.status.value, c = f.code.value, cat = f.category.value, r = f.recommender.value,
        q = f.q.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (tr) {
      var d = tr.dataset;
      var ok = (!s || d.status === s) && (!c || (' ' + d.codes + ' ').indexOf(' ' + c + ' ') >= 0) &&
               (!cat || d.category === cat) && (!r || d.recommender === r) &&
               (!q || d.search.indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) n++;
    });
    $('shown').textContent = n;
    $('no-rows').hidden = n > 0;
    document.querySelectorAll('.stats button').forEach(function (b) {
      b.classList.toggle('active', b.dataset.status === s && s !== '');
    });
    var active = [];
    Object.keys(f).forEach(function (k) {
      var el = f[k];
      if (el.value) active.push(el.closest('label').firstChild.textContent + '：' +
                                (el.tagName === 'SELECT' ? el.options[el.selectedIndex].text : el.value));
    });
    $('print-filter').textContent = active.length ? '筛选条件：' + active.join('；') + '（' + n + ' 份）' : '';
    if (save) {
      var p = new URLSearchParams();
      Object.keys(f).forEach(function (k) { if (f[k].value) p.set(k, f[k].value); });
      history.replaceState(null, '', p.toString() ? '#' + p.toString() : location.pathname);
    }
  }
  Object.keys(f).forEach(function (k) {
    f[k].addEventListener(f[k].tagName === 'INPUT' ? 'input' : 'change', function () { apply(true); });
  });
  document.querySelectorAll('.stats button').forEach(function (b) {
    b.addEventListener('click', function () {
      f.status.value = f.status.value === b.dataset.status ? '' : b.dataset.status;
      apply(true);
    });
  });
  $('f-reset').addEventListener('click', function () {
    Object.keys(f).forEach(function (k) { f[k].value = ''; });
    apply(true);
  });
  var collator = new Intl.Collator('zh-Hans-CN', { numeric: true });
  table.tHead.querySelectorAll('th[data-key]').forEach(function (th) {
    th.addEventListener('click', function () {
      var i = th.cellIndex, num = th.dataset.type === 'num';
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      table.tHead.querySelectorAll('th').forEach(function (o) { o.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var key = function (tr) { var c = tr.cells[i]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent; };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var r = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : collator.compare(x, y);
        return r * dir || collator.compare(a.dataset.id, b.dataset.id);
      });
      rows.forEach(function (tr) { tbody.appendChild(tr); });
    });
  });
  if (location.hash.length > 1) {
    var p = new URLSearchParams(location.hash.slice(1));
    Object.keys(f).forEach(function (k) { if (p.has(k)) f[k].value = p.get(k); });
  }
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
  apply(false);
})();
"""


def e(value) -> str:
    """Escaped text; None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def marked_difference(a: str, b: str) -> tuple[str, str]:
    """Both values escaped, the characters where they differ in <mark> (a digit changed in an
    ID number, a character in a name)."""
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        pa, pb = e(a[i1:i2]), e(b[j1:j2])
        if op == "equal":
            out_a.append(pa)
            out_b.append(pb)
        else:
            out_a.append(f"<mark>{pa}</mark>" if pa else "")
            out_b.append(f"<mark>{pb}</mark>" if pb else "")
    return "".join(out_a), "".join(out_b)


def href(*parts: str) -> str:
    return "/".join(quote(p) for p in parts)


def _page(title: str, body: str, script: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"referrer\" content=\"no-referrer\">\n"
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        + (f"<script>{script}</script>\n" if script else "")
        + "</body>\n</html>\n"
    )


def _status_badge(status: str) -> str:
    return f"<span class=\"badge st-{e(status)}\" data-status=\"{e(status)}\">{e(STATUS_LABELS.get(status, status))}</span>"


def _code_chip(f: Finding) -> str:
    return (f"<span class=\"chip sev-{f.severity.value}\" data-code=\"{e(f.code)}\" title=\"{e(f.code)}\">"
            f"{e(code_label(f.code))}</span>")


def _confidence(c: float) -> str:
    low = " low" if c < 0.8 else ""
    return (f"<span class=\"muted\">{c:.0%}</span><span class=\"conf{low}\" title=\"置信度 {c:.3f}\">"
            f"<i style=\"width:{max(0.0, min(1.0, c)) * 100:.0f}%\"></i></span>")


def _meta_line(report: Report) -> str:
    m = report.meta or {}
    bits = [
        f"<span>生成于 {e(beijing_time(m.get('generated_at')))}（北京时间）</span>",
        f"<span>版本 {e(m.get('version', __version__))}</span>",
        f"<span>规则文件 <code>{e(m.get('rules', ''))}</code>"
        + (f"（{e(m['rules_id'])}）" if m.get("rules_id") else "") + "</span>",
        f"<span>用时 {report.seconds:.2f} 秒</span>",
    ]
    if report.pages is not None:
        bits.append(f"<span>共 {report.pages} 页</span>")
    if report.pdf_path:
        bits.append(f"<span>文件 {e(Path(report.pdf_path).name)}</span>")
    if report.sha256:
        bits.append(f"<span class=\"mono\" title=\"SHA-256 {e(report.sha256)}\">{e(report.sha256[:12])}</span>")
    if m.get("ocr"):
        bits.append(f"<span>OCR {e(m['ocr'])} {e(m.get('dpi', ''))} dpi</span>")
    return "<p class=\"meta\">" + "".join(bits) + "</p>"


# --- one submission ------------------------------------------------------------------


class SubmissionPage:
    def __init__(self, report: Report, manifest: dict | None, mask_id: bool, in_batch: bool = False):
        self.in_batch = in_batch
        self.r = report
        self.m = manifest or {}
        self.mask = masker(mask_id)
        self.sid = report.submission
        self.pages_info: dict = self.m.get("pages", {})

    def t(self, value) -> str:
        return e(self.mask(value))

    def page_href(self, page: int | None) -> str | None:
        info = self.pages_info.get(str(page)) if page is not None else None
        return href(self.sid, info["file"]) if info else None

    def page_link(self, page: int | None) -> str:
        if page is None:
            return ""
        url = self.page_href(page)
        label = f"第{page}页"
        return f"<a href=\"{url}\" target=\"_blank\">{label}</a>" if url else label

    def render(self) -> str:
        r = self.r
        form = r.form
        name = form.name if form else ""
        sub = " · ".join(x for x in (form.category if form else "", (form.recommender or "") if form else "") if x)
        body = [
            ("<nav class=\"topbar no-print\">"
             + ("<a href=\"index.html\">← 返回批次汇总</a>" if self.in_batch else "")
             + f"<span class=\"title\">申报佐证材料预审报告</span><span>编号 {e(self.sid)}</span></nav>"),
            "<main>",
            f"<h1>{e(self.sid)} {e(name)}{_status_badge(r.status.value)}<small>{e(sub)}</small></h1>",
            _meta_line(r),
            self.findings(),
            self.check_table(),
            self.pages(),
            self.extracted(),
            "</main>",
        ]
        return _page(f"{self.sid} {name} · {STATUS_LABELS.get(r.status.value, '')}", "\n".join(body))

    # the findings, each with its evidence
    def findings(self) -> str:
        shown = [(i, f) for i, f in enumerate(self.r.findings, 1)]
        problems = [x for x in shown if x[1].severity is not Severity.INFO]
        infos = [x for x in shown if x[1].severity is Severity.INFO]
        out = [f"<section id=\"findings\"><h2>发现的问题 <span class=\"count\">（{len(problems)}）</span></h2>"]
        if not problems:
            out.append("<div class=\"none\">未发现需要处理的问题。</div>")
        for i, f in problems + infos:
            out.append(self.finding(i, f))
        out.append("</section>")
        return "\n".join(out)

    def finding(self, i: int, f: Finding) -> str:
        sev = f.severity.value
        crop = self.m.get("findings", {}).get(str(i))
        where = self.page_link(f.page if f.page is not None else crop["page"] if crop else None)
        vals = ""
        if f.declared is not None or f.found is not None:
            declared, found = self.mask(f.declared), self.mask(f.found)
            if declared and found and declared != found:
                declared, found = marked_difference(str(declared), str(found))
            else:
                declared, found = e(declared), e(found)
            vals = (f"<dl><dt>申报</dt><dd>{declared or '—'}</dd>"
                    f"<dt>材料</dt><dd>{found or '—'}</dd></dl>")
        evidence = ""
        if crop:
            page = crop["page"]  # the finding's page, or where the value it quotes was read
            url = self.page_href(page)
            img = (f"<img class=\"crop\" src=\"{href(self.sid, crop['file'])}\" "
                   f"alt=\"第{page}页上{e(code_label(f.code))}的位置\">")
            if url:
                img = f"<a href=\"{url}\" target=\"_blank\">{img}</a>"
            what = "框内为读到的内容" if f.page is not None else "框内为材料中读到该项的位置"
            evidence = f"<div class=\"evidence\">{img}<div class=\"cap\">第{page}页 · {what}</div></div>"
        elif f.page is not None:
            evidence = f"<div class=\"evidence cap\">{where}</div>"
        return (f"<article class=\"finding sev-{sev}\" id=\"finding-{i}\" data-code=\"{e(f.code)}\">"
                f"<div class=\"head\"><span class=\"sev\">{SEVERITY_LABELS.get(sev, sev)}</span>"
                f"{e(code_label(f.code))} · <code>{e(f.code)}</code>{' · ' + where if where else ''}</div>"
                f"<div class=\"msg\">{self.t(f.message)}</div>{vals}{evidence}</article>")

    # declared vs found, field by field
    def check_table(self) -> str:
        r, form = self.r, self.r.form
        ev = r.evidence
        codes_by_field: dict[str, list[Finding]] = defaultdict(list)
        for f in r.findings:
            if f.code in CODE_FIELDS and f.severity is not Severity.INFO:
                codes_by_field[CODE_FIELDS[f.code]].append(f)
        declared = form.to_json() if form else {}
        rows = []
        for key in ("name", "gender", "id_number", "birth_date", "grade", "certificate_number", "honors"):
            dval = declared.get(key)
            if isinstance(dval, list):
                dval = "、".join(dval) or "（无）"
            cands: tuple[Candidate, ...] = getattr(ev, EXTRACTED_FIELDS[key]) if ev else ()
            best = cands[0] if cands else None
            if key == "honors" and cands:
                fval = "、".join(dict.fromkeys(c.value for c in cands))
            else:
                fval = best.value if best else None
            bad = codes_by_field.get(key, [])
            if bad:
                worst = min(bad, key=lambda f: f.severity is not Severity.ERROR)
                cls = "row-bad" if worst.severity is Severity.ERROR else "row-warn"
                verdict = " ".join(
                    f"<span class=\"{'bad' if f.severity is Severity.ERROR else 'warn'}\">✗ {e(code_label(f.code))}</span>"
                    for f in bad)
            elif best is None and key == "honors" and not declared.get("honors"):
                cls, verdict = "", "<span class=\"muted\">均无</span>"
            elif best is None:
                cls, verdict = "", "<span class=\"muted\">未读到</span>"
            elif dval is not None and (str(dval) == fval or (key == "birth_date" and str(dval).startswith(fval or "-"))):
                cls, verdict = "", "<span class=\"ok\">✓ 一致</span>"
            elif dval is not None:
                cls, verdict = "", "<span class=\"warn\" title=\"与申报值不同，但检查未判定为问题\">≠ 不同</span>"
            else:
                cls, verdict = "", "<span class=\"muted\">—</span>"
            crop = self.m.get("fields", {}).get(key)
            img = ""
            if crop:
                img = (f"<a href=\"{self.page_href(crop['page'])}\" target=\"_blank\"><img src=\"{href(self.sid, crop['file'])}\" "
                       f"alt=\"{e(FIELD_LABELS[key])}所在位置\"></a>")
            found = "<span class=\"muted\">—</span>"
            if best is not None:
                found = (f"{self.t(fval)} {_confidence(best.confidence)} "
                         f"<span class=\"muted\">{self.page_link(best.page)}</span>")
            rows.append(f"<tr class=\"{cls}\"><th>{e(FIELD_LABELS[key])}</th><td>{self.t(dval) if dval is not None else '—'}</td>"
                        f"<td>{found}</td><td class=\"verdict\">{verdict}</td><td class=\"crop\">{img}</td></tr>")
        other = []
        for key in ("occupation", "unit", "recommender", "submitted_at"):
            v = declared.get(key)
            if key == "submitted_at" and v:
                v = beijing_time(v)
            other.append(f"<span>{e(FIELD_LABELS[key])}：{self.t(v) if v else '—'}</span>")
        narrative = ""
        if ev and ev.narrative:
            n = ev.narrative
            narrative = (f"<span>事迹材料：第{'、'.join(map(str, n.pages))}页，约 {n.characters} 字"
                         f"{'（文字层）' if n.from_text_layer else '（OCR）'}</span>")
        return ("<section id=\"check\"><h2>申报信息与材料核对</h2>"
                f"<p class=\"meta\">{''.join(other)}{narrative}</p>"
                "<table class=\"check\"><thead><tr><th>项目</th><th>申报</th><th>材料中读到</th><th>核对</th>"
                "<th>材料原文位置</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></section>")

    # page thumbnails with what was found on them
    def pages(self) -> str:
        r = self.r
        if not r.page_details:
            return ""
        boxes: dict[int, list[tuple[Box, str]]] = defaultdict(list)
        crops = self.m.get("findings", {})
        for i, f in enumerate(r.findings, 1):
            if f.severity is Severity.INFO:
                continue
            if f.page is not None and f.bbox is not None:
                boxes[f.page].append((f.bbox, f.severity.value))
            elif str(i) in crops and crops[str(i)].get("bbox"):
                boxes[crops[str(i)]["page"]].append((Box(*crops[str(i)]["bbox"]), f.severity.value))
        figs = []
        for d in r.page_details:
            info = self.pages_info.get(str(d.page))
            kind = PAGE_KIND_LABELS.get(d.kind.value, d.kind.value)
            read = "文字层" if d.text_layer else f"OCR（{e(d.ocr)}）" if d.ocr else "—"
            if d.rotation:
                read += f"，旋转{d.rotation}°"
            overlays = []
            if info:
                w, h = info["width"], info["height"]
                marks = [(b, sev) for b, sev in boxes.get(d.page, [])]
                if d.seal and d.seal.get("bbox"):
                    marks.append((Box(*d.seal["bbox"]), "seal"))
                if d.attestation and d.attestation.get("found") and d.attestation.get("bbox"):
                    marks.append((Box(*d.attestation["bbox"]), "attest"))
                for b, cls in marks:
                    overlays.append(
                        f"<span class=\"box {cls}\" style=\"left:{b.x0 / w:.2%};top:{b.top / h:.2%};"
                        f"width:{b.width / w:.2%};height:{b.height / h:.2%}\"></span>")
                url = href(self.sid, info["file"])
                thumb = (f"<a class=\"thumb\" href=\"{url}\" target=\"_blank\"><img src=\"{url}\" "
                         f"alt=\"第{d.page}页\">{''.join(overlays)}</a>")
            else:
                thumb = "<div class=\"noimg\">无页面图像</div>"
            figs.append(
                f"<figure id=\"page-{d.page}\" class=\"{'has-finding' if boxes.get(d.page) else ''}\">{thumb}"
                f"<figcaption><b>第{d.page}页</b> · {e(kind)}<br>{read}<br>{self.marks(d.seal, d.attestation)}"
                "</figcaption></figure>")
        return ("<section id=\"pages\"><h2>页面 <span class=\"count\">（点击查看整页；红框为问题位置，"
                "蓝圈为公章，绿框为“此件与原件相符”）</span></h2><div class=\"pages\">" + "".join(figs) + "</div></section>")

    @classmethod
    def marks(cls, seal: dict | None, attestation: dict | None) -> str:
        if seal is None and attestation is None:
            return "<span class=\"muted\">未检查印章（非扫描页）</span>"
        return f"{cls.mark('公章', seal)} {cls.mark('此件与原件相符', attestation)}"

    @staticmethod
    def mark(label: str, detail: dict | None) -> str:
        if detail is None:
            return f"<span class=\"muted\">{label} —</span>"
        if detail.get("found"):
            return f"<span class=\"ok\" title=\"置信度 {detail.get('confidence')}\">{label} ✓</span>"
        return f"<span class=\"bad\" title=\"置信度 {detail.get('confidence')}\">{label} ✗</span>"

    # everything extracted, with its confidence
    def extracted(self) -> str:
        ev = self.r.evidence
        if ev is None:
            return ""
        rows = []
        for key, attr in EXTRACTED_FIELDS.items():
            cands: tuple[Candidate, ...] = getattr(ev, attr)
            if not cands:
                rows.append(f"<tr><th>{e(FIELD_LABELS.get(key, key))}</th><td colspan=\"4\" class=\"muted\">未读到</td></tr>")
                continue
            for j, c in enumerate(cands):
                head = f"<th rowspan=\"{len(cands)}\">{e(FIELD_LABELS.get(key, key))}</th>" if j == 0 else ""
                rows.append(f"<tr>{head}<td>{self.t(c.value)}</td><td>{_confidence(c.confidence)}</td>"
                            f"<td>{self.page_link(c.page)}</td><td><code>{e(c.source)}</code></td></tr>")
        return ("<section id=\"extracted\"><h2>提取结果 <span class=\"count\">（按可信程度排列，第一个为采用值）</span></h2>"
                "<table><thead><tr><th>项目</th><th>读到的值</th><th>置信度</th><th>页</th><th>来源</th></tr></thead>"
                "<tbody>" + "".join(rows) + "</tbody></table></section>")


def submission_html(report: Report, manifest: dict | None = None, *, mask_id: bool = False,
                    in_batch: bool = False) -> str:
    """One submission's page. manifest: pipeline.evidence_images' (None: no images, e.g. the
    service's page); in_batch: the page sits beside OUT/index.html and links back to it."""
    return SubmissionPage(report, manifest, mask_id, in_batch).render()


def write_submission_html(out: Path, report: Report, *, mask_id: bool = False) -> Path:
    path = out / f"{report.submission}.html"
    manifest = read_manifest(out, report.submission)
    write_atomic(path, submission_html(report, manifest, mask_id=mask_id, in_batch=True))
    return path


# --- the batch -----------------------------------------------------------------------


def _options(values: list[str], label=lambda v: v) -> str:
    return "".join(f"<option value=\"{e(v)}\">{e(label(v))}</option>" for v in values)


def index_html(reports: list[Report], *, mask_id: bool = False, batch_seconds: float | None = None) -> str:
    mask = masker(mask_id)
    meta = next((r.meta for r in reports if r.meta), {})
    statuses = Counter(r.status.value for r in reports)
    codes = sorted({f.code for r in reports for f in r.findings if f.severity is not Severity.INFO})
    categories = sorted({r.form.category for r in reports if r.form})
    recommenders = sorted({r.form.recommender for r in reports if r.form and r.form.recommender})
    total = sum(r.seconds for r in reports)
    rules = e(meta.get("rules", "")) + (f"（{e(meta['rules_id'])}）" if meta.get("rules_id") else "")
    head = [
        "<nav class=\"topbar no-print\"><span class=\"title\">申报佐证材料预审</span><span>批次汇总</span></nav>",
        "<main>",
        "<div class=\"head-row\"><div>",
        f"<h1>批次汇总<small>{len(reports)} 份申报</small></h1>",
        "<p class=\"meta\">"
        f"<span>生成于 {e(beijing_time(meta.get('generated_at')))}（北京时间）</span>"
        f"<span>版本 {e(meta.get('version', __version__))}</span>"
        f"<span>规则文件 <code>{rules}</code></span>"
        f"<span>检查用时合计 {total:.1f} 秒"
        + (f"，批次共 {batch_seconds:.1f} 秒" if batch_seconds is not None else "") + "</span>"
        + ("<span>身份证号已脱敏</span>" if mask_id else "") + "</p></div>",
        "<div class=\"stats\">"
        + "".join(
            f"<button type=\"button\" class=\"st-{s}\" data-status=\"{s}\"><b>{statuses.get(s, 0)}</b>"
            f"{STATUS_LABELS[s]}</button>"
            for s in ("fail", "review", "error", "pass"))
        + "</div></div>",
    ]
    filters = (
        "<div class=\"filters no-print\">"
        f"<label>状态<select id=\"f-status\"><option value=\"\">全部</option>"
        f"{_options(['fail', 'review', 'error', 'pass'], lambda s: STATUS_LABELS[s])}</select></label>"
        f"<label>问题代码<select id=\"f-code\"><option value=\"\">全部</option>"
        f"{_options(codes, lambda c: f'{code_label(c)}（{c}）')}</select></label>"
        f"<label>申报类别<select id=\"f-category\"><option value=\"\">全部</option>{_options(categories)}</select></label>"
        f"<label>推荐单位<select id=\"f-recommender\"><option value=\"\">全部</option>{_options(recommenders)}"
        "</select></label>"
        "<label>搜索<input id=\"f-q\" type=\"search\" placeholder=\"编号或姓名\"></label>"
        "<button type=\"button\" id=\"f-reset\">清除筛选</button>"
        f"<span class=\"shown\">显示 <b id=\"shown\">{len(reports)}</b> / {len(reports)} 份</span></div>"
    )
    rows = []
    for r in sorted(reports, key=lambda r: r.submission):
        form = r.form
        problems = [f for f in r.findings if f.severity is not Severity.INFO]
        row_codes = sorted({f.code for f in problems})
        chips = []
        seen = set()
        for f in sorted(problems, key=lambda f: (f.severity is not Severity.ERROR, f.code)):
            if f.code not in seen:
                seen.add(f.code)
                chips.append(_code_chip(f))
        errors = sum(f.severity is Severity.ERROR for f in r.findings)
        warnings = sum(f.severity is Severity.WARNING for f in r.findings)
        name = form.name if form else ""
        category = form.category if form else ""
        recommender = (form.recommender or "") if form else ""
        sid = r.submission
        rows.append(
            f"<tr data-id=\"{e(sid)}\" data-status=\"{r.status.value}\" data-codes=\"{e(' '.join(row_codes))}\" "
            f"data-category=\"{e(category)}\" data-recommender=\"{e(recommender)}\" "
            f"data-search=\"{e((sid + ' ' + name).lower())}\">"
            f"<td class=\"id\"><a href=\"{href(sid + '.html')}\">{e(sid)}</a></td>"
            f"<td class=\"st\" data-sort=\"{STATUS_RANK.get(r.status.value, 9)}\">{_status_badge(r.status.value)}</td>"
            f"<td class=\"name\">{e(name)}</td><td>{e(category)}</td><td>{e(recommender)}</td>"
            f"<td class=\"num\">{'' if r.pages is None else r.pages}</td>"
            f"<td class=\"num\">{errors}</td><td class=\"num\">{warnings}</td>"
            f"<td data-sort=\"{e(' '.join(row_codes))}\">{''.join(chips) or '<span class=muted>—</span>'}</td>"
            f"<td class=\"num\">{r.seconds:.1f}</td></tr>")
    cols = [("id", "编号", "text"), ("status", "状态", "num"), ("name", "姓名", "text"), ("category", "申报类别", "text"),
            ("recommender", "推荐单位", "text"), ("pages", "页数", "num"), ("errors", "错误", "num"),
            ("warnings", "警告", "num"), ("codes", "问题", "text"), ("seconds", "用时(秒)", "num")]
    thead = "".join(
        f"<th data-key=\"{k}\" data-type=\"{t}\" class=\"{'num' if t == 'num' and k != 'status' else ''}\""
        f"{' aria-sort=' + chr(34) + 'ascending' + chr(34) if k == 'id' else ''} title=\"点击排序\">{label}</th>"
        for k, label, t in cols)
    table = ("<p id=\"print-filter\" class=\"print-only\"></p>"
             f"<table class=\"subs\" id=\"subs\"><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
             "<p id=\"no-rows\" class=\"empty\" hidden>没有符合筛选条件的申报。</p>")
    body = "\n".join(head + [_batch_panel(reports, mask), "<h2>全部申报</h2>", filters, table, "</main>"])
    return _page("申报佐证材料预审 · 批次汇总", body, INDEX_SCRIPT)


def _batch_panel(reports: list[Report], mask) -> str:
    """Duplicates and quotas: findings about several submissions together."""
    dup: dict[str, list[Report]] = defaultdict(list)
    quota: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        for f in r.findings:
            if f.code == "DUPLICATE_APPLICANT":
                dup[f.declared or ""].append(r)
            elif f.code == "QUOTA_EXCEEDED":
                quota[f.message].append(r)

    def links(rs: list[Report]) -> str:
        return "、".join(
            f"<a href=\"{href(r.submission + '.html')}\">{e(r.submission)}</a>"
            f"{' ' + e(r.form.name) if r.form else ''}" for r in sorted(rs, key=lambda r: r.submission))

    groups = len(dup) + len(quota)
    parts = [("<section id=\"batch\" class=\"batch\"><h2>批次问题 <span class=\"count\">（跨申报的检查：重复申报、推荐名额）</span>"
              f"</h2><details class=\"panel\"{' open' if groups <= BATCH_PANEL_OPEN else ''}>"
              f"<summary>重复申报 {len(dup)} 组，超出推荐名额 {len(quota)} 个推荐单位</summary>")]
    if not dup and not quota:
        parts.append("<div class=\"muted\">未发现重复申报或超出推荐名额。</div>")
    if dup:
        parts.append(f"<h3 data-code=\"DUPLICATE_APPLICANT\">{code_label('DUPLICATE_APPLICANT')}"
                     f" <code>DUPLICATE_APPLICANT</code>（{len(dup)} 组）</h3><ul>")
        for number, rs in sorted(dup.items()):
            parts.append(f"<li>身份证号 <span class=\"mono\">{e(mask(number))}</span>：{links(rs)}</li>")
        parts.append("</ul>")
    if quota:
        parts.append(f"<h3 data-code=\"QUOTA_EXCEEDED\">{code_label('QUOTA_EXCEEDED')}"
                     f" <code>QUOTA_EXCEEDED</code>（{len(quota)} 个推荐单位）</h3><ul>")
        for msg, rs in sorted(quota.items()):
            parts.append(f"<li>{e(mask(msg))}：{links(rs)}</li>")
        parts.append("</ul>")
    parts.append("</details></section>")
    return "".join(parts)


def write_index_html(out: Path, reports: list[Report], *, mask_id: bool = False,
                     batch_seconds: float | None = None) -> Path:
    path = out / "index.html"
    write_atomic(path, index_html(reports, mask_id=mask_id, batch_seconds=batch_seconds))
    return path
