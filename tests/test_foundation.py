"""The core's single homes: the unit of work and its locks, the history of each registration,
request ids, and a clear word when the schema is missing."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import make_url

from eventsvc import create_app
from eventsvc.db import Prepared, db, run_together, unit_of_work
from eventsvc.domain.locking import lock_event, lock_event_rules
from eventsvc.domain.models import Event
from tests.helpers import ADMIN, create_event, register


def test_history_records_who_did_what(app, client):
    token = app.test_cli_runner().invoke(args=["create-token", "Servicestelle"]).output.strip()
    office = {"Authorization": f"Bearer {token}"}
    event = create_event(client, capacity=1)
    first = register(client, event["id"], "first@example.org").get_json()
    second = register(client, event["id"], "second@example.org").get_json()
    assert client.delete(f"/api/v1/admin/registrations/{first['id']}", headers=office).status_code == 200
    assert client.post(f"/api/v1/admin/registrations/{second['id']}/checkin", headers=office).status_code == 200

    first_history = client.get(f"/api/v1/admin/registrations/{first['id']}/history", headers=ADMIN).get_json()
    assert [(h["status"], h["reason"], h["by"], h["actor"]) for h in first_history] == [
        ("confirmed", "registered", "participant", None),
        ("cancelled", "organizer", "organizer", "Servicestelle"),
    ]
    second_history = client.get(f"/api/v1/admin/registrations/{second['id']}/history", headers=ADMIN).get_json()
    assert [(h["status"], h["reason"], h["by"]) for h in second_history] == [
        ("waitlisted", "registered", "participant"),
        ("confirmed", "promoted", "system"),
        ("confirmed", "checked_in", "organizer"),
    ]
    assert all(h["at"].endswith("+01:00") for h in second_history)  # in the event's time zone
    listed = client.get(f"/api/v1/admin/events/{event['id']}/registrations", headers=ADMIN).get_json()
    assert [(r["status"], r["cancel_reason"]) for r in listed] == [("cancelled", "organizer"), ("confirmed", None)]


def test_history_needs_a_token_and_a_known_registration(client):
    assert client.get("/api/v1/admin/registrations/1/history").status_code == 401
    assert client.get("/api/v1/admin/registrations/99/history", headers=ADMIN).status_code == 404


def test_a_participant_cancelling_is_recorded_as_the_participant(client):
    event = create_event(client)
    made = register(client, event["id"], "a@example.org").get_json()
    assert client.delete(f"/api/v1/registrations/{made['token']}").get_json()["cancel_reason"] == "participant"
    history = client.get(f"/api/v1/admin/registrations/{made['id']}/history", headers=ADMIN).get_json()
    assert [(h["status"], h["by"]) for h in history] == [("confirmed", "participant"), ("cancelled", "participant")]


def test_locks_are_taken_only_in_a_writing_unit_of_work(app, client):
    event = create_event(client)
    with pytest.raises(RuntimeError), unit_of_work(writes=False) as session:
        lock_event(session, event["id"])
    with unit_of_work() as session:
        assert lock_event(session, event["id"]).id == event["id"]


def test_a_rejected_request_changes_nothing(client):
    """The unit of work rolls back everything a refused call did."""
    event = create_event(client, capacity=1, waitlist=False)
    register(client, event["id"], "a@example.org")
    refused = register(client, event["id"], "b@example.org")
    assert refused.status_code == 409 and refused.get_json()["code"] == "event_full"
    listed = client.get(f"/api/v1/admin/events/{event['id']}/registrations", headers=ADMIN).get_json()
    assert [r["email"] for r in listed] == ["a@example.org"]


def test_a_unit_of_work_that_reads_refuses_to_write(app, client):
    """On PostgreSQL a read runs without a transaction: a write there could not be rolled
    back with the rest, so it is refused on both databases alike."""
    event = create_event(client, title="Fachtag")
    with pytest.raises(RuntimeError, match="reads does not write"), unit_of_work(writes=False) as session:
        session.execute(update(Event).where(Event.id == event["id"]).values(title="Changed"))
    with pytest.raises(RuntimeError, match="reads does not write"), unit_of_work(writes=False) as session:
        run_together(session, (_RENAME, {"event_id": event["id"], "title": "Changed"}))
    with unit_of_work(writes=False) as session:
        assert session.scalar(select(Event.title).where(Event.id == event["id"])) == "Fachtag"
    with unit_of_work() as session:
        run_together(session, (_RENAME, {"event_id": event["id"], "title": "Changed"}))
    assert client.get(f"/api/v1/events/{event['id']}").get_json()["title"] == "Changed"


_RENAME = Prepared(update(Event).where(Event.id == bindparam("event_id")).values(title=bindparam("title")))


def test_on_sqlite_a_read_does_not_wait_for_a_writer(app, client):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite's write lock; PostgreSQL readers never wait for writers")
    event = create_event(client)
    writer = sqlite3.connect(make_url(app.config["DATABASE_URL"]).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        reading = ThreadPoolExecutor(1).submit(client.get, f"/api/v1/events/{event['id']}")
        assert reading.result(timeout=5).status_code == 200  # a writer's lock would hold it 30 s
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.parametrize("first", ["pipelined", "orm"])
def test_a_write_is_one_transaction_and_a_read_begins_none(app, client, first):
    """A write's transaction begins with its first statement (on PostgreSQL its BEGIN travels
    with it, pipelined or not), and everything after it rolls back together; a read runs
    without a transaction, on either database."""
    event = create_event(client, title="Fachtag")
    with pytest.raises(LookupError), unit_of_work() as session:
        if first == "pipelined":
            lock_event_rules(session, event["id"])
        else:
            session.execute(update(Event).where(Event.id == event["id"]).values(capacity=1))
        assert _in_transaction(session.connection().connection.driver_connection)
        session.execute(update(Event).where(Event.id == event["id"]).values(title="Changed"))
        raise LookupError("the caller refuses")
    with unit_of_work(writes=False) as session:
        stored = session.execute(select(Event.title, Event.capacity).where(Event.id == event["id"])).one()
        assert not _in_transaction(session.connection().connection.driver_connection)
    assert tuple(stored) == ("Fachtag", event["capacity"])


def _in_transaction(driver) -> bool:
    if isinstance(driver, sqlite3.Connection):
        return driver.in_transaction
    return driver.info.transaction_status == TransactionStatus.INTRANS


def test_on_postgresql_a_results_columns_are_described_as_psycopg_describes_them(app, client):
    """The cursor builds its description when it is read, from the result it describes,
    even once the cursor has run another statement."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("psycopg's cursor")
    import psycopg

    create_event(client, title="Fachtag")
    query = "SELECT id, title, starts_at, capacity FROM events"
    with unit_of_work(writes=False) as session:
        driver = session.connection().connection.driver_connection
        ours = driver.cursor()
        ours.execute(query)
        described = ours.description
        ours.execute("SELECT 1 AS one")
        stock = psycopg.Cursor(driver)
        stock.execute(query)
        assert [tuple(column) for column in described] == [tuple(column) for column in stock.description]
        assert [column.name for column in ours.description] == ["one"]
        ours.execute("SET lock_timeout = '30s'")
        assert ours.description is None and stock.description is not None
        stock.close()
        ours.close()


