"""The baseline for registration_rush.py (bare Flask + Flask-SQLAlchemy, one INSERT per POST)
and for request_overhead.py (a bare hello).

Same database, same WAL setting on SQLite, same gunicorn: the difference to the service is
what the service does per registration (validation, the lock, counting seats, the outbox row).
"""

from __future__ import annotations

import os
import sqlite3

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

db = SQLAlchemy()


@event.listens_for(Engine, "connect")
def _wal(dbapi_connection, _record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")


class Row(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200))
    email = db.Column(db.String(254))


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["EVENTSVC_DATABASE_URL"]
    db.init_app(app)

    @app.post("/api/v1/events/<int:event_id>/registrations")
    def insert(event_id: int):
        body = request.get_json()
        row = Row(name=body["name"], email=body["email"])
        db.session.add(row)
        db.session.commit()
        return {"id": row.id, "status": "confirmed"}, 201

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/hello")
    def hello():
        """The least a Flask app can answer: the fixed cost every request of the service starts from."""
        return {"hello": "world"}

    return app


app = create_app()
