"""Messages from the organizer to the participants: send (or a test copy), preview, the log."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import messages
from eventsvc.edges.api.auth import SECURITY, acting_organizer
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.schemas import MessageInSchema, MessageLogSchema, MessagePreviewSchema, MessageQueuedSchema
from eventsvc.edges.shared import preview_of


def _draft(fields: dict[str, Any]) -> messages.Draft:
    return messages.Draft(
        subject=fields["subject"],
        body=fields["body"].replace("\r\n", "\n"),
        audience=tuple(dict.fromkeys(fields["audience"])),
        document_ids=tuple(dict.fromkeys(fields.get("documents") or [])),
        test_to=fields.get("test_to"),
    )


@admin.route("/events/<id:event_id>/messages", methods=["POST"])
@admin.arguments(MessageInSchema())
@admin.response(202, MessageQueuedSchema)
@admin.doc(security=SECURITY)
def send(fields: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """Queue one `message` email to each person in the audience (with `test_to`: only a test
    copy to that address, written for the first of them)."""
    with unit_of_work() as session:
        message = messages.send(session, event_id, _draft(fields), now(), acting_organizer().name)
        return {"id": message.id, "recipients": message.recipients}


@admin.route("/events/<id:event_id>/messages/preview", methods=["POST"])
@admin.arguments(MessageInSchema())
@admin.response(200, MessagePreviewSchema)
@admin.doc(security=SECURITY)
def preview(fields: dict[str, Any], event_id: int) -> ResponseReturnValue:
    """The message as the first person of the audience would get it; nothing is sent."""
    return preview_of(event_id, _draft(fields))


@admin.route("/events/<id:event_id>/messages", methods=["GET"])
@admin.response(200, MessageLogSchema(many=True))
@admin.doc(security=SECURITY)
def message_log(event_id: int) -> ResponseReturnValue:
    """Every message of the event, newest first: to whom, how many were sent, failed, are waiting."""
    with unit_of_work(writes=False) as session:
        return [
            {
                "id": entry.message.id,
                "subject": entry.message.subject,
                "audience": entry.message.audience,
                "documents": entry.message.document_ids,
                "test_to": entry.message.test_to,
                "created_at": entry.message.created_at,
                "sent_by": entry.message.sent_by,
                "recipients": entry.message.recipients,
                "sent": entry.sent,
                "failed": entry.failed,
                "skipped": entry.skipped,
                "suppressed": entry.suppressed,
                "queued": entry.queued,
            }
            for entry in messages.log(session, event_id)
        ]
