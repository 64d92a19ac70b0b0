"""Organizers' view of the outbox: what was sent, what waits, what failed, and retrying."""

from __future__ import annotations

from sqlalchemy import select

from eventsvc.domain import outbox as outbox_service
from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import OutboxMessage
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.api.schemas import OutboxMessageSchema, OutboxQuerySchema
from eventsvc.edges.common import now, unit_of_work


@admin.route("/outbox", methods=["GET"])
@admin.arguments(OutboxQuerySchema, location="query")
@admin.response(200, OutboxMessageSchema(many=True))
@admin.doc(security=SECURITY)
def list_outbox(query: dict):
    """Emails by status (`queued`, `sending`, `sent`, `failed`, `skipped`), newest first."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(query["limit"])
    if "status" in query:
        statement = statement.where(OutboxMessage.status == query["status"])
    if "event_id" in query:
        statement = statement.where(OutboxMessage.event_id == query["event_id"])
    with unit_of_work() as session:
        return [_as_dict(message) for message in session.scalars(statement)]


@admin.route("/outbox/<id:message_id>/retry", methods=["POST"])
@admin.response(200, OutboxMessageSchema)
@admin.doc(security=SECURITY)
def retry(message_id: int):
    """Queue a failed email again; it goes out on the next tick."""
    with unit_of_work() as session:
        message = outbox_service.requeue(session, message_id, now())
        if message is None:
            raise NotFound("No such email.")
        return _as_dict(message)


def _as_dict(message: OutboxMessage) -> dict:
    """Read inside the transaction, so nothing is loaded after the commit."""
    return {name: getattr(message, name) for name in OutboxMessageSchema().fields}
