"""The report of an event and of a series, for the press release and the statistics."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import report
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.openapi import json_or_csv
from eventsvc.edges.csv import csv_response
from eventsvc.edges.presenters import local
from eventsvc.edges.schemas import EventReportSchema, ReportQuerySchema, SeriesReportSchema
from eventsvc.edges.shared import REPORT_CSV_COLUMNS, report_rows, series_key


@admin.route("/events/<id:event_id>/report", methods=["GET"])
@admin.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, EventReportSchema)
@admin.doc(
    security=SECURITY,
    responses=json_or_csv(EventReportSchema, "The report; with `?format=csv`, its tables as one spreadsheet"),
)
def event_report(query: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Registered, confirmed, attended, no-shows, cancelled, everyone ever waitlisted,
    organizations attending; by role, kind of organization and region; per session; and the
    press release's sentence in German and English."""
    with unit_of_work(writes=False) as session:
        figures = report.counts(session, event_service.get_event(session, event_id, public=False))
    if query["format"] == "csv":
        return csv_response(report_rows(figures), f"report-{event_id}.csv", REPORT_CSV_COLUMNS)
    return figures


@admin.route("/series/<key>/report", methods=["GET"])
@admin.response(200, SeriesReportSchema)
@admin.doc(security=SECURITY)
def series_report(key: str) -> ResponseReturnValue:
    """The series' events side by side, oldest first."""
    with unit_of_work(writes=False) as session:
        found = report.series_report(session, series_key(key))
    for entry in found["events"]:
        entry["starts_at"] = local(entry["starts_at"], entry.pop("timezone"))
    return found
