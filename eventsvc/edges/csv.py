"""Spreadsheets for organizers: semicolon-separated UTF-8 with a byte-order mark, which is
what German Excel opens cleanly, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask import Response

REGISTRATION_COLUMNS = [
    "id",
    "name",
    "email",
    "organization",
    "role",
    "status",
    "waitlist_position",
    "created_at",
    "attended",
    "checked_in_at",
]


def csv_response(rows: list[dict], filename: str, columns: Sequence[str] = REGISTRATION_COLUMNS) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in columns])
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if hasattr(value, "strftime"):
        return value.strftime("%d.%m.%Y %H:%M")
    text = str(value)
    # A cell starting like a formula would be run by the spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
