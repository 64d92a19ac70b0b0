"""What an attacker or an unlucky operator tries: emails sent twice by competing senders,
inbox flooding, addresses that cannot be mailed, open redirects, odd input, uploads that
lie about their type, missing browser protections, tokens that cannot be withdrawn."""

from __future__ import annotations

import io
import signal
import subprocess
import sys
from collections import Counter
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
import requests

from eventsvc import create_app
from eventsvc.scheduler.jobs import tick
from tests.helpers import ADMIN, create_event, on_the_real_clock, register, wait_for
from tests.processes import ROOT, mail_env, start_worker

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _outbox_statuses(client) -> Counter:
    return Counter(m["status"] for m in client.get("/api/v1/admin/outbox?limit=1000", headers=ADMIN).get_json())


@pytest.mark.slow
def test_two_workers_with_a_short_lease_and_a_slow_mail_server_send_each_email_once(
    client, database_url, smtp, tmp_path
):
    """Each worker claims ten emails at a time and needs four seconds for them, twice its
    two-second lease: only renewing the lease keeps the other worker from taking them too."""
    event = create_event(
        client, starts=on_the_real_clock(), capacity=100, reminders=[]
    )  # the workers run on the real clock
    for i in range(30):
        register(client, event["id"], f"p{i}@example.org")
    smtp.recorder.delay = 0.4
    env = mail_env(
        database_url, tmp_path / "instance", smtp.port, EVENTSVC_MAIL_LEASE="2", EVENTSVC_MAIL_BATCH_SIZE="10"
    )
    workers = [start_worker(env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        wait_for(lambda: len(smtp.raw()) >= 30, seconds=120)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
    ids = Counter(message["Message-ID"] for message in smtp.messages)
    assert len(ids) == 30 and max(ids.values()) == 1
    assert _outbox_statuses(client) == {"sent": 30}


@pytest.mark.slow
def test_a_stopped_worker_hands_its_emails_back_at_once(client, database_url, smtp, tmp_path):
    event = create_event(
        client, starts=on_the_real_clock(), capacity=100, reminders=[]
    )  # the worker runs on the real clock
    for i in range(8):
        register(client, event["id"], f"p{i}@example.org")
    smtp.recorder.delay = 0.5
    env = mail_env(database_url, tmp_path / "instance", smtp.port)  # a five-minute lease
    first = start_worker(env, tmp_path / "first.log")
    wait_for(lambda: len(smtp.raw()) >= 1, seconds=60)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    statuses = _outbox_statuses(client)
    assert statuses["sending"] == 0 and statuses["sent"] < 8
    smtp.recorder.delay = 0
    second = start_worker(env, tmp_path / "second.log")
    try:
        wait_for(lambda: len(smtp.raw()) >= 8, seconds=60)  # long before the lease would run out
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    ids = Counter(message["Message-ID"] for message in smtp.messages)
    assert len(ids) == 8 and max(ids.values()) == 1


@pytest.fixture
def limited(app_config, app):
    """A second app on the same database with the per-client limit switched on."""
    return create_app(app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION": "2 per minute"})


def test_the_json_api_limits_each_client_but_not_token_holders(client, limited):
    event = create_event(client, capacity=50)
    api = limited.test_client()
    codes = [register(api, event["id"], f"p{i}@example.org").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    refused = register(api, event["id"], "p9@example.org")
    assert refused.get_json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    body = {"name": "Eva", "email": "website@example.org", "consent": True}
    assert api.post(f"/api/v1/events/{event['id']}/registrations", json=body, headers=ADMIN).status_code == 201


def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(client, app_config, app):
    event = create_event(client, capacity=50)
    behind = create_app(
        app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION": "1 per minute", "TRUSTED_PROXIES": 1}
    ).test_client()
    as_from = lambda address: {"X-Forwarded-For": address}
    body = lambda n: {"name": "P", "email": f"p{n}@example.org", "consent": True}
    url = f"/api/v1/events/{event['id']}/registrations"
    assert behind.post(url, json=body(1), headers=as_from("198.51.100.1")).status_code == 201
    assert behind.post(url, json=body(2), headers=as_from("198.51.100.2")).status_code == 201
    assert behind.post(url, json=body(3), headers=as_from("198.51.100.1")).status_code == 429
    direct = create_app(app_config | {"RATELIMIT_ENABLED": True, "RATELIMIT_REGISTRATION": "1 per minute"})
    direct_client = direct.test_client()
    assert direct_client.post(url, json=body(4), headers=as_from("198.51.100.3")).status_code == 201
    assert direct_client.post(url, json=body(5), headers=as_from("198.51.100.4")).status_code == 429  # not believed


def test_one_address_is_registered_at_most_three_times_an_hour(client, clock):
    from datetime import timedelta

    event = create_event(client, capacity=50)
    for _ in range(3):
        made = register(client, event["id"], "loop@example.org")
        assert made.status_code == 201
        client.delete(f"/api/v1/registrations/{made.get_json()['token']}")
    fourth = register(client, event["id"], "LOOP@example.org")
    assert fourth.status_code == 429 and fourth.get_json()["code"] == "rate_limited"
    assert 0 < int(fourth.headers["Retry-After"]) <= 3600
    to_loop = [
        m
        for m in client.get("/api/v1/admin/outbox", headers=ADMIN).get_json()
        if m["recipient"].lower() == "loop@example.org"
    ]
    assert len(to_loop) == 6  # three confirmations, three cancellations, nothing for the fourth
    clock.advance(timedelta(hours=1, seconds=1))
    assert register(client, event["id"], "loop@example.org").status_code == 201


def test_international_domains_are_mailed_and_long_names_fold(mail_app, client, smtp):
    event = create_event(client, organizer_name="Servicestelle " + "🏛️" * 60)
    assert register(client, event["id"], "user@bücher.example", name="😀" * 200).status_code == 201
    refused = register(client, event["id"], "jürgen@example.org")
    assert refused.status_code == 422 and "email" in refused.get_json()["errors"]
    tick(mail_app)
    assert smtp.recorder.envelopes[0][1] == ["user@xn--bcher-kva.example"]
    raw = smtp.raw()[0]
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in header_block.split(b"\r\n")) <= 78
    # Decoded as RFC 2047 says: the folding between encoded words is not part of the name.
    message = message_from_bytes(raw)
    assert str(make_header(decode_header(message["To"]))) == "😀" * 200 + " <user@xn--bcher-kva.example>"
    assert str(make_header(decode_header(message["From"]))).startswith("Servicestelle 🏛️")


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%0d%0ax", "//evil.example", "/%5Cevil.example", "https://evil.example/"]
)
def test_the_language_switch_redirects_only_within_the_site(client, target):
    response = client.get(f"/language/en?next={target}")
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "path",
    [
        "/r/%00",
        "/d/%00",
        "/feeds/%00.ics",
        "/api/v1/registrations/%00",
        "/api/v1/registrations/%00/invite.ics",
        "/r/%00/cancel",
    ],
)
def test_a_nul_in_a_token_is_not_found(client, path):
    assert client.get(path).status_code == 404
    if path.startswith("/api/v1/registrations/") and not path.endswith(".ics"):
        assert client.delete(path).status_code == 404


def test_odd_numbers_and_strings_are_refused_not_crashed_on(client):
    assert client.get("/api/v1/admin/outbox?event_id=2147483648", headers=ADMIN).status_code == 422
    huge = '{"capacity": ' + "9" * 5000 + "}"
    response = client.post("/api/v1/admin/events", data=huge, content_type="application/json", headers=ADMIN)
    assert 400 <= response.status_code < 500
    event = create_event(client)
    surrogate = client.post(
        f"/api/v1/events/{event['id']}/registrations",
        content_type="application/json",
        data='{"name": "\\ud800x", "email": "a@example.org", "consent": true}',
    )
    assert surrogate.status_code == 422 and "name" in surrogate.get_json()["errors"]


def test_an_upload_that_cannot_be_stored_is_a_problem_and_leaves_nothing(app, client, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    app.config["UPLOAD_DIR"] = str(blocker / "documents")
    app.extensions.pop("eventsvc.storage", None)
    event = create_event(client)
    response = client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        headers=ADMIN,
        data={"title": "Folien", "file": (io.BytesIO(PDF), "folien.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 507 and response.get_json()["code"] == "insufficient_storage"
    assert client.get(f"/api/v1/admin/events/{event['id']}/documents", headers=ADMIN).get_json() == []
    app.extensions.pop("eventsvc.storage", None)


def test_a_download_is_named_after_what_it_is(mail_app, client, smtp, clock):
    from datetime import timedelta

    event = create_event(client)
    register(client, event["id"], "a@example.org")
    uploaded = client.post(
        f"/api/v1/admin/events/{event['id']}/documents",
        headers=ADMIN,
        data={"title": "Folien", "file": (io.BytesIO(PDF), "evil.html")},
        content_type="multipart/form-data",
    ).get_json()
    assert uploaded["filename"] == "evil.pdf" and uploaded["content_type"] == "application/pdf"
    clock.advance(timedelta(days=31))
    client.post(f"/api/v1/admin/events/{event['id']}/documents/send", headers=ADMIN)
    tick(mail_app)
    link = next(word for word in smtp.messages[-1].get_body(("plain",)).get_content().split() if "/d/" in word)
    download = client.get(link.replace("https://events.example.org", ""))
    assert download.status_code == 200 and download.headers["X-Content-Type-Options"] == "nosniff"
    assert "evil.pdf" in download.headers["Content-Disposition"] and download.mimetype == "application/pdf"


def test_pages_send_browser_protections(client):
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["X-Content-Type-Options"] == "nosniff"


def test_cookies_are_secure_when_the_site_is_https(client):
    response = client.get("/language/en")  # sets the session cookie; the tests' base URL is https
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_tokens_can_be_listed_and_revoked(app, client):
    runner = app.test_cli_runner()
    token = runner.invoke(args=["create-token", "Website"]).output.strip()
    again = runner.invoke(args=["create-token", "Website"])
    assert again.exit_code != 0 and "exists already" in again.output
    other = runner.invoke(args=["create-token", "Büro"]).output.strip()
    bearer = lambda t: {"Authorization": f"Bearer {t}"}
    assert client.get("/api/v1/admin/events", headers=bearer(token)).status_code == 200
    assert runner.invoke(args=["tokens", "revoke", "Website"]).exit_code == 0
    assert client.get("/api/v1/admin/events", headers=bearer(token)).status_code == 401
    assert client.post("/api/v1/admin/tokens/B%C3%BCro/revoke", headers=ADMIN).status_code == 200
    assert client.get("/api/v1/admin/events", headers=bearer(other)).status_code == 401
    listed = client.get("/api/v1/admin/tokens", headers=ADMIN).get_json()
    assert [(t["name"], t["revoked_at"] is not None) for t in listed] == [("Website", True), ("Büro", True)]
    assert "Website" in runner.invoke(args=["tokens", "list"]).output
    assert client.post("/api/v1/admin/tokens/nobody/revoke", headers=ADMIN).status_code == 404


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_serve_hands_its_emails_back_when_stopped(client, database_url, smtp, tmp_path, stop):
    from tests.processes import free_port

    smtp.recorder.delay = 0.5
    port = free_port()
    env = mail_env(database_url, tmp_path / "instance", smtp.port, EVENTSVC_TICK_SECONDS="3600")
    command = [sys.executable, "-m", "eventsvc.edges.cli", "serve", "--port", str(port)]
    event = create_event(client, starts=on_the_real_clock(), capacity=100, reminders=[])
    with open(tmp_path / "serve.log", "wb") as log:
        serve = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(f"{base}/healthz"), seconds=60)
            for i in range(8):
                requests.post(
                    f"{base}/api/v1/events/{event['id']}/registrations",
                    json={"name": f"P{i}", "email": f"p{i}@example.org", "consent": True},
                )
            wait_for(lambda: len(smtp.raw()) >= 1, seconds=60)
        finally:
            serve.send_signal(stop)
            serve.wait(timeout=30)
    statuses = _outbox_statuses(client)
    assert statuses["sending"] == 0 and statuses["queued"] + statuses["sent"] == 8 and statuses["queued"] > 0


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.parametrize(
    "path", ["/api/v1/admin/events/0", "/api/v1/admin/events/2147483648", "/api/v1/admin/registrations/0/history"]
)
def test_an_id_that_cannot_exist_is_checked_for_a_token_then_not_found(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers=ADMIN).status_code == 404
