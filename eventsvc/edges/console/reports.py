"""The report of an event (figures, the press sentence, charts with their tables, CSV and
PDF), the series page comparing its events, and the feedback's results."""

from __future__ import annotations

from typing import Any, Optional

from flask import Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from eventsvc import pdf
from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import feedback, questions, report
from eventsvc.domain.errors import Unavailable
from eventsvc.domain.models import Event
from eventsvc.edges import charts
from eventsvc.edges.console.common import console
from eventsvc.edges.csv import csv_response
from eventsvc.edges.shared import REPORT_CSV_COLUMNS, report_rows, series_key
from eventsvc.formatting import event_when

KIND_NAMES = {
    "gemeinde": "Gemeinde",
    "stadt": "Stadt",
    "landkreis": "Landkreis",
    "land": "Land",
    "verband": "Verband",
    "other": "andere",
}


def _figures(event_id: int) -> tuple[Any, ...]:
    with unit_of_work(writes=False) as db_session:
        event = event_service.get_event(db_session, event_id, public=False)
        return event, report.counts(db_session, event), report.seats_over_time(db_session, event)


def _grouped_chart(title: str, rows: list[dict[str, Any]], name: str) -> str:
    labels = [_label(row[name], name) for row in rows]
    return charts.bars(
        title,
        labels,
        {_("angemeldet"): [row["registered"] for row in rows], _("angekommen"): [row["attended"] for row in rows]},
    )


def _label(value: Optional[str], name: str) -> str:
    if value is None:
        return str(_("ohne Angabe"))
    return KIND_NAMES.get(value, value) if name == "kind" else str(value)


CHARTS = {
    "roles": ("by_role", "role"),
    "kinds": ("by_kind", "kind"),
    "regions": ("by_region", "region"),
}


def _chart(event: Event, figures: dict[str, Any], days: list[dict[str, Any]], which: str) -> str:
    if which == "seats":
        return charts.lines(
            _("Anmeldungen, Stornierungen und Warteliste"),
            [day["day"] for day in days],
            {
                _("Anmeldungen"): [day["registrations"] for day in days],
                _("Stornierungen"): [day["cancellations"] for day in days],
                _("Warteliste"): [day["waiting"] for day in days],
            },
        )
    table, name = CHARTS[which]
    titles = {"roles": _("Nach Funktion"), "kinds": _("Nach Art der Organisation"), "regions": _("Nach Region")}
    return _grouped_chart(titles[which], figures[table], name)


@console.get("/events/<id:event_id>/report")
@login_required
def event_report(event_id: int) -> ResponseReturnValue:
    event, figures, days = _figures(event_id)
    return render_template(
        "console/report.html", event=event, figures=figures, days=days, kind_names=KIND_NAMES, charts=CHARTS
    )


@console.get("/events/<id:event_id>/report/<any(roles, kinds, regions, seats):which>.svg")
@login_required
def report_chart(event_id: int, which: str) -> ResponseReturnValue:
    event, figures, days = _figures(event_id)
    return _svg(_chart(event, figures, days, which))


def _svg(body: str) -> Response:
    response = Response(body, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = charts.SVG_POLICY
    return response


@console.get("/events/<id:event_id>/report.csv")
@login_required
def report_csv(event_id: int) -> ResponseReturnValue:
    _event, figures, _days = _figures(event_id)
    return csv_response(report_rows(figures), f"report-{event_id}.csv", REPORT_CSV_COLUMNS)


@console.get("/events/<id:event_id>/report.pdf")
@login_required
def report_pdf(event_id: int) -> ResponseReturnValue:
    """The report to attach to the press release: tagged PDF, charts and their figures."""
    event, figures, days = _figures(event_id)
    drawn = {which: _chart(event, figures, days, which) for which in (*CHARTS, "seats")}
    try:
        body = pdf.report_pdf(
            event.title,
            event_when(event.starts_at, event.ends_at, event.timezone, "de"),
            figures,
            drawn,
            KIND_NAMES,
        )
    except pdf.PdfUnavailable as error:
        raise Unavailable(str(error)) from error
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="bericht-{event_id}.pdf"'
    return response


@console.get("/series/<key>")
@login_required
def series(key: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        found = report.series_report(db_session, series_key(key))
    return render_template("console/series.html", found=found)


@console.get("/events/<id:event_id>/feedback")
@login_required
def feedback_results(event_id: int) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        event = event_service.get_event(db_session, event_id, public=False)
        if not event.feedback:
            abort(404)
        found = feedback.results(db_session, event)
    return render_template("console/feedback.html", event=event, found=found, label=questions.label)


@console.get("/events/<id:event_id>/feedback/<key>.svg")
@login_required
def feedback_chart(event_id: int, key: str) -> ResponseReturnValue:
    with unit_of_work(writes=False) as db_session:
        event = event_service.get_event(db_session, event_id, public=False)
        found = feedback.results(db_session, event) if event.feedback else {"questions": []}
    entry = next((q for q in found["questions"] if q["key"] == key and q["counts"]), None)
    if entry is None:
        abort(404)
    labels = [_("ja") if k == "true" else _("nein") if k == "false" else k for k in entry["counts"]]
    return _svg(charts.bars(questions.label(entry, "de"), labels, {_("Antworten"): list(entry["counts"].values())}))
