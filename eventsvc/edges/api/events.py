"""JSON endpoints for events: the public list and detail, and the organizers' admin API."""

from __future__ import annotations

from flask_smorest import Blueprint

from eventsvc.domain import events as event_service
from eventsvc.domain.models import Event
from eventsvc.edges.api.auth import SECURITY, admin_required
from eventsvc.edges.api.presenters import event_dict
from eventsvc.edges.api.schemas import EventInSchema, EventOutSchema, EventPatchSchema
from eventsvc.edges.common import now, unit_of_work

public = Blueprint("events", __name__, url_prefix="/api/v1", description="Published events")
admin = Blueprint("admin_events", __name__, url_prefix="/api/v1/admin",
                  description="Organizers: events, registrations, documents, outbox")
admin.before_request(admin_required(lambda: None))


def present(session, events: list[Event]) -> list[dict]:
    occupancy = event_service.occupancy(session, [event.id for event in events])
    moment = now()
    return [event_dict(event, occupancy[event.id], moment) for event in events]


@public.route("/events", methods=["GET"])
@public.response(200, EventOutSchema(many=True))
def list_published():
    """Published events that have not ended, soonest first."""
    with unit_of_work() as session:
        return present(session, event_service.list_events(session, now(), public=True))


@public.route("/events/<id:event_id>", methods=["GET"])
@public.response(200, EventOutSchema)
def show_published(event_id: int):
    """A published or cancelled event; drafts do not exist for the public."""
    with unit_of_work() as session:
        return present(session, [event_service.get_event(session, event_id, public=True)])[0]


@admin.route("/events", methods=["POST"])
@admin.arguments(EventInSchema)
@admin.response(201, EventOutSchema)
@admin.doc(security=SECURITY)
def create(fields: dict):
    with unit_of_work() as session:
        return present(session, [event_service.create_event(session, fields, now())])[0]


@admin.route("/events", methods=["GET"])
@admin.response(200, EventOutSchema(many=True))
@admin.doc(security=SECURITY)
def list_all():
    with unit_of_work() as session:
        return present(session, event_service.list_events(session, now(), public=False))


@admin.route("/events/<id:event_id>", methods=["GET"])
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def show(event_id: int):
    with unit_of_work() as session:
        return present(session, [event_service.get_event(session, event_id, public=False)])[0]


@admin.route("/events/<id:event_id>", methods=["PATCH"])
@admin.arguments(EventPatchSchema(partial=True))
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def update(changes: dict, event_id: int):
    """Change an event. Moving a published event sends updated invites; a larger capacity promotes."""
    with unit_of_work() as session:
        return present(session, [event_service.update_event(session, event_id, changes, now())])[0]


@admin.route("/events/<id:event_id>/cancel", methods=["POST"])
@admin.response(200, EventOutSchema)
@admin.doc(security=SECURITY)
def cancel(event_id: int):
    """Cancel the event: everyone confirmed or waitlisted is told, invites are withdrawn."""
    with unit_of_work() as session:
        return present(session, [event_service.cancel_event(session, event_id, now())])[0]
