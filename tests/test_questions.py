"""Registration questions, colleagues in one go, and substitutes: through the API, the
form and the emails."""

from __future__ import annotations

import csv
import io

from eventsvc.scheduler.jobs import tick
from tests.helpers import ADMIN, create_event, register, registrations

QUESTIONS = [
    {"key": "municipality", "label": {"de": "Kommune", "en": "Municipality"}, "type": "text", "required": True},
    {"key": "workshop", "label": "Workshop", "type": "choice", "options": ["A", "B"], "required": True},
    {"key": "topics", "label": "Themen", "type": "multi", "options": ["Recht", "Praxis", "Digitales"]},
    {"key": "lunch", "label": "Mittagessen", "type": "boolean"},
    {"key": "diet", "label": {"de": "Ernährung", "en": "Diet"}, "type": "text", "sensitive": True},
]
GOOD = {"municipality": "Musterstadt", "workshop": "B", "topics": ["Recht", "Digitales"], "lunch": True}


def test_answers_are_checked_stored_and_exported(client, clock):
    event = create_event(client, questions=QUESTIONS, capacity=5)
    assert [q["key"] for q in event["questions"]] == [q["key"] for q in QUESTIONS]
    made = register(
        client, event["id"], "a@example.org", answers=GOOD | {"diet": "vegetarisch"}, sensitive_consent=True
    )
    assert made.status_code == 201, made.get_json()
    shown = client.get(f"/api/v1/registrations/{made.get_json()['token']}").get_json()
    assert shown["answers"] == GOOD | {"diet": "vegetarisch"} and shown["sensitive_consent_at"]
    listed = registrations(client, event["id"])
    assert listed[0]["answers"]["workshop"] == "B"
    sheet = client.get(f"/api/v1/admin/events/{event['id']}/registrations?format=csv", headers=ADMIN)
    rows = list(csv.reader(io.StringIO(sheet.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-5:] == ["Kommune", "Workshop", "Themen", "Mittagessen", "Ernährung"]
    assert rows[1][-5:] == ["Musterstadt", "B", "Recht, Digitales", "ja", "vegetarisch"]


def test_bad_answers_are_422s_naming_the_answer_and_store_nothing(client):
    event = create_event(client, questions=QUESTIONS)
    cases = [
        ({"workshop": "A"}, "answers.municipality"),  # a required answer missing
        (GOOD | {"workshop": "C"}, "answers.workshop"),  # outside the options
        (GOOD | {"topics": "Recht"}, "answers.topics"),  # not a list
        (GOOD | {"lunch": "ja"}, "answers.lunch"),  # not a boolean
        (GOOD | {"municipality": "x" * 2001}, "answers.municipality"),  # too long
        (GOOD | {"municipality": "Muster\x07stadt"}, "answers.municipality"),  # a control character
        (GOOD | {"shoe_size": "42"}, "answers.shoe_size"),  # no such question
        (GOOD | {"diet": "vegan"}, "sensitive_consent"),  # a sensitive answer without its consent
    ]
    for answers, field in cases:
        response = register(client, event["id"], "a@example.org", answers=answers)
        assert response.status_code == 422 and field in response.get_json()["errors"], (answers, response.get_json())
    assert registrations(client, event["id"]) == []


def test_question_lists_are_checked(client):
    bad = [
        [{"key": "Bad Key", "label": "x", "type": "text"}],
        [{"key": "a", "label": "x", "type": "text"}, {"key": "a", "label": "y", "type": "text"}],
        [{"key": "a", "label": "x", "type": "rating"}],
        [{"key": "a", "label": "x", "type": "choice"}],
        [{"key": "a", "label": {"fr": "x"}, "type": "text"}],
    ]
    for questions in bad:
        response = client.post(
            "/api/v1/admin/events",
            headers=ADMIN,
            json={
                "title": "x",
                "starts_at": "2027-01-01T09:00:00+01:00",
                "ends_at": "2027-01-01T10:00:00+01:00",
                "capacity": 1,
                "questions": questions,
            },
        )
        assert response.status_code == 422, questions
        assert any(field.startswith("questions") for field in response.get_json()["errors"]), response.get_json()


def test_changing_questions_keeps_the_answers_given(client):
    event = create_event(client, questions=QUESTIONS)
    register(client, event["id"], "a@example.org", answers=GOOD)
    later = [QUESTIONS[1] | {"options": ["B", "C"]}, {"key": "room", "label": "Raum", "type": "text"}]
    assert (
        client.patch(f"/api/v1/admin/events/{event['id']}", json={"questions": later}, headers=ADMIN).status_code == 200
    )
    assert registrations(client, event["id"])[0]["answers"] == GOOD  # nothing rewritten
    sheet = client.get(f"/api/v1/admin/events/{event['id']}/registrations?format=csv", headers=ADMIN)
    header, row = list(csv.reader(io.StringIO(sheet.data.decode("utf-8-sig")), delimiter=";"))[:2]
    assert header[-5:] == ["Workshop", "Raum", "lunch", "municipality", "topics"]  # removed ones after, by key
    assert row[-5:] == ["B", "", "ja", "Musterstadt", "Recht, Digitales"]
    retyped = [QUESTIONS[1] | {"type": "multi"}]
    refused = client.patch(f"/api/v1/admin/events/{event['id']}", json={"questions": retyped}, headers=ADMIN)
    assert refused.status_code == 422 and "questions.0" in refused.get_json()["errors"]


def test_colleagues_register_in_one_go_or_not_at_all(mail_app, client, smtp):
    event = create_event(client, capacity=2, reminders=[])
    people = [{"name": f"Kollegin {i}", "email": f"k{i}@example.org", "consent": True} for i in range(3)]
    made = client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": people})
    assert made.status_code == 201
    answers = made.get_json()["registrations"]
    assert [(a["status"], a["waitlist_position"]) for a in answers] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
    ]
    assert len({a["token"] for a in answers}) == 3
    tick(mail_app)
    assert sorted(smtp.kinds()) == [
        ("confirmation", "k0@example.org"),
        ("confirmation", "k1@example.org"),
        ("waitlisted", "k2@example.org"),
    ]
    again = [{"name": "Neu", "email": "new@example.org", "consent": True}, people[0]]
    refused = client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": again})
    assert refused.status_code == 409 and refused.get_json()["code"] == "already_registered"
    invalid = [{"name": "Neu", "email": "new@example.org", "consent": True}, {"name": "", "email": "x"}]
    response = client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": invalid})
    assert response.status_code == 422
    assert client.post(f"/api/v1/events/{event['id']}/registrations/batch", json={"people": []}).status_code == 422
    assert "new@example.org" not in [r["email"] for r in registrations(client, event["id"])]


def test_a_substitute_takes_the_seat_without_the_waitlist_moving(mail_app, client, smtp, clock):
    from datetime import timedelta

    event = create_event(client, capacity=1, reminders=[])
    mayor = register(client, event["id"], "mayor@example.org").get_json()
    waiting = register(client, event["id"], "w@example.org").get_json()
    deputy = client.post(
        f"/api/v1/registrations/{mayor['token']}/transfer",
        json={"name": "Stellvertreterin", "email": "deputy@example.org", "consent": True},
    )
    assert deputy.status_code == 201 and deputy.get_json()["status"] == "confirmed"
    old = client.get(f"/api/v1/registrations/{mayor['token']}").get_json()
    assert (old["status"], old["cancel_reason"]) == ("cancelled", "transferred")
    assert client.get(f"/api/v1/registrations/{waiting['token']}").get_json()["status"] == "waitlisted"
    tick(mail_app)
    assert ("cancelled", "mayor@example.org") in smtp.kinds() and ("confirmation", "deputy@example.org") in smtp.kinds()
    twice = client.post(
        f"/api/v1/registrations/{deputy.get_json()['token']}/transfer",
        json={"name": "W", "email": "w@example.org", "consent": True},
    )
    assert twice.status_code == 409 and twice.get_json()["code"] == "already_registered"
    clock.set(clock.now() + timedelta(days=31))  # the event has started
    late = client.post(
        f"/api/v1/registrations/{deputy.get_json()['token']}/transfer",
        json={"name": "X", "email": "x@example.org", "consent": True},
    )
    assert late.status_code == 409 and late.get_json()["code"] == "invalid_state"


def test_the_form_asks_the_questions_and_keeps_the_answers(client):
    event = create_event(client, questions=QUESTIONS)
    page = client.get(f"/events/{event['id']}").data.decode()
    assert "<legend>Workshop <span" in page and 'type="checkbox" id="answers-topics-1"' in page
    assert 'id="sensitive_consent"' in page
    form = {
        "name": "Eva",
        "email": "eva@example.org",
        "consent": "y",
        "answers-municipality": "Musterstadt",
        "answers-topics": ["Recht", "Praxis"],
        "answers-lunch": "no",
        "answers-diet": "vegan",
    }
    refused = client.post(f"/events/{event['id']}", data=form)
    text = refused.data.decode()
    assert refused.status_code == 422 and "Fehler:" in text
    assert 'id="answers-workshop-error"' in text and 'id="sensitive_consent-error"' in text
    assert 'value="Recht" checked' in text and 'value="no" checked' in text  # what was given is kept
    accepted = client.post(f"/events/{event['id']}", data=form | {"answers-workshop": "A", "sensitive_consent": "y"})
    assert accepted.status_code == 303
    [made] = registrations(client, event["id"])
    assert made["answers"] == {
        "municipality": "Musterstadt",
        "workshop": "A",
        "topics": ["Recht", "Praxis"],
        "lunch": False,
        "diet": "vegan",
    }


def test_the_form_adds_colleagues_without_javascript(client):
    event = create_event(client, capacity=5)
    base = {"name": "Assistentin", "email": "office@example.org", "consent": "y", "colleagues": "0"}
    more = client.post(f"/events/{event['id']}", data=base | {"action": "add_person"})
    assert more.status_code == 200 and 'name="colleague-0-name"' in more.data.decode()
    assert registrations(client, event["id"]) == []  # adding a person registers nobody yet
    two = client.post(
        f"/events/{event['id']}",
        data=base
        | {
            "colleagues": "1",
            "colleague-0-name": "Bürgermeister",
            "colleague-0-email": "mayor@example.org",
            "action": "add_person",
        },
    )
    page = two.data.decode()
    assert 'value="Bürgermeister"' in page and 'name="colleague-1-name"' in page and "autofocus" in page
    bad = client.post(
        f"/events/{event['id']}",
        data=base
        | {
            "colleagues": "2",
            "colleague-0-name": "Bürgermeister",
            "colleague-0-email": "mayor@example.org",
            "colleague-1-name": "Kämmerin",
            "colleague-1-email": "keine-adresse",
            "action": "register",
        },
    )
    assert bad.status_code == 422 and 'id="colleague-1-email-error"' in bad.data.decode()
    assert registrations(client, event["id"]) == []  # all or nothing
    done = client.post(
        f"/events/{event['id']}",
        data=base
        | {
            "colleagues": "2",
            "colleague-0-name": "Bürgermeister",
            "colleague-0-email": "mayor@example.org",
            "colleague-1-name": "",
            "colleague-1-email": "",
            "action": "register",
        },
    )
    assert done.status_code == 303 and "others=1" in done.headers["Location"]
    assert [r["email"] for r in registrations(client, event["id"])] == ["office@example.org", "mayor@example.org"]


def test_a_substitute_is_sent_from_the_manage_page(client):
    event = create_event(client, capacity=1)
    made = register(client, event["id"], "mayor@example.org").get_json()
    page = client.get(f"/r/{made['token']}").data.decode()
    assert "Vertretung schicken" in page
    assert "Platz weitergeben" in client.get(f"/r/{made['token']}/transfer").data.decode()
    sent = client.post(
        f"/r/{made['token']}/transfer", data={"name": "Stellvertreterin", "email": "deputy@example.org", "consent": "y"}
    )
    assert sent.status_code == 303
    assert "an Ihre Vertretung weitergegeben" in client.get(f"/r/{made['token']}").data.decode()
    assert [(r["email"], r["status"]) for r in registrations(client, event["id"])] == [
        ("mayor@example.org", "cancelled"),
        ("deputy@example.org", "confirmed"),
    ]


def test_a_batch_counts_once_against_the_client_limit(client, app_config, app):
    from eventsvc import create_app

    limited = create_app(app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION": "2 per minute"})
    api = limited.test_client()
    event = create_event(client, capacity=20)
    people = [{"name": f"P{i}", "email": f"b{i}@example.org", "consent": True} for i in range(5)]
    url = f"/api/v1/events/{event['id']}/registrations/batch"
    assert api.post(url, json={"people": people}).status_code == 201  # five people, one hit
    assert api.post(url, json={"people": [people[0] | {"email": "c@example.org"}]}).status_code == 201
    assert api.post(url, json={"people": [people[0] | {"email": "d@example.org"}]}).status_code == 429
