"""JSON endpoints for events: the public list and detail, and the organizers' admin API."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.edges.api.auth import SECURITY, admin_required
from eventsvc.edges.common import now
from eventsvc.edges.presenters import present_events
from eventsvc.edges.schemas import EventInSchema, EventOutSchema, EventPatchSchema

public = Blueprint("events", __name__, url_prefix="/api/v1", description="Published events")
admin = Blueprint(
    "admin_events",
    __name__,
    url_prefix="/api/v1/admin",
    description="Organizers: events, registrations, documents, outbox",
)
admin.before_request(admin_required(lambda: None))


@public.route("/events", methods=["GET"])
@public.response(200, EventOutSchema(many=True))
def list_published() -> ResponseReturnValue:
    """Published events that have not ended, soonest first."""
    with unit_of_work(writes=False) as session:
        return present_events(session, event_service.list_events(session, now(), public=True))


@public.route("/events/<id:event_id>", methods=["GET"])
@public.response(200, EventOutSchema)
def show_published(event_id: int) -> ResponseReturnValue:
    """A published or cancelled event; drafts do not exist for the public."""
    with unit_of_work(writes=False) as session:
        return present_events(session, [event_service.get_event(session, event_id, public=True)])[0]


@admin.route("/events", methods=["POST"])
@admin.arguments(EventInSchema())
@admin.response(201, EventOutSchema)
@admin.doc(security=SECURITY)
def create(fields: dict[str, Any]) -> ResponseReturnValue:
    """Create an event (a draft unless `status` is `published`)."""
    with unit_of_work() as session:
        event = event_service.create_event(
            session, fields, now(), default_retention=current_app.config["RETENTION_SECONDS"]
        )
        return present_events(session, [event])[0]


@admin.route("/events", methods=["GET"])
@admin.response(200, EventOutSchema(many=True))
@admin.doc(security=SECURITY)
def list_all() -> ResponseReturnValue:
    """Every event, drafts and past ones included."""
    with unit_of_work(writes=False) as session:
        return present_events(session, event_service.list_events(session, now(), public=False))


@admin.route("/events/<id:event_id>", methods=["GET"])
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def show(event_id: int) -> ResponseReturnValue:
    """One event, drafts included."""
    with unit_of_work(writes=False) as session:
        return present_events(session, [event_service.get_event(session, event_id, public=False)])[0]


@admin.route("/events/<id:event_id>", methods=["PATCH"])
@admin.arguments(EventPatchSchema(partial=True))
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def update(changes: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Change an event. Moving a published event sends updated invites; a larger capacity promotes."""
    with unit_of_work() as session:
        return present_events(session, [event_service.update_event(session, event_id, changes, now())])[0]


@admin.route("/events/<id:event_id>/cancel", methods=["POST"])
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def cancel(event_id: int) -> ResponseReturnValue:
    """Cancel the event: everyone confirmed or waitlisted is told, invites are withdrawn."""
    with unit_of_work() as session:
        return present_events(session, [event_service.cancel_event(session, event_id, now())])[0]
