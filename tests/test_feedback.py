"""Feedback from those who came: invitations and one reminder at their times and only to
attendees, the form, one answer each, the closing, anonymous results that outlive retention."""

from __future__ import annotations

import re
from datetime import timedelta

from eventsvc.scheduler.jobs import tick
from tests.conftest import T0
from tests.helpers import ADMIN, create_event, register, registrations

END = T0 + timedelta(days=30, hours=7)
FEEDBACK = {
    "questions": [
        {"key": "overall", "label": {"de": "Gesamteindruck", "en": "Overall"}, "type": "rating", "required": True},
        {"key": "useful", "label": "Nützlich für Ihre Arbeit?", "type": "boolean"},
        {"key": "topics", "label": "Beste Themen", "type": "multi", "options": ["Recht", "Praxis", "IT"]},
        {"key": "remarks", "label": "Anmerkungen", "type": "text"},
    ],
    "send_after": "PT2H",
    "remind_after": "P7D",
    "closes_after": "P21D",
}


def day_with_three(client):
    event = create_event(client, capacity=5, feedback=FEEDBACK)
    made = {
        email: register(client, event["id"], email).get_json()
        for email in ("came@example.org", "also@example.org", "absent@example.org", "left@example.org")
    }
    ids = {row["email"]: row["id"] for row in registrations(client, event["id"])}
    for email in ("came@example.org", "also@example.org"):
        client.post(f"/api/v1/admin/registrations/{ids[email]}/checkin", headers=ADMIN)
    client.delete(f"/api/v1/registrations/{made['left@example.org']['token']}")
    return event


def tokens(smtp, kind="feedback") -> dict[str, str]:
    found = {}
    for message in smtp.messages:
        if message["X-Eventsvc-Kind"] == kind:
            text = message.get_body(("plain",)).get_content()
            found[message["To"].addresses[0].addr_spec] = re.search(r"/f/([A-Za-z0-9_-]+)", text).group(1)
    return found


def test_only_attendees_are_asked_once_and_reminded_once(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = day_with_three(client)
    clock.set(END + timedelta(hours=1, minutes=59))
    tick(mail_app)
    assert tokens(smtp) == {}
    clock.set(END + timedelta(hours=2))
    tick(mail_app)
    tick(mail_app)
    asked = tokens(smtp)
    assert sorted(asked) == ["also@example.org", "came@example.org"]
    assert len([m for m in smtp.messages if m["X-Eventsvc-Kind"] == "feedback"]) == 2
    assert (
        client.post(f"/api/v1/feedback/{asked['came@example.org']}", json={"answers": {"overall": 5}}).status_code
        == 201
    )
    clock.set(END + timedelta(days=7))
    tick(mail_app)
    tick(mail_app)
    assert sorted(tokens(smtp, "feedback-reminder")) == ["also@example.org"]
    results = client.get(f"/api/v1/admin/events/{event['id']}/feedback", headers=ADMIN).get_json()
    assert (results["invited"], results["answered"]) == (2, 1)


def test_answers_are_checked_once_only_and_not_after_closing(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = day_with_three(client)
    clock.set(END + timedelta(hours=3))
    tick(mail_app)
    asked = tokens(smtp)
    came, also = asked["came@example.org"], asked["also@example.org"]
    wrong = client.post(f"/api/v1/feedback/{came}", json={"answers": {"overall": 6, "nope": 1}})
    assert wrong.status_code == 422 and set(wrong.get_json()["errors"]) == {"answers.overall", "answers.nope"}
    missing = client.post(f"/api/v1/feedback/{came}", json={"answers": {"useful": True}})
    assert missing.status_code == 422 and "answers.overall" in missing.get_json()["errors"]
    body = {"answers": {"overall": 4, "useful": True, "topics": ["Recht", "IT"], "remarks": "Mehr Pausen"}}
    assert client.post(f"/api/v1/feedback/{came}", json=body).status_code == 201
    again = client.post(f"/api/v1/feedback/{came}", json=body)
    assert again.status_code == 409 and again.get_json()["code"] == "already_answered"
    assert client.post("/api/v1/feedback/not-a-real-token-xxxxxx", json=body).status_code == 404
    clock.set(END + timedelta(days=21))
    closed = client.post(f"/api/v1/feedback/{also}", json={"answers": {"overall": 2}})
    assert closed.status_code == 409 and closed.get_json()["code"] == "feedback_closed"
    results = client.get(f"/api/v1/admin/events/{event['id']}/feedback", headers=ADMIN).get_json()
    by_key = {q["key"]: q for q in results["questions"]}
    assert by_key["overall"]["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert by_key["overall"]["average"] == 4
    assert by_key["useful"]["counts"] == {"true": 1, "false": 0}
    assert by_key["topics"]["counts"] == {"Recht": 1, "Praxis": 0, "IT": 1}
    assert by_key["remarks"]["texts"] == ["Mehr Pausen"]
    assert "came@example.org" not in str(results) and "Erika" not in str(results)
    csv_text = client.get(f"/api/v1/admin/events/{event['id']}/feedback?format=csv", headers=ADMIN).data.decode()
    assert "Mehr Pausen" in csv_text and "overall;average;4" in csv_text


def test_the_form_page_and_the_documentation_email(mail_app, smtp, clock):
    client = mail_app.test_client()
    event = day_with_three(client)
    client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        json={"title": "Folien", "url": "https://x.example/f"},
        headers=ADMIN,
    )
    clock.set(END + timedelta(hours=2))
    tick(mail_app)
    documentation = next(
        m
        for m in smtp.messages
        if m["X-Eventsvc-Kind"] == "documentation" and m["To"].addresses[0].addr_spec == "came@example.org"
    )
    text = documentation.get_body(("plain",)).get_content()
    assert "/f/" in text or "Rückmeldung" in text
    token = tokens(smtp)["came@example.org"]
    page = client.get(f"/f/{token}")
    assert page.status_code == 200 and "Gesamteindruck" in page.data.decode() and 'type="radio"' in page.data.decode()
    refused = client.post(f"/f/{token}", data={"answers-useful": "yes"})
    assert refused.status_code == 422 and 'id="answers-overall-error"' in refused.data.decode()
    sent = client.post(f"/f/{token}", data={"answers-overall": "5", "answers-topics": ["Praxis"]})
    assert sent.status_code == 303
    assert "Vielen Dank" in client.get(sent.headers["Location"]).data.decode()
    assert "bereits beantwortet" in client.get(f"/f/{token}").data.decode()
    assert client.get("/f/not-a-real-token-xxxxxx").status_code == 404


def test_feedback_outlives_retention_and_the_links_go(app, client, clock):
    event = day_with_three(client)
    clock.set(END + timedelta(hours=2))
    tick(app)
    from eventsvc.db import unit_of_work
    from eventsvc.domain.models import Registration

    with unit_of_work(writes=False) as session:
        token = session.query(Registration.feedback_token).filter(Registration.feedback_token.is_not(None)).first()[0]
    client.post(f"/api/v1/feedback/{token}", json={"answers": {"overall": 3}})
    clock.set(END + timedelta(days=366))
    tick(app)
    assert client.get(f"/f/{token}").status_code == 404
    results = client.get(f"/api/v1/admin/events/{event['id']}/feedback", headers=ADMIN).get_json()
    assert results["answered"] == 1 and results["questions"][0]["average"] == 3
