"""From a blob's bytes to the chunks that get embedded: text extraction and chunking.

Text and Markdown are decoded as strict UTF-8 (a BOM is dropped); PDFs go through pypdf's text
extraction, page by page (a scanned PDF without a text layer has no text and is rejected, not
OCR'd). Chunks are measured in **characters**, not model tokens: the default embedder has no
tokenizer, and a character budget means the same thing for every embedder (about four
characters per English token for the usual sentence-embedding vocabularies).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from pypdf import PdfReader

TEXT_TYPES = {".txt": "text/plain", ".text": "text/plain", ".md": "text/markdown"}
TEXT_TYPES[".markdown"] = "text/markdown"
PDF_TYPES = {".pdf": "application/pdf"}
# A document larger than this is refused instead of exhausting the job's memory limit.
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
_WORD = re.compile(r"\w")
_WHITESPACE = re.compile(r"\s")

# pypdf logs every recoverable oddity of a PDF as a warning; the job's log is for its own.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class DocumentError(Exception):
    """A document that cannot be ingested, and the pipeline stage that refused it."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


@dataclass(frozen=True)
class Extracted:
    """The text of one document."""

    text: str
    content_type: str


def content_type(name: str) -> str | None:
    """The supported content type of a blob name (by suffix), or None."""
    suffix = PurePosixPath(name).suffix.lower()
    return TEXT_TYPES.get(suffix) or PDF_TYPES.get(suffix)


def _pdf_text(data: bytes) -> str:
    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf raises many types for broken files; all mean "unreadable"
        raise DocumentError("read", f"not a readable PDF: {type(exc).__name__}: {exc}") from exc


def extract(name: str, data: bytes) -> Extracted:
    """The text of ``data`` (a blob named ``name``), normalised; :class:`DocumentError` if the
    type is unsupported, the bytes are unreadable or there is no text."""
    kind = content_type(name)
    if kind is None:
        supported = ", ".join(sorted({*TEXT_TYPES, *PDF_TYPES}))
        raise DocumentError("validate", f"unsupported file type (supported: {supported})")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError("validate", f"{len(data)} bytes is over {MAX_DOCUMENT_BYTES}")
    if kind in PDF_TYPES.values():
        text = _pdf_text(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError("read", f"not UTF-8 text: {exc}") from exc
    # PostgreSQL text cannot hold NUL; Windows and old Mac line ends become newlines.
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not _WORD.search(text):
        raise DocumentError("validate", "no text to embed")
    return Extracted(text=text, content_type=kind)


def _word_boundary_before(text: str, low: int, high: int) -> int:
    """The last whitespace index in ``text[low:high]``, or ``high`` when there is none."""
    for index in range(high - 1, low - 1, -1):
        if _WHITESPACE.match(text, index):
            return index
    return high


def _word_start_after(text: str, start: int, high: int) -> int:
    """``start`` moved forward to the next word start before ``high`` (unchanged if none)."""
    if start == 0 or _WHITESPACE.match(text, start - 1):
        return start
    for index in range(start, high):
        if _WHITESPACE.match(text, index):
            return index + 1
    return start


def chunk(text: str, size: int, overlap: int) -> list[str]:
    """Windows of at most ``size`` characters; each starts ``overlap`` characters (or up to the
    next word start after that) before the previous one ended.

    A window ends at the last whitespace after its first ``overlap`` characters, so words are
    not cut unless a single word is longer than that; windows without any word character are
    dropped. Deterministic: the same text always gives the same chunks (hence the same ids).
    """
    if not 0 <= overlap < size:
        raise ValueError(f"overlap ({overlap}) must be 0..{size - 1}")
    chunks: list[str] = []
    start, length = 0, len(text)
    while start < length:
        end = min(start + size, length)
        if end < length:
            # Never cut back into the overlap: the next window must start after this one did.
            end = _word_boundary_before(text, start + overlap + 1, end)
        piece = text[start:end].strip()
        if _WORD.search(piece):
            chunks.append(piece)
        if end >= length:
            break
        start = _word_start_after(text, end - overlap, end)
    return chunks
