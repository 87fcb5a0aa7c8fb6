"""What was read and what was checked, kept in SQLite so that no work is done twice.

One file (a batch's default: OUT/.precheck/cache.sqlite3), two tables:

- pages: one page's reading (PageContent: its lines, how it was read, the seals and marks
  found on its image) by a key made of the page's content hash, the OCR engine's name and
  version, the dpi and a fingerprint of the code that reads pages. The content hash covers
  what the page draws and nothing about where it sits: the same certificate scan in another
  PDF, or in the same PDF after a page was added in front of it, is not OCR-ed again. A run
  after a rules change re-reads no page.
- reports: a submission's report before the batch-level checks, by a key made of its input
  (the PDF's and the form's bytes, the file name, the layout problem), the options, the rules
  file's text and a fingerprint of all the checking code. A batch that was stopped, even by
  SIGKILL, and started again keeps what it had finished and checks only the rest.

Every process opens its own connection (WAL mode: the workers write pages while the batch
writes reports); a transaction is committed or not there, never half. Values are pickled:
the file is the staff's own, like the reports beside it, never one that was sent in.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import sqlite3
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .model import PageContent, Report

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, value BLOB NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS reports (key TEXT PRIMARY KEY, submission TEXT NOT NULL, value BLOB NOT NULL,
                                    created REAL NOT NULL);
"""
# Objects one page's hash may visit before the page is keyed by its document and number instead.
MAX_HASHED_OBJECTS = 50_000


def _pack(value: Any) -> bytes:
    return zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 3)


def _unpack(blob: bytes) -> Any:
    return pickle.loads(zlib.decompress(blob))