def test_on_postgresql_the_standing_of_a_newcomer_is_planned_once(app, client):
    """The query under the event's lock has a plan that does not depend on its values; left
    to itself, PostgreSQL planned it again for every registration."""
    if app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite plans a statement once per connection anyway")
    event = create_event(client, capacity=3)
    for number in range(12):
        assert register(client, event["id"], f"p{number}@example.org").status_code == 201
    with unit_of_work(writes=False) as session:
        plans = session.execute(
            text("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%AS org_held%'")
        ).one()
    assert plans.generic_plans > 0 and plans.custom_plans <= 1


def test_every_response_carries_a_request_id_and_problems_name_it(client):
    response = client.get("/api/v1/events/999")
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] and response.get_json()["request_id"] == response.headers["X-Request-ID"]
    passed_on = client.get("/api/v1/events", headers={"X-Request-ID": "proxy-4711"})
    assert passed_on.headers["X-Request-ID"] == "proxy-4711"
    odd = client.get("/api/v1/events", headers={"X-Request-ID": "a b\x7f" + "x" * 100})
    assert odd.headers["X-Request-ID"] != "a b\x7f" + "x" * 100


def test_a_missing_schema_is_named_not_mistaken_for_load(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "x",
        }
    )
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["code"] == "schema_missing"
    assert "eventsvc db upgrade" in health.get_json()["detail"]
    listed = client.get("/api/v1/events")
    assert listed.status_code == 500 and listed.get_json()["code"] == "schema_missing"
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code != 0 and "eventsvc db upgrade" in result.output
    with app.app_context():
        db.engine.dispose()


