"""Bounds on what one file may cost, checked before the parsers pay for it.

A hostile or broken PDF can cost minutes or gigabytes in the parsers long before any page is
read: a stream that inflates to gigabytes (a decompression bomb), an image declared
50000 x 50000 pixels, a page tree of a million pages (a few KB: every level's Kids name the
same node again), a reference that refers to itself (pdfminer resolves it forever), a page of
hundreds of thousands of operators (pdfminer parses about 15000 a second). Each is refused or
worked around here, cheaply and the same way every time, so that a report never depends on
how loaded the machine was:

- preflight(data): a scan of the raw bytes (it works on files whose cross-reference table is
  broken, as the parsers' own recovery does): every Flate stream but images is inflated up to
  a cap without keeping the output, images are judged by their declared size, chains of bare
  references are followed for a loop.
- check_page_tree(reader): the page tree walked before pypdf flattens it: loops, depth, and
  a number of pages past which a file is not opened at all.
- page_too_complex(page): a page whose content (with its form XObjects) is too long or holds
  too many operators is not parsed for a text layer; it is rendered (pdfium is fast on these)
  and OCR-ed like a scan instead.

Whatever gets past these is bounded by the batch's per-document time and memory limits
(pipeline.parallel): a worker process over either is killed and replaced.
"""

from __future__ import annotations

import re
import resource
import zlib
from dataclasses import dataclass
from typing import Any

from .errors import ResourceLimit, UnreadablePdf

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileLimits:
    # A stream other than an image (content, font, object stream, attachment) inflated past this.
    max_stream_bytes: int = 128 * MB
    # All such streams of a file together.
    max_inflated_bytes: int = 512 * MB
    # An image declared larger than this (a 600 dpi A3 scan is 70 Mpx, a 108 MP photo 108 Mpx).
    max_image_pixels: int = 250_000_000
    # Pages a file may have at all (the notice allows 15; a 2000-page file is still read in part
    # and reported PAGE_LIMIT_EXCEEDED).
    max_pages: int = 5000
    max_tree_depth: int = 64
    # Content of one page, its form XObjects included, parsed for a text layer at most.
    max_page_content_bytes: int = 2 * MB
    max_page_operators: int = 30_000


LIMITS = FileLimits()

# "stream" at the end of a stream's dictionary, not the tail of "endstream".
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_FLATE = re.compile(rb"/FlateDecode|/Fl\b")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_WIDTH = re.compile(rb"/Width\s+(\d+)(?!\d|\s+\d+\s+R)")
_HEIGHT = re.compile(rb"/Height\s+(\d+)(?!\d|\s+\d+\s+R)")
# "obj" first: a literal prefix the regex engine scans for quickly (10 MB in a few ms).
_BARE_REF = re.compile(rb"obj\s*(\d{1,10})\s+(\d{1,5})\s+R\s*endobj")
_OBJ_NUMBER = re.compile(rb"(?<![\d.])(\d{1,10})\s+(\d{1,5})\s+$")
_INFLATE_CHUNK = 16 * MB


def preflight(data: bytes, limits: FileLimits = LIMITS) -> None:
    """Refuse, from the raw bytes, a file that would cost the parsers minutes or gigabytes."""
    _check_reference_loops(data)
    total = 0
    pos = 0
    while True:
        m = _STREAM.search(data, pos)
        if m is None:
            break
        start = m.end()
        end = data.find(b"endstream", start)
        if end < 0:
            end = len(data)
        head = _dictionary_before(data, m.start())
        if _IMAGE.search(head):
            _check_image(head, limits)
        elif _FLATE.search(head):
            total += _inflated_size(data[start:end], limits.max_stream_bytes)
            if total > limits.max_inflated_bytes:
                raise ResourceLimit(f"压缩数据解压后共超过{limits.max_inflated_bytes // MB}MB（疑似解压炸弹）")
        pos = end + 9


def _dictionary_before(data: bytes, stream_at: int) -> bytes:
    """The stream's dictionary: from the last "obj" keyword before it (4 KB at most)."""
    lo = max(0, stream_at - 4096)
    obj = data.rfind(b"obj", lo, stream_at)
    return data[obj if obj >= 0 else lo : stream_at]


def _check_image(head: bytes, limits: FileLimits) -> None:
    w, h = _WIDTH.search(head), _HEIGHT.search(head)
    if w and h and int(w[1]) * int(h[1]) > limits.max_image_pixels:
        raise ResourceLimit(f"PDF中有尺寸过大的图片（{int(w[1])}×{int(h[1])}像素）")


def _inflated_size(raw: bytes, cap: int) -> int:
    """Bytes the zlib data inflates to, counted without keeping them; ResourceLimit past cap.
    Data that is not zlib (encrypted, or not Flate after all) counts as what it inflated to
    before the error: the parsers will judge it."""
    d = zlib.decompressobj()
    total = 0
    buf = raw
    try:
        while True:
            out = d.decompress(buf, _INFLATE_CHUNK)
            total += len(out)
            if total > cap:
                raise ResourceLimit(f"压缩数据解压后超过{cap // MB}MB（疑似解压炸弹）")
            buf = d.unconsumed_tail
            if d.eof or (not buf and len(out) < _INFLATE_CHUNK):
                break
    except zlib.error:
        pass
    return total


