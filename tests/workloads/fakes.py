"""Test doubles for the ingest unit tests: an in-memory blob container and PDF bytes.

The fake container implements only the ``ContainerClient`` calls that
``workloads.common.storage`` makes (list with metadata, download, upload, delete), with the
SDK's exception types; the integration tests run the same code against Azurite.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError


@dataclass
class _Blob:
    name: str
    metadata: dict[str, str]


@dataclass
class _Download:
    data: bytes

    def readall(self) -> bytes:
        return self.data


@dataclass
class FakeContainer:
    """Blobs by name; ``broken_uploads`` makes every upload raise a connection error."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    broken_uploads: bool = False

    def list_blobs(self, name_starts_with: str, include: list[str]) -> Iterator[_Blob]:
        for name in sorted(self.blobs):
            if name.startswith(name_starts_with):
                yield _Blob(name, self.metadata.get(name, {}))

    def download_blob(self, name: str) -> _Download:
        if name not in self.blobs:
            raise ResourceNotFoundError(f"no blob {name}")
        return _Download(self.blobs[name])

    def upload_blob(self, name: str, data: bytes, overwrite: bool = False, **_: Any) -> None:
        if self.broken_uploads:
            raise ServiceRequestError("connection refused")
        assert overwrite, "ingest always overwrites"
        self.blobs[name] = data

    def delete_blob(self, name: str) -> None:
        if name not in self.blobs:
            raise ResourceNotFoundError(f"no blob {name}")
        del self.blobs[name]

    def under(self, prefix: str) -> dict[str, bytes]:
        return {k: v for k, v in self.blobs.items() if k.startswith(prefix)}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (Helvetica) showing ``lines``; no lines gives a page without text."""
    shown = " ".join(f"({_escape(line)}) '" for line in lines)
    content = f"BT /F1 12 Tf 72 720 Td 14 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    table = "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += (
        f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n{table}"
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("latin-1")
    return out