def test_state_changes_are_logged_with_ids_not_names_or_addresses(client, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="eventsvc")
    event = create_event(client)
    made = register(client, event["id"], "erika@example.org", name="Erika Mustermann").get_json()
    client.delete(f"/api/v1/registrations/{made['token']}")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("eventsvc.domain")]
    assert f"event {event['id']}: created (published)" in lines
    assert f"registration {made['id']}: confirmed (registered) by participant" in lines
    assert f"registration {made['id']}: cancelled (participant) by participant" in lines
    assert not any("erika" in line.lower() or "Mustermann" in line for line in lines)


def test_every_registration_keeps_its_consent_and_the_privacy_notice_in_force(app, client):
    app.config["PRIVACY_URL"] = "https://verband.example/datenschutz"
    event = create_event(client)
    made = register(client, event["id"], "a@example.org").get_json()
    assert made["consented_at"] and made["privacy_url"] == "https://verband.example/datenschutz"
    app.config["PRIVACY_URL"] = "https://verband.example/datenschutz-2027"  # a new notice later
    shown = client.get(f"/api/v1/registrations/{made['token']}").get_json()
    assert shown["privacy_url"] == "https://verband.example/datenschutz" and shown["consented_at"].endswith("+01:00")
    listed = client.get(f"/api/v1/admin/events/{event['id']}/registrations", headers=ADMIN).get_json()
    assert listed[0]["privacy_url"] == "https://verband.example/datenschutz"


def test_a_registration_after_a_cancellation_in_one_transaction_sees_the_freed_seat(app, client, clock):
    """The counts kept on the event row are made again before a registration reads them
    when the same unit of work has already changed the event's registrations."""
    from eventsvc.domain import registrations

    event = create_event(client, capacity=2)
    first = register(client, event["id"], "first@example.org").get_json()
    register(client, event["id"], "second@example.org")
    with unit_of_work() as session:
        registrations.cancel(session, registrations.get_by_id(session, first["id"]), clock.now())
        newcomer = registrations.register(
            session, event["id"], registrations.Applicant(name="Neu", email="third@example.org"), clock.now()
        )
    assert newcomer.status == "confirmed"
    with unit_of_work(writes=False) as session:
        kept = session.get(Event, event["id"])
        assert (kept.kept_seats_taken, kept.kept_waitlist_length) == (2, 0)


def test_work_asked_for_before_commit_is_done_once_and_not_after_a_rollback(app):
    from eventsvc.db import before_commit

    done = []
    with unit_of_work() as session:
        before_commit(session, "count", lambda session: done.append("first"))
        before_commit(session, "count", lambda session: done.append("second"))
    assert done == ["second"]
    with pytest.raises(ValueError), unit_of_work() as session:
        before_commit(session, "count", lambda session: done.append("rolled back"))
        raise ValueError("refused")
    with unit_of_work() as session:
        pass
    assert done == ["second"]


