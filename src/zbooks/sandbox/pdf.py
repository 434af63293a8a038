"""A tiny, dependency-free PDF 1.4 writer for the sandbox's document downloads.

It writes real PDFs (catalog, page tree, one content stream per page, the standard
Courier font, a correct cross-reference table) that any viewer opens, because SDK code
that saves ``?accept=pdf`` responses deserves bytes that are actually a PDF. Text only:
a fixed-width font keeps columns aligned without font metrics.
"""

from __future__ import annotations

from collections.abc import Sequence

PAGE_WIDTH = 595  # A4 in points
PAGE_HEIGHT = 842
MARGIN = 48
FONT_SIZE = 10
LEADING = 13
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
MAX_COLUMNS = 88  # characters of Courier 10pt across the printable width


def _escape(text: str) -> bytes:
    """A PDF literal string body: Latin-1 only, with ``\\``, ``(`` and ``)`` escaped."""
    safe = text.encode("latin-1", errors="replace")
    return safe.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrap(lines: Sequence[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        clean = line.replace("\t", "    ").replace("\r", "")
        for part in clean.split("\n") or [""]:
            while len(part) > MAX_COLUMNS:
                out.append(part[:MAX_COLUMNS])
                part = part[MAX_COLUMNS:]
            out.append(part)
    return out


def _paginate(documents: Sequence[Sequence[str]]) -> list[list[str]]:
    """Each document starts on a new page; long documents continue on more pages."""
    pages: list[list[str]] = []
    for lines in documents:
        wrapped = _wrap(lines) or [""]
        for start in range(0, len(wrapped), LINES_PER_PAGE):
            pages.append(wrapped[start : start + LINES_PER_PAGE])
    return pages or [[""]]


def _content(lines: Sequence[str], page_no: int, page_count: int) -> bytes:
    top = PAGE_HEIGHT - MARGIN
    parts = [b"BT", f"/F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {top} Td".encode()]
    for line in lines:
        parts.append(b"(" + _escape(line) + b") Tj T*")
    parts.append(b"ET")
    footer = f"Page {page_no} of {page_count}"
    parts.append(
        f"BT /F1 8 Tf {PAGE_WIDTH - MARGIN - 6 * len(footer)} {MARGIN // 2} Td".encode()
        + b" ("
        + _escape(footer)
        + b") Tj ET"
    )
    return b"\n".join(parts)


def render(documents: Sequence[Sequence[str]], *, title: str = "") -> bytes:
    """A PDF with each document (a list of text lines) starting on its own page."""
    pages = _paginate(documents)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled once the page tree number is known
    pages_ref = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>")
    info = add(b"<< /Producer (zbooks sandbox) /Title (" + _escape(title) + b") >>")
    kids: list[int] = []
    for number, lines in enumerate(pages, start=1):
        stream = _content(lines, number, len(pages))
        content = add(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_ref} 0 R /MediaBox [0 0 {PAGE_WIDTH} "
                f"{PAGE_HEIGHT}] /Resources << /Font << /F1 {font} 0 R >> >> "
                f"/Contents {content} 0 R >>".encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_ref} 0 R >>".encode()
    kid_refs = " ".join(f"{k} 0 R" for k in kids)
    objects[pages_ref - 1] = f"<< /Type /Pages /Kids [{kid_refs}] /Count {len(kids)} >>".encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{index} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
        f"startxref\n{xref_at}\n%%EOF"
    ).encode()
    return bytes(out)
