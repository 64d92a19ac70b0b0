"""Feedback after the event: answering through the personal link, and the results."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import feedback
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.openapi import json_or_csv
from eventsvc.edges.api.registrations import public
from eventsvc.edges.common import now
from eventsvc.edges.csv import csv_response
from eventsvc.edges.schemas import FeedbackInSchema, FeedbackResultsSchema, FeedbackStoredSchema, ReportQuerySchema


@public.route("/feedback/<token>", methods=["POST"])
@public.arguments(FeedbackInSchema())
@public.response(201, FeedbackStoredSchema)
def answer(fields: dict[str, Any], token: str) -> ResponseReturnValue:
    """Answer the feedback questions once (409 `already_answered`; 409 `feedback_closed`
    after `closes_after`). The answers are stored apart from the person."""
    with unit_of_work() as session:
        feedback.answer(session, token, fields["answers"], now())
    return {"status": "answered"}


@admin.route("/events/<id:event_id>/feedback", methods=["GET"])
@admin.arguments(ReportQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, FeedbackResultsSchema)
@admin.doc(
    security=SECURITY,
    responses=json_or_csv(FeedbackResultsSchema, "The results; with `?format=csv`, counts per option and the texts"),
)
def results(query: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """How many were invited and answered; per question the counts per option, the average
    rating and the free texts in random order. No person is named."""
    with unit_of_work(writes=False) as session:
        found = feedback.results(session, event_service.get_event(session, event_id, public=False))
    if query["format"] == "csv":
        rows = [{"question": "invited", "answer": None, "count": found["invited"]}]
        rows.append({"question": "answered", "answer": None, "count": found["answered"]})
        for entry in found["questions"]:
            rows += [{"question": entry["key"], "answer": option, "count": n} for option, n in entry["counts"].items()]
            if entry["average"] is not None:
                rows.append({"question": entry["key"], "answer": "average", "count": entry["average"]})
            rows += [{"question": entry["key"], "answer": text, "count": None} for text in entry["texts"]]
        return csv_response(rows, f"feedback-{event_id}.csv", ["question", "answer", "count"])
    return found