def _writers_queue_is_free(app) -> bool:
    """Whether another writer could take the SQLite database's place in the queue now."""
    import fcntl
    import os

    path = make_url(app.config["DATABASE_URL"]).database
    fd = os.open(f"{path}-writers", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # which lets go of it again
    return True


def test_on_sqlite_a_write_holds_the_writers_queue_until_it_commits_or_rolls_back(app, client):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite's writers queue on a file lock")
    event = create_event(client)
    assert _writers_queue_is_free(app)
    with unit_of_work() as session:
        lock_event(session, event["id"])
        assert not _writers_queue_is_free(app)
    assert _writers_queue_is_free(app)
    with pytest.raises(ValueError), unit_of_work() as session:
        lock_event(session, event["id"])
        raise ValueError("refused")
    assert _writers_queue_is_free(app)
    with unit_of_work(writes=False) as session:
        session.get(Event, event["id"])
        assert _writers_queue_is_free(app)  # a read queues behind no writer


def test_on_sqlite_a_writer_kept_waiting_too_long_gets_a_503_and_the_next_one_gets_in(app, client, monkeypatch):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite's writers queue on a file lock")
    import eventsvc.db

    event = create_event(client)
    monkeypatch.setattr(eventsvc.db, "LOCK_TIMEOUT_SECONDS", 0.2)
    holder = db.engine.connect()
    try:
        holder.begin()
        holder.execute(update(Event).where(Event.id == event["id"]).values(sequence=Event.sequence))
        kept_waiting = register(client, event["id"], "late@example.org")
        assert kept_waiting.status_code == 503
        holder.commit()
    finally:
        holder.close()
    assert register(client, event["id"], "late@example.org").status_code == 201
    assert _writers_queue_is_free(app)


_RENAME = Prepared(update(Event).where(Event.id == bindparam("event_id")).values(title=bindparam("title")))


def test_statements_run_later_are_written_with_the_commit_and_seen_by_the_next_statement(app, client):
    from eventsvc.db import run_later

    event = create_event(client, title="Fachtag")
    with unit_of_work() as session:
        lock_event(session, event["id"])
        run_later(session, (_RENAME, {"event_id": event["id"], "title": "Later"}))
        assert session.scalar(select(Event.title).where(Event.id == event["id"])) == "Later"
        run_later(session, (_RENAME, {"event_id": event["id"], "title": "At the commit"}))
    with unit_of_work(writes=False) as session:
        assert session.scalar(select(Event.title).where(Event.id == event["id"])) == "At the commit"


def test_statements_run_later_go_with_a_rollback_and_not_into_the_next_transaction(app, client):
    from eventsvc.db import run_later

    event = create_event(client, title="Fachtag")
    with pytest.raises(LookupError), unit_of_work() as session:
        lock_event(session, event["id"])
        run_later(session, (_RENAME, {"event_id": event["id"], "title": "Refused"}))
        raise LookupError("the caller refuses")
    with unit_of_work() as session:
        lock_event(session, event["id"])
    with unit_of_work(writes=False) as session:
        assert session.scalar(select(Event.title).where(Event.id == event["id"])) == "Fachtag"


def test_a_statement_run_later_that_fails_fails_the_unit_of_work_and_nothing_of_it_is_kept(app, client):
    from sqlalchemy.exc import IntegrityError

    from eventsvc.db import run_later

    event = create_event(client, title="Fachtag")
    taken = create_event(client, title="Other")
    clash = Prepared(update(Event).where(Event.id == bindparam("event_id")).values(uid=bindparam("uid")))
    with pytest.raises(IntegrityError), unit_of_work() as session:
        lock_event(session, event["id"])
        session.execute(update(Event).where(Event.id == event["id"]).values(capacity=1))
        uid = session.scalar(select(Event.uid).where(Event.id == taken["id"]))
        run_later(session, (clash, {"event_id": event["id"], "uid": uid}))
    with unit_of_work(writes=False) as session:
        assert session.scalar(select(Event.capacity).where(Event.id == event["id"])) == event["capacity"]
    assert register(client, event["id"], "after@example.org").status_code == 201
