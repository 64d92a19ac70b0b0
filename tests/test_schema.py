"""The migrations are the only source of the schema; they must say what the models say."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from eventsvc.db import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("a SQLite setting")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _three_people_for_one_seat_then_down_to_and_up_from(client, revision: str) -> dict:
    from flask_migrate import downgrade, upgrade

    from tests.helpers import create_event, register

    event = create_event(client, capacity=1)
    for number in range(3):
        register(client, event["id"], f"p{number}@example.org")
    db.session.remove()
    downgrade(revision=revision)
    upgrade()
    return event


def test_going_back_a_migration_keeps_the_registrations(app, client):
    """A downgrade that copies `events` (SQLite's batch mode) must not take its
    registrations with it through ON DELETE CASCADE."""
    event = _three_people_for_one_seat_then_down_to_and_up_from(client, "0004")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM registrations").scalar() == 3
    assert client.get(f"/api/v1/events/{event['id']}").status_code == 200


def test_the_migration_that_keeps_counts_on_events_counts_what_is_there(app, client):
    _three_people_for_one_seat_then_down_to_and_up_from(client, "0005")
    with db.engine.connect() as connection:
        kept = connection.exec_driver_sql("SELECT kept_seats_taken, kept_waitlist_length FROM events").one()
    assert tuple(kept) == (1, 2)
