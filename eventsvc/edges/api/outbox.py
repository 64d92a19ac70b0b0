"""Organizers' view of the outbox: what was sent, what waits, what failed, and retrying."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import outbox as outbox_service
from eventsvc.domain.errors import NotFound
from eventsvc.domain.models import OutboxMessage
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.schemas import OutboxMessageSchema, OutboxQuerySchema
from eventsvc.mail.compose import message_id


@admin.route("/outbox", methods=["GET"])
@admin.arguments(OutboxQuerySchema(), location="query", unknown=ma.RAISE)
@admin.response(200, OutboxMessageSchema(many=True))
@admin.doc(security=SECURITY)
def list_outbox(query: dict[str, Any]) -> ResponseReturnValue:
    """Emails by status (`queued`, `sending`, `sent`, `failed`, `skipped`), newest first."""
    with unit_of_work(writes=False) as session:
        found = outbox_service.listed(session, query.get("status"), query.get("event_id"), query["limit"])
        return [_as_dict(message) for message in found]


@admin.route("/outbox/<id:message_id>/retry", methods=["POST"])
@admin.response(200, OutboxMessageSchema)
@admin.doc(security=SECURITY)
def retry(message_id: int) -> ResponseReturnValue:
    """Queue a failed email again; it goes out on the next tick."""
    with unit_of_work() as session:
        message = outbox_service.requeue(session, message_id, now())
        if message is None:
            raise NotFound("No such email.")
        return _as_dict(message)


def _as_dict(message: OutboxMessage) -> dict[str, Any]:
    """Read inside the transaction, so nothing is loaded after the commit."""
    shown = {name: getattr(message, name) for name in OutboxMessageSchema().fields if name != "message_id"}
    return shown | {"message_id": message_id(message.message_key, current_app.config["MAIL_DEFAULT_SENDER"])}