class Cache:
    """The SQLite file; safe to pickle into another process (it connects there on first use)."""

    def __init__(self, path: Path | str, reader_fp: str | None = None):
        self.path = Path(path)
        # Fixed where the cache is made and shipped with it to the workers: every page of a
        # batch is keyed alike even if the code on disk changes while it runs.
        self.reader_fp = reader_fp or reader_fingerprint()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __getstate__(self) -> dict:
        return {"path": self.path, "reader_fp": self.reader_fp}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        self.reader_fp = state["reader_fp"]
        self._conn, self._pid = None, 0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: nothing lost when a process is killed
            conn.executescript(SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    # --- pages ---

    def get_pages(self, keys: Sequence[str]) -> dict[str, PageContent]:
        if not keys:
            return {}
        out: dict[str, PageContent] = {}
        db = self._db()
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            rows = db.execute(f"SELECT key, value FROM pages WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            for key, blob in rows:
                try:
                    out[key] = _unpack(blob)
                except Exception:  # noqa: BLE001 - a row that cannot be read is a miss
                    log.warning("page cache: unreadable entry %s…, ignored", key[:12])
        return out

    def put_pages(self, items: dict[str, PageContent]) -> None:
        if not items:
            return
        now = time.time()
        rows = [(k, _pack(v), now) for k, v in items.items()]
        db = self._db()
        with _transaction(db):
            db.executemany("INSERT OR REPLACE INTO pages (key, value, created) VALUES (?, ?, ?)", rows)

    # --- reports ---

    def get_report(self, key: str) -> Report | None:
        row = self._db().execute("SELECT value FROM reports WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return _unpack(row[0])
        except Exception:  # noqa: BLE001 - checked again
            return None

    def put_report(self, key: str, report: Report) -> None:
        db = self._db()
        with _transaction(db):
            db.execute("INSERT OR REPLACE INTO reports (key, submission, value, created) VALUES (?, ?, ?, ?)",
                       (key, report.submission, _pack(report), time.time()))

    def counts(self) -> dict[str, int]:
        db = self._db()
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("pages", "reports")}


class _transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


# --- reading pages through the cache ----------------------------------------------------------


def read_pages_cached(cache: Cache, data: bytes, doc_sha256: str, numbers: Sequence[int], engine: Any, dpi: int,
                      reader: Callable[..., list[PageContent]]) -> list[PageContent]:
    """reader(data, engine, dpi=dpi, pages=[...]) for the pages not in the cache; the rest
    from it. The pages come back in the order asked, numbered as asked."""
    start = time.perf_counter()
    hashes = page_content_hashes(data, numbers, doc_sha256)
    keys = {n: page_key(h, engine, dpi, cache.reader_fp) for n, h in zip(numbers, hashes)}
    try:
        found = cache.get_pages(list(keys.values()))
    except sqlite3.Error as exc:
        log.warning("page cache unavailable (%s): reading every page", exc)
        found = {}
    missing = [n for n in numbers if keys[n] not in found]
    lookup_share = (time.perf_counter() - start) / max(1, len(numbers))
    read = {c.page: c for c in reader(data, engine, dpi=dpi, pages=missing)} if missing else {}
    if read:
        try:
            cache.put_pages({keys[n]: _renumbered(c, 0) for n, c in read.items()})
        except sqlite3.Error as exc:
            log.warning("page cache: could not store pages (%s)", exc)
    out = []
    for n in numbers:
        if n in read:
            out.append(read[n])
        else:
            out.append(replace(_renumbered(found[keys[n]], n), seconds=lookup_share))
    return out


def _renumbered(content: PageContent, number: int) -> PageContent:
    """The page as page `number` (0: as stored, position-free)."""
    lines = tuple(replace(line, page=number) for line in content.lines)
    return replace(content, page=number, lines=lines)


def page_key(content_hash: str, engine: Any, dpi: int, reader_fp: str | None = None) -> str:
    parts = (content_hash, getattr(engine, "name", "none"), getattr(engine, "version", "none"), str(dpi),
             reader_fp or reader_fingerprint())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def page_content_hashes(data: bytes, numbers: Sequence[int], doc_sha256: str) -> list[str]:
    """A hash of what each page draws: its dictionary (inherited attributes included, /Parent
    left out) and everything it refers to, streams by their stored bytes. A page that cannot
    be hashed within MAX_HASHED_OBJECTS objects is keyed by its document and number."""
    fallback = [f"doc:{doc_sha256}:{n}" for n in numbers]
    try:
        import pypdf

        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")
        root = reader.trailer["/Root"].get_object()
        hasher = _Hasher()
        extra = hasher.digest(root.get("/OCProperties")) if "/OCProperties" in root else b""
    except Exception:  # noqa: BLE001 - the parsers have read it once already; keep it simple
        return fallback
    out = []
    for n, fb in zip(numbers, fallback):
        try:
            page = reader.pages[n - 1]
            out.append("page:" + hashlib.sha256(hasher.digest(page) + extra).hexdigest())
        except Exception:  # noqa: BLE001 - RecursionError, budget, a broken object: position key
            out.append(fb)
    return out


class _Hasher:
    """Digests of pypdf objects by content (indirect objects memoised, cycles marked)."""

    def __init__(self) -> None:
        self.memo: dict[tuple[int, int], bytes] = {}
        self.visiting: set[tuple[int, int]] = set()
        self.visited = 0

    def digest(self, obj: Any) -> bytes:
        from pypdf.generic import (
            ArrayObject,
            DictionaryObject,
            IndirectObject,
            StreamObject,
        )

        self.visited += 1
        if self.visited > MAX_HASHED_OBJECTS:
            raise RuntimeError("too many objects")
        if isinstance(obj, IndirectObject):
            ident = (obj.idnum, obj.generation)
            if ident in self.memo:
                return self.memo[ident]
            if ident in self.visiting:
                return b"cycle"
            self.visiting.add(ident)
            try:
                value = self.digest(obj.get_object())
            finally:
                self.visiting.discard(ident)
            self.memo[ident] = value
            return value
        h = hashlib.sha256()
        if isinstance(obj, DictionaryObject):
            h.update(b"S" if isinstance(obj, StreamObject) else b"D")
            for key in sorted(obj.keys()):
                if key == "/Parent":
                    continue
                h.update(str(key).encode("utf-8", "surrogatepass") + b"=")
                h.update(self.digest(obj.raw_get(key)))
            if isinstance(obj, StreamObject):
                raw = getattr(obj, "_data", b"") or b""
                h.update(hashlib.sha256(raw if isinstance(raw, bytes) else str(raw).encode()).digest())
        elif isinstance(obj, ArrayObject):
            h.update(b"A%d" % len(obj))
            for item in obj:
                h.update(self.digest(item))
        elif isinstance(obj, bytes):
            h.update(b"B" + obj)
        else:
            h.update(type(obj).__name__.encode() + b":" + repr(obj).encode("utf-8", "surrogatepass"))
        return h.digest()


# --- fingerprints -----------------------------------------------------------------------------

_ROOT = Path(__file__).resolve().parent.parent
_SOURCE_SUFFIXES = (".py", ".toml", ".jsonl", ".txt")


def _tree_hash(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.suffix in _SOURCE_SUFFIXES)
        for f in files:
            if "__pycache__" in f.parts:
                continue
            try:
                h.update(str(f.relative_to(_ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
            except OSError:
                continue
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def reader_fingerprint() -> str:
    """The code a page's reading depends on: rendering, OCR, the marks on the image."""
    return _tree_hash(reader_sources())


def reader_sources() -> list[Path]:
    """pipeline/pages.py and the extractors (the marks are found with the page), and every
    pipeline module they import, directly or through another. Found from the imports, not
    listed: a module added to the reading (as reread.py once was) had left cached readings in
    place until someone listed it."""
    import ast

    pipeline = _ROOT / "pipeline"
    seen: list[Path] = []
    extractors = _ROOT / "extractors"
    todo = [pipeline / "pages.py"] + sorted(extractors.rglob("*.py"))
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.append(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:  # from .ocr import x, from . import ocr: relative to path's package
                    if path.parent == pipeline:
                        names = [node.module] if node.module else [a.name for a in node.names]
                elif (node.module or "").startswith("pipeline."):
                    names = [node.module.removeprefix("pipeline.")]
                elif node.module == "pipeline":
                    names = [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name.removeprefix("pipeline.") for a in node.names if a.name.startswith("pipeline.")]
            todo += [pipeline / f"{name.split('.')[0]}.py" for name in names]
    return sorted(p for p in seen if extractors not in p.parents) + [extractors]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """All the code a report depends on."""
    return _tree_hash([_ROOT / "pipeline", _ROOT / "extractors", _ROOT / "checks"])


def rules_text(rules_path: str | None) -> str:
    """The rules file's text as load_rules reads it."""
    if rules_path is None:
        from importlib import resources

        from checks.rules import DEFAULT_RULES

        return resources.files("checks.notices").joinpath(DEFAULT_RULES).read_text("utf-8")
    return Path(rules_path).read_text("utf-8")


def input_key(sid: str, pdf: bytes | None, form: bytes | None, pdf_name: str | None, problem: str | None,
              settings: str) -> str:
    """The key of one submission's report: its input and everything that shapes the check
    (settings: options, engine version, rules text hash, code fingerprint)."""
    h = hashlib.sha256()
    for part in (sid, pdf_name or "", problem or "", settings):
        h.update(part.encode("utf-8", "surrogatepass") + b"\x1f")
    for blob in (pdf, form):
        h.update(b"-" if blob is None else hashlib.sha256(blob).digest())
    return h.hexdigest()
