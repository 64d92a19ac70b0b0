"""Small builders and checks shared by the tests: they go through the public API, like a client would."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

from tests.conftest import T0

ADMIN = {"Authorization": "Bearer test-admin-token"}


def iso(moment: datetime) -> str:
    return moment.isoformat()


def event_payload(starts: datetime = T0 + timedelta(days=30), **overrides) -> dict:
    payload = {
        "title": "Fachveranstaltung Standesamtswesen",
        "description": "Neuerungen im Personenstandsrecht",
        "location": "Haus der Kommunen, Saal 2, Lindenstraße 1, 10969 Berlin",
        "starts_at": iso(starts.astimezone(timezone(timedelta(hours=1)))),
        "ends_at": iso((starts + timedelta(hours=7)).astimezone(timezone(timedelta(hours=1)))),
        "capacity": 2,
        "organizer_name": "Servicestelle Fortbildung",
        "organizer_email": "fortbildung@kommunen.example",
        "status": "published",
    }
    payload.update(overrides)
    return payload


def on_the_real_clock() -> datetime:
    """A start thirty days after the wall clock's now, for an event that processes serve on the
    real clock (the tests' settable clock stands still at T0, the real one does not)."""
    return datetime.now(UTC) + timedelta(days=30)


def create_event(client, **overrides) -> dict:
    response = client.post("/api/v1/admin/events", json=event_payload(**overrides), headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def register(client, event_id: int, email: str, name: str = "Erika Mustermann", **extra):
    body = {"name": name, "email": email, "consent": True, "organization": "Stadt Musterstadt", **extra}
    return client.post(f"/api/v1/events/{event_id}/registrations", json=body)


def registrations(client, event_id: int, status: str | None = None) -> list[dict]:
    query = f"?status={status}" if status else ""
    response = client.get(f"/api/v1/admin/events/{event_id}/registrations{query}", headers=ADMIN)
    assert response.status_code == 200
    return response.get_json()


def parts(message) -> dict:
    """The leaf parts of an email, by content type."""
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def wait_for(condition, seconds: float = 180, every: float = 0.1) -> None:
    """Poll a condition that another process or thread makes true (not a stand-in for a clock)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise TimeoutError("condition not met")
