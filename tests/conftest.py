"""Fixtures over the real parts: SQLite and PostgreSQL, an SMTP server, the app factory.

Every test that takes `app` runs twice, once per database backend. PostgreSQL comes from
EVENTSVC_TEST_POSTGRES_URL (tests/run-all.sh starts a server and sets it); each test gets a
fresh database copied from a template that the migrations built once per test process (a
file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.engine import make_url

from eventsvc import create_app
from eventsvc.db import db
from eventsvc.domain.clock import SettableClock
from eventsvc.domain.models import Event, Registration
from eventsvc.domain.rules import SEATS_TAKEN, WAITING

# The browser fixtures (Chromium, the app over HTTP), for the tests that drive a browser.
pytest_plugins = ["tests.browser_support"]

ADMIN_TOKEN = "test-admin-token"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BACKENDS = [b for b in os.environ.get("EVENTSVC_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def postgres_admin_url() -> str:
    url = os.environ.get("EVENTSVC_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "EVENTSVC_TEST_POSTGRES_URL is not set: run tests/run-all.sh, or set "
            "EVENTSVC_TEST_BACKENDS=sqlite to leave PostgreSQL out on purpose"
        )
    return url


def _pg_execute(sql: str) -> None:
    url = make_url(postgres_admin_url())
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(sql)


def _database_url_for(name: str) -> str:
    return (
        make_url(postgres_admin_url())
        .set(drivername="postgresql+psycopg", database=name)
        .render_as_string(hide_password=False)
    )


def _migrate(url: str, instance: Path) -> None:
    app = create_app({"DATABASE_URL": url, "TESTING": True, "INSTANCE_PATH": str(instance)})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory):
    name = f"evs_tmpl_{uuid.uuid4().hex[:10]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    _migrate(_database_url_for(name), tmp_path_factory.mktemp("pg-template"))
    yield name
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, made once per test process and copied for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "eventsvc.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    name = f"evs_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _database_url_for(name)
    _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock():
    return SettableClock(T0)


@pytest.fixture
def app_config(database_url, tmp_path, clock):
    return {
        "DATABASE_URL": database_url,
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "CLOCK": clock,
        "BASE_URL": "https://events.example.org",
        "MAIL_DIR": str(tmp_path / "mail"),
        "UPLOAD_DIR": str(tmp_path / "documents"),
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():  # the database arrives migrated, copied from a template
        yield app
        db.session.remove()
        try:
            assert_kept_counts_hold()
        finally:
            db.engine.dispose()


def assert_kept_counts_hold() -> None:
    """Whatever a test did, the counts kept on each event row are what its registrations say."""
    with db.engine.connect() as connection:
        kept = connection.execute(
            select(Event.id, Event.kept_seats_taken, Event.kept_waitlist_length).order_by(Event.id)
        ).all()
        counted = dict.fromkeys((row.id for row in kept), (0, 0)) | {
            event_id: (taken, waiting)
            for event_id, taken, waiting in connection.execute(
                select(Registration.event_id, SEATS_TAKEN, WAITING).group_by(Registration.event_id)
            )
        }
    assert {row.id: (row.kept_seats_taken, row.kept_waitlist_length) for row in kept} == counted


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin():
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def smtp():
    from tests.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp):
    """The app, sending through the test SMTP server."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5)
    return app


@pytest.fixture
def organizer_client(app, client):
    """A test client signed in to the console as an organizer."""
    from tests.test_console import make_organizer, sign_in

    make_organizer(app)
    assert sign_in(client).status_code == 303
    return client
