"""The domain decides once: the read-side policies over plain values, table-driven, and the
same answer from the API, the pages and the console for the same case."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Optional

import pytest

from eventsvc.domain import invites, outbox, policies
from eventsvc.domain.rules import Occupancy
from eventsvc.domain.vocabulary import NextRegistration
from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations

NOW = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@dataclass
class FakeEvent:
    """Plain values, as the policies take them (the models and lock rows have the same names)."""

    status: str = "published"
    starts_at: datetime = NOW + timedelta(days=10)
    ends_at: datetime = NOW + timedelta(days=10, hours=7)
    capacity: int = 2
    waitlist_enabled: bool = True
    registration_opens_at: Optional[datetime] = None
    registration_closes_at: Optional[datetime] = None
    promotion_cutoff: Optional[int] = None
    offer_window: int = 48 * 3600


@dataclass
class FakeRegistration:
    status: str
    offer_expires_at: Optional[datetime] = None
    reconfirm_asked_at: Optional[datetime] = None
    reconfirmed_at: Optional[datetime] = None


PHASES = {
    "ahead": NOW,
    "started": NOW + timedelta(days=10, hours=1),
    "over": NOW + timedelta(days=11),
}


@pytest.mark.parametrize(
    ("taken", "waiting", "waitlist", "open_", "expected"),
    [
        (0, 0, True, True, "confirmed"),
        (1, 0, True, True, "confirmed"),
        (2, 0, True, True, "waitlisted"),
        (2, 0, False, True, "full"),
        (1, 1, True, True, "waitlisted"),  # a free seat kept for the people waiting (past the cut-off)
        (1, 1, False, True, "full"),
        (0, 0, True, False, "closed"),
    ],
)
def test_what_a_newcomer_gets(taken, waiting, waitlist, open_, expected):
    event = FakeEvent(waitlist_enabled=waitlist, status="published" if open_ else "draft")
    assert policies.next_registration(event, Occupancy(taken, waiting), NOW) == NextRegistration(expected)


def test_where_contingents_apply_only_those_who_may_take_a_seat_stand_in_the_way():
    event = FakeEvent(capacity=3)
    assert policies.next_registration(event, Occupancy(1, 2), NOW, waiting_ahead=0).value == "confirmed"
    assert policies.next_registration(event, Occupancy(1, 2), NOW, waiting_ahead=2).value == "waitlisted"


STATUSES = ("confirmed", "waitlisted", "offered", "cancelled")


@pytest.mark.parametrize(
    ("phase", "status", "offer_open", "asked"),
    list(itertools.product(PHASES, STATUSES, (True, False), (True, False))),
)
def test_what_a_participant_may_do(phase, status, offer_open, asked):
    now = PHASES[phase]
    registration = FakeRegistration(
        status,
        offer_expires_at=(now + timedelta(hours=1)) if offer_open else (now - timedelta(minutes=1)),
        reconfirm_asked_at=NOW - timedelta(days=1) if asked else None,
    )
    actions = policies.participant_actions(registration, FakeEvent(), now)
    ahead = phase == "ahead"
    assert actions.cancel == (ahead and status != "cancelled")
    assert actions.transfer == (ahead and status == "confirmed")
    assert actions.accept == actions.decline == (ahead and status == "offered" and offer_open)
    assert actions.reconfirm == (ahead and status == "confirmed" and asked)
    assert actions.change_sessions == (ahead and status != "cancelled")


def test_nothing_is_allowed_once_the_event_is_cancelled():
    actions = policies.participant_actions(FakeRegistration("confirmed"), FakeEvent(status="cancelled"), NOW)
    assert actions == policies.ParticipantActions(False, False, False, False, False, False)


@pytest.mark.parametrize(
    ("kind", "had_seat", "method"),
    [
        (outbox.CONFIRMATION, False, invites.REQUEST),
        (outbox.PROMOTED, False, invites.REQUEST),
        (outbox.REMINDER, False, invites.REQUEST),
        (outbox.EVENT_UPDATED, False, invites.REQUEST),
        (outbox.CANCELLED, False, invites.CANCEL),
        (outbox.RELEASED, False, invites.CANCEL),
        (outbox.EVENT_CANCELLED, True, invites.CANCEL),
        (outbox.EVENT_CANCELLED, False, None),
        (outbox.WAITLISTED, False, None),
        (outbox.OFFER, False, None),
        (outbox.FEEDBACK, False, None),
        (outbox.SERIES_EVENT, False, None),
    ],
)
def test_which_invite_an_email_carries(kind, had_seat, method):
    assert policies.email_invite_method(kind, had_seat) == method


@pytest.mark.parametrize(
    ("status", "event_status", "method"),
    [
        ("confirmed", "published", invites.REQUEST),
        ("offered", "published", invites.REQUEST),
        ("waitlisted", "published", None),
        ("cancelled", "published", invites.CANCEL),
        ("confirmed", "cancelled", invites.CANCEL),
    ],
)
def test_which_invite_a_participant_downloads(status, event_status, method):
    assert policies.download_invite_method(status, event_status) == method


# --- the same answer on every edge --------------------------------------------------------


def test_past_the_cut_off_a_free_seat_is_not_offered_to_newcomers_anywhere(client, clock):
    event = create_event(client, capacity=1, promotion_cutoff="P7D")
    holder = register(client, event["id"], "a@example.org").get_json()
    register(client, event["id"], "b@example.org")
    clock.set(T0 + timedelta(days=25))  # within a week of the start
    client.delete(f"/api/v1/registrations/{holder['token']}")
    shown = client.get(f"/api/v1/events/{event['id']}").get_json()
    assert (shown["seats_left"], shown["next_registration"]) == (1, "waitlisted")
    page = client.get(f"/events/{event['id']}").data.decode()
    assert "Noch 1 Platz frei" not in page and "Auf die Warteliste" in page
    listing = client.get("/").data.decode()
    assert "Noch 1 Platz frei" not in listing and "ausgebucht" in listing
    assert register(client, event["id"], "c@example.org").get_json()["status"] == "waitlisted"


def test_after_the_start_neither_the_api_nor_the_page_lets_a_participant_cancel(client, clock):
    event = create_event(client, capacity=1)
    holder = register(client, event["id"], "a@example.org").get_json()
    register(client, event["id"], "b@example.org")
    clock.set(T0 + timedelta(days=30, hours=1))
    refused = client.delete(f"/api/v1/registrations/{holder['token']}")
    assert refused.status_code == 409 and refused.get_json()["code"] == "event_started"
    assert f"/r/{holder['token']}/cancel" not in client.get(f"/r/{holder['token']}").data.decode()
    client.post(f"/r/{holder['token']}/cancel")
    assert [r["status"] for r in registrations(client, event["id"])] == ["confirmed", "waitlisted"]  # nobody moved
    by_organizer = client.delete(f"/api/v1/admin/registrations/{holder['id']}", headers=ADMIN)
    assert by_organizer.status_code == 200 and by_organizer.get_json()["status"] == "cancelled"


def test_documents_before_the_end_are_refused_by_the_api_and_the_console(organizer_client, app):
    client = organizer_client
    event = create_event(client)
    register(client, event["id"], "a@example.org")
    client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        json={"title": "Folien", "url": "https://x.example/f"},
        headers=ADMIN,
    )
    api = client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    assert api.status_code == 409 and api.get_json()["code"] == "invalid_state"
    console = client.post(f"/admin/events/{event['id']}/documents/send", follow_redirects=True)
    assert "Nicht möglich" in console.data.decode()
    tick(app)
    kinds = [row["kind"] for row in client.get("/api/v1/admin/outbox", headers=ADMIN).get_json()]
    assert "documentation" not in kinds


def test_the_installations_retention_applies_to_events_made_by_the_api_and_the_console(organizer_client, app):
    app.config["RETENTION_SECONDS"] = 2 * 365 * 86400
    client = organizer_client
    made = create_event(client)
    assert made["retention"] == "P730D"
    from tests.test_console import EVENT_FORM

    form = EVENT_FORM | {"retention_days": ""}
    assert client.post("/admin/events/new", data=form).status_code == 303
    newest = client.get("/api/v1/admin/events", headers=ADMIN).get_json()[-1]
    assert newest["retention"] == "P730D"
    assert 'value="730"' in client.get("/admin/events/new").data.decode()


def test_an_expired_offer_answers_offer_expired_before_and_after_the_tick(client, clock, app):
    event = create_event(client, capacity=1, waitlist_mode="offer", offer_window="PT1H")
    holder = register(client, event["id"], "a@example.org").get_json()
    waiting = register(client, event["id"], "b@example.org").get_json()
    client.delete(f"/api/v1/registrations/{holder['token']}")
    clock.set(T0 + timedelta(hours=2))
    before = client.post(f"/api/v1/registrations/{waiting['token']}/accept")
    assert before.status_code == 409 and before.get_json()["code"] == "offer_expired"
    tick(app)
    after = client.post(f"/api/v1/registrations/{waiting['token']}/accept")
    assert after.status_code == 409 and after.get_json()["code"] == "offer_expired"
