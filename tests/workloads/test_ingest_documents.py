"""Text extraction and chunking of the ingest workload."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.workloads.fakes import text_pdf
from workloads.ingest.documents import DocumentError, chunk, extract

PROSE = (
    "Retrieval augmented generation needs the right passages. The platform chunks each "
    "document, embeds every chunk and stores the vectors next to the text they came from. "
    "Queries are embedded the same way and the nearest chunks are returned first."
)


@pytest.mark.parametrize(
    ("name", "data", "text", "kind"),
    [
        ("notes.txt", b"plain text\r\nline two", "plain text\nline two", "text/plain"),
        ("README.MD", "\ufeff# Title\n\nbody".encode(), "# Title\n\nbody", "text/markdown"),
        ("team/guide.markdown", b"  spaced\x00 out  ", "spaced out", "text/markdown"),
        ("report.pdf", text_pdf(["Quarterly (draft)", "revenue grew"]), None, "application/pdf"),
    ],
)
def test_extract_returns_normalised_text_for_supported_type(
    name: str, data: bytes, text: str | None, kind: str
) -> None:
    extracted = extract(name, data)

    assert extracted.content_type == kind
    if text is not None:
        assert extracted.text == text
    else:
        assert extracted.text.splitlines() == ["Quarterly (draft)", "revenue grew"]


@pytest.mark.parametrize(
    ("name", "data", "stage", "message"),
    [
        ("latin1.txt", "café crème".encode("latin-1"), "read", "not UTF-8 text"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "read", "not a readable PDF"),
        ("truncated.pdf", text_pdf(["some text"])[:150], "read", "not a readable PDF"),
        ("scan.pdf", text_pdf([]), "validate", "no text to embed"),
        ("empty.md", b"  \n\t ", "validate", "no text to embed"),
        ("punctuation.txt", b"--- *** ---", "validate", "no text to embed"),
        ("image.png", b"\x89PNG\r\n", "validate", "unsupported file type"),
        ("no-suffix", b"text", "validate", "unsupported file type"),
    ],
)
def test_extract_rejects_document_with_stage_when_malformed(
    name: str, data: bytes, stage: str, message: str
) -> None:
    with pytest.raises(DocumentError, match=message) as caught:
        extract(name, data)

    assert caught.value.stage == stage


def test_extract_rejects_document_when_over_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workloads.ingest.documents.MAX_DOCUMENT_BYTES", 10)

    with pytest.raises(DocumentError, match="11 bytes is over 10") as caught:
        extract("big.txt", b"hello world")

    assert caught.value.stage == "validate"


def test_chunk_keeps_whole_text_in_one_chunk_when_shorter_than_size() -> None:
    assert chunk("short text", 100, 20) == ["short text"]


def test_chunk_windows_respect_size_and_overlap_and_cut_at_words() -> None:
    chunks = chunk(PROSE, 80, 20)

    assert len(chunks) > 3
    assert all(len(piece) <= 80 for piece in chunks)
    words = set(PROSE.split())
    # Every chunk starts and ends on a whole word of the text.
    for piece in chunks:
        assert piece.split()[0] in words
        assert piece.split()[-1] in words
    # Consecutive chunks share text (the overlap), and together they cover the document.
    for before, after in itertools.pairwise(chunks):
        assert after.split()[0] in before.split()[-4:]
    assert chunks[0].startswith("Retrieval")
    assert chunks[-1].endswith("returned first.")


def test_chunk_without_overlap_partitions_words() -> None:
    chunks = chunk(PROSE, 60, 0)

    assert " ".join(chunks).split() == PROSE.split()


def test_chunk_cuts_inside_word_only_when_word_longer_than_window() -> None:
    assert chunk("a" * 25, 10, 2) == ["a" * 10, "a" * 10, "a" * 9]


def test_chunk_is_deterministic() -> None:
    assert chunk(PROSE, 70, 15) == chunk(PROSE, 70, 15)


def test_chunk_refuses_overlap_not_below_size() -> None:
    with pytest.raises(ValueError, match="overlap"):
        chunk(PROSE, 50, 50)


# No deadline: the machines running the suite are shared and loaded.
@settings(deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n."), max_size=400),
    size=st.integers(min_value=2, max_value=60),
    data=st.data(),
)
def test_chunk_terminates_and_bounds_every_chunk(text: str, size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(min_value=0, max_value=size - 1))

    chunks = chunk(text, size, overlap)

    assert all(0 < len(piece) <= size for piece in chunks)
    # Nothing is lost: every word character of the text is in some chunk.
    assert set("".join(chunks)) >= set(text) & {"a", "b"}