def _check_reference_loops(data: bytes) -> None:
    """An object whose value is a reference to an object whose value is a reference ... back
    to the first: pdfminer follows such a chain forever."""
    bare = {}
    for m in _BARE_REF.finditer(data):
        number = _OBJ_NUMBER.search(data, max(0, m.start() - 24), m.start())
        if number is not None:
            bare[(int(number[1]), int(number[2]))] = (int(m[1]), int(m[2]))
    for start in bare:
        seen = {start}
        ref = bare[start]
        while ref in bare:
            if ref in seen:
                raise UnreadablePdf("对象引用存在循环")
            seen.add(ref)
            ref = bare[ref]


# --- the page tree -----------------------------------------------------------------------


def check_page_tree(reader: Any, limits: FileLimits = LIMITS) -> int:
    """Walk a pypdf reader's page tree before it is flattened: UnreadablePdf for a loop or a
    tree nested too deep, ResourceLimit past limits.max_pages pages. Returns the pages counted."""
    root = reader.trailer["/Root"].get_object()
    top = root.raw_get("/Pages") if hasattr(root, "raw_get") else root["/Pages"]
    count = 0

    def walk(ref: Any, depth: int, ancestors: frozenset) -> None:
        nonlocal count
        ident = getattr(ref, "idnum", None)
        if ident is not None and ident in ancestors:
            raise UnreadablePdf("页面树存在循环引用")
        if depth > limits.max_tree_depth:
            raise UnreadablePdf("页面树嵌套过深")
        node = ref.get_object()
        kids = node.get("/Kids") if hasattr(node, "get") else None
        if kids is None or node.get("/Type") == "/Page":
            count += 1
            if count > limits.max_pages:
                raise ResourceLimit(f"PDF页数超过可处理的上限{limits.max_pages}页")
            return
        inner = ancestors | {ident} if ident is not None else ancestors
        for kid in kids.get_object():
            walk(kid, depth + 1, inner)

    walk(top, 0, frozenset())
    return count


# --- one page's content ------------------------------------------------------------------

# Operators (not names, numbers or strings' brackets): a run of letters, ' or " or *.
_OPERATOR = re.compile(rb"(?<![/\w.#])[A-Za-z'\"][A-Za-z*'\"01]*")
_INLINE_IMAGE = re.compile(rb"\bBI\b.*?\bID\b.*?\bEI\b", re.DOTALL)


def page_too_complex(page: Any, limits: FileLimits = LIMITS) -> bool:
    """Whether a pdfplumber page's content is too long or holds too many operators to be parsed
    for its text layer (pdfminer would take many seconds). Form XObjects count too."""
    from pdfminer.pdftypes import PDFStream, resolve1

    size = ops = 0
    seen: set[int] = set()

    def visit(streams: list, resources: Any, depth: int) -> bool:
        nonlocal size, ops
        for s in streams:
            s = resolve1(s)
            if not isinstance(s, PDFStream):
                continue
            data = s.get_data() or b""
            size += len(data)
            if size > limits.max_page_content_bytes:
                return True
            ops += len(_OPERATOR.findall(_INLINE_IMAGE.sub(b" ", data)))
            if ops > limits.max_page_operators:
                return True
        if depth > 8:
            return False
        res = resolve1(resources)
        xobjects = resolve1(res.get("XObject")) if isinstance(res, dict) else None
        for ref in (xobjects.values() if isinstance(xobjects, dict) else ()):
            ident = getattr(ref, "objid", None)
            if ident is not None and ident in seen:
                continue
            if ident is not None:
                seen.add(ident)
            x = resolve1(ref)
            if isinstance(x, PDFStream) and _name(x.get("Subtype")) == "Form":
                if visit([x], x.get("Resources"), depth + 1):
                    return True
        return False

    try:
        obj = page.page_obj
        return visit(list(obj.contents or []), obj.resources, 0)
    except (RecursionError, MemoryError):
        return True
    except Exception:  # noqa: BLE001 - let the parser meet (and report) what this could not read
        return False


def _name(value: Any) -> str:
    return str(getattr(value, "name", value or ""))


# --- a process's memory --------------------------------------------------------------------


def status_kb(field: str, pid: int | str = "self") -> int | None:
    """A field of /proc/PID/status in KB (VmRSS, VmSize, VmHWM), None where there is none."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def limit_address_space(extra_bytes: int) -> int | None:
    """Cap this process's address space at what it uses now plus extra_bytes (RLIMIT_AS): an
    allocation past it fails (MemoryError in Python) instead of taking the machine's memory.
    Returns the cap, or None where it cannot be set."""
    vm = status_kb("VmSize")
    if vm is None:
        return None
    cap = vm * 1024 + extra_bytes
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):
        return None
    return cap
