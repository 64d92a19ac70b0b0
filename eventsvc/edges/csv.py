"""Spreadsheets for organizers: semicolon-separated UTF-8 with a byte-order mark, which is
what German Excel opens cleanly, and no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask import Response

from eventsvc.domain.questions import answer_text, label

REGISTRATION_COLUMNS = [
    "id",
    "name",
    "email",
    "organization",
    "organization_key",
    "role",
    "status",
    "waitlist_position",
    "created_at",
    "attended",
    "checked_in_at",
]


def csv_response(
    rows: list[dict[str, Any]],
    filename: str,
    columns: Sequence[str] = REGISTRATION_COLUMNS,
    headers: Sequence[str] | None = None,
) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(header) for header in (headers or columns)])
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
        return str(value.strftime("%d.%m.%Y %H:%M"))
    text = str(value)
    # A cell starting like a formula would be run by the spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def answers_csv(
    rows: list[dict[str, Any]], questions: list[dict[str, Any]], filename: str, sessions: Sequence[str] = ()
) -> Response:
    """The registrations with one column per question, in the event's order (headed by the
    German label), then the keys of questions since removed whose answers are kept, then one
    column per session (`confirmed`, `waitlisted` or empty)."""
    current = [question["key"] for question in questions]
    removed = sorted({key for row in rows for key in (row.get("answers") or {}) if key not in current})
    by_key = {question["key"]: question for question in questions}
    headers = [label(by_key[key], "de") for key in current] + removed
    session_columns = [f"session.{key}" for key in sessions]
    columns = [*REGISTRATION_COLUMNS, *(f"answers.{key}" for key in current + removed), *session_columns]
    flat = [
        row
        | {
            f"answers.{key}": answer_text(by_key.get(key), (row.get("answers") or {}).get(key))
            for key in current + removed
        }
        | {
            f"session.{key}": next((c["status"] for c in row.get("sessions") or [] if c["key"] == key), None)
            for key in sessions
        }
        for row in rows
    ]
    return csv_response(flat, filename, columns, [*REGISTRATION_COLUMNS, *headers, *session_columns])
