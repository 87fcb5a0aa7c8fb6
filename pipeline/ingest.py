"""Safe opening of an uploaded file: is it a PDF, can it be read, how many pages."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

from .errors import EncryptedPdf, NotAPdf, UnreadablePdf
from .limits import check_page_tree, preflight

log = logging.getLogger(__name__)

MAX_BYTES = 200 * 1024 * 1024
# The header may sit anywhere in the first 1024 bytes (PDF 32000-1, 7.5.2 as readers apply it).
_HEADER_WINDOW = 1024
_EOF_WINDOW = 2048
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG图片"),
    (b"\x89PNG", "PNG图片"),
    (b"PK\x03\x04", "ZIP压缩包或Word/Excel文档"),
    (b"\xd0\xcf\x11\xe0", "旧版Word/Excel文档"),
    (b"GIF8", "GIF图片"),
    (b"II*\x00", "TIFF图片"),
    (b"MM\x00*", "TIFF图片"),
    (b"Rar!", "RAR压缩包"),
)


@dataclass(frozen=True, slots=True)
class PdfDocument:
    data: bytes
    sha256: str
    pages: int
    was_encrypted: bool  # owner password only: opened with the empty user password


def sniff(data: bytes) -> str | None:
    """What the bytes are when they are not a PDF (Chinese), or None for a PDF."""
    if b"%PDF-" in data[:_HEADER_WINDOW]:
        return None
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return f"实际是{what}"
    return "文件开头没有PDF标识" if data else "文件为空"


def open_pdf(data: bytes, max_bytes: int = MAX_BYTES) -> PdfDocument:
    """Identify by bytes, refuse what cannot be read, count pages."""
    if len(data) > max_bytes:
        raise UnreadablePdf(f"文件大小超过{max_bytes // (1024 * 1024)}MB")
    what = sniff(data)
    if what is not None:
        raise NotAPdf(what)
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise UnreadablePdf("文件不完整（缺少结束标记），可能上传中断")
    preflight(data)  # bombs, huge images, reference loops: refused before a parser pays for them
    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if encrypted and not reader.decrypt(""):
            raise EncryptedPdf()
        check_page_tree(reader)  # loops and million-page trees, before pypdf flattens the tree
        pages = len(reader.pages)
    except (EncryptedPdf, NotAPdf):
        raise
    except FileNotDecryptedError:
        raise EncryptedPdf() from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError, OSError, AssertionError) as exc:
        log.debug("pypdf could not read the file: %s", type(exc).__name__)
        raise UnreadablePdf("文件结构损坏") from None
    if pages == 0:
        raise UnreadablePdf("PDF中没有页面")
    return PdfDocument(data, hashlib.sha256(data).hexdigest(), pages, encrypted)
