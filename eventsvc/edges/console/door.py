"""The door on the day: the list to check people in, narrowing as one types."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required

from eventsvc.db import unit_of_work
from eventsvc.domain import events as event_service
from eventsvc.domain import registrations as registration_service
from eventsvc.domain.rules import counts_by_status
from eventsvc.domain.statuses import CONFIRMED
from eventsvc.edges.console.common import console, matches
from eventsvc.edges.console.forms import ActionForm


@console.get("/events/<id:event_id>/door")
@login_required
def door(event_id: int) -> ResponseReturnValue:
    """Check-in at the door, made for a tablet: search, one large button per person."""
    query = request.args.get("q", "").strip()
    with unit_of_work(writes=False) as db_session:
        shown = event_service.get_event(db_session, event_id, public=False)
        people = [r for r, _p in registration_service.list_for_event(db_session, event_id, CONFIRMED)]
        arrived = sum(1 for r in people if r.attended)
        if query:
            people = [r for r in people if matches(r, query)]
        return render_template(
            "console/door.html",
            event=shown,
            people=people,
            query=query,
            arrived=arrived,
            expected=counts_by_status(db_session, [event_id])[event_id].get(CONFIRMED, 0),
            form=ActionForm(),
        )
