"""The form's defences: CSRF tokens, the honeypot, the per-client rate limit; no 500 for any input."""

from __future__ import annotations

import re

import pytest

from eventsvc import create_app
from tests.helpers import create_event, registrations


def csrf_token(client, path: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(path).data.decode()).group(1)


def form(**overrides) -> dict:
    return {"name": "Eva", "email": "eva@example.org", "consent": "y", **overrides}


@pytest.fixture
def guarded(app_config, app):
    """A second app on the same (migrated) database, with CSRF and rate limits switched on."""
    strict = create_app(
        app_config | {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION": "3 per minute"}
    )
    return strict.test_client()


def test_csrf_token_is_required(client, guarded):
    event = create_event(client)
    refused = guarded.post(f"/events/{event['id']}", data=form())
    assert refused.status_code == 400 and "abgelaufen" in refused.data.decode()
    token = csrf_token(guarded, f"/events/{event['id']}")
    accepted = guarded.post(f"/events/{event['id']}", data=form(csrf_token=token))
    assert accepted.status_code == 303
    assert [r["email"] for r in registrations(client, event["id"])] == ["eva@example.org"]


def test_honeypot_catches_bots(client):
    event = create_event(client)
    response = client.post(f"/events/{event['id']}", data=form(website="http://spam.example"))
    assert response.status_code == 400 and registrations(client, event["id"]) == []


def test_rate_limit_per_client(client, guarded):
    event = create_event(client, capacity=50)
    codes = []
    for i in range(5):
        token = csrf_token(guarded, f"/events/{event['id']}")
        codes.append(
            guarded.post(f"/events/{event['id']}", data=form(email=f"p{i}@example.org", csrf_token=token)).status_code
        )
    assert codes == [303, 303, 303, 429, 429]
    assert len(registrations(client, event["id"])) == 3


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "x" * 5000, "email": "@", "consent": "maybe"},
        {"name": "\x00", "email": "a@b.c\r\n", "consent": "y"},
        {"email": "eva@example.org"},
        "name=%FF%FE%00&email=a%40b.c&consent=y&csrf_token=%80",
    ],
)
def test_no_input_yields_a_500(client, data):
    event = create_event(client)
    response = client.post(
        f"/events/{event['id']}",
        data=data,
        content_type="application/x-www-form-urlencoded" if isinstance(data, str) else None,
    )
    assert 400 <= response.status_code < 500 and registrations(client, event["id"]) == []


def test_pages_for_unknown_things_are_html_404s(client):
    for path in ("/events/999", "/r/nope", "/r/nope/cancel", "/nothing-here"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"
    draft = create_event(client, status="draft")
    assert client.get(f"/events/{draft['id']}").status_code == 404
    assert client.get("/language/en?next=//evil.example").headers["Location"] == "/"
