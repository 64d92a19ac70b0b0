"""Printable documents: certificates of attendance and the sign-in sheet, from HTML templates
to tagged PDF (PDF/UA-1: a structure tree, the document's language and title, embedded
fonts with Unicode mapping, so that screen readers read them and text can be copied).

WeasyPrint needs Pango from the operating system. It is imported when the first PDF is
made, so that the rest of the service runs where Pango is missing; a PDF asked for there
fails with PdfUnavailable.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from eventsvc.domain.certificates import Certificate, SheetRow

TEMPLATES = Path(__file__).parent / "templates"
# Blank rows at the end of a sign-in sheet, for people who come unannounced.
WALK_IN_ROWS = 10


class PdfUnavailable(RuntimeError):
    """The PDF library or the system libraries it needs (Pango) are not installed."""


def certificate_pdf(certificate: Certificate) -> bytes:
    return _pdf(
        _environment().get_template("certificate.html").render(c=certificate, text=LABELS[certificate.language])
    )


def certificates_zip(certificates: Iterable[Certificate]) -> Iterator[bytes]:
    """Every certificate as its own PDF, named by number and name, in one ZIP, handed out
    piece by piece as each PDF is made: a download of hundreds starts at once. The first
    certificate is made before anything is handed out, so that a missing Pango fails the
    request rather than a download already under way."""
    certificates = iter(certificates)
    first = next(certificates, None)
    ready = [(first, certificate_pdf(first))] if first is not None else []
    return _zip_pieces(ready, certificates)


def _zip_pieces(ready: list[tuple[Certificate, bytes]], rest: Iterator[Certificate]) -> Iterator[bytes]:
    buffer = _Pieces()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for certificate, data in ready:
            archive.writestr(file_name(certificate), data)
            yield buffer.take()
        for certificate in rest:
            archive.writestr(file_name(certificate), certificate_pdf(certificate))
            yield buffer.take()
    yield buffer.take()


class _Pieces(io.RawIOBase):
    """A write-only stream for ZipFile that hands out what was written since it was last asked."""

    def __init__(self) -> None:
        self._written = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:  # io.RawIOBase takes any buffer; WeasyPrint writes bytes
        self._written += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        piece, self._written = bytes(self._written), bytearray()
        return piece


def file_name(certificate: Certificate) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in certificate.name.replace(" ", "_"))
    return f"{certificate.number}_{safe}.pdf"


def attendance_sheet_pdf(title: str, when: str, location: str | None, rows: list[SheetRow]) -> bytes:
    html = (
        _environment()
        .get_template("attendance-sheet.html")
        .render(title=title, when=when, location=location, rows=rows, blank_rows=WALK_IN_ROWS)
    )
    return _pdf(html)


def report_pdf(
    title: str, when: str, figures: dict[str, Any], charts: dict[str, str], kind_names: dict[str, str]
) -> bytes:
    """The report of an event, with its charts (SVG) and their figures, for the press."""
    import base64

    images = {
        name: "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode() for name, svg in charts.items()
    }
    html = (
        _environment()
        .get_template("report.html")
        .render(title=title, when=when, figures=figures, images=images, kind_names=kind_names)
    )
    return _pdf(html)


def _pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as error:  # OSError: Pango's shared libraries are missing
        raise PdfUnavailable(f"PDF rendering is not available here: {error}") from error
    # The stylesheet is referenced relative to the templates folder.
    document: bytes = HTML(string=html, base_url=str(TEMPLATES) + "/").write_pdf(pdf_variant="pdf/ua-1")
    return document


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


LABELS = {
    "de": {
        "title": "Teilnahmebescheinigung",
        "confirms": "Hiermit wird bescheinigt, dass",
        "of": "von",
        "attended": "an der Fachveranstaltung",
        "took_part": "teilgenommen hat.",
        "when": "Termin",
        "where": "Ort",
        "hours": "Umfang",
        "hours_unit": "Zeitstunden",
        "topics": "Inhalte",
        "sessions": "Besuchte Arbeitsgruppen und Foren",
        "number": "Bescheinigungsnummer",
        "issued": "Ausgestellt am",
        "signature": "Unterschrift",
    },
    "en": {
        "title": "Certificate of attendance",
        "confirms": "This is to certify that",
        "of": "of",
        "attended": "attended the workshop",
        "took_part": "",
        "when": "Date",
        "where": "Place",
        "hours": "Duration",
        "hours_unit": "hours",
        "topics": "Topics",
        "sessions": "Sessions attended",
        "number": "Certificate number",
        "issued": "Issued on",
        "signature": "Signature",
    },
}
