"""Configuration: defaults, then EVENTSVC_* environment variables, then a test mapping."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask

from eventsvc.db import engine_options
from eventsvc.domain.durations import parse_duration

# Where links point when neither EVENTSVC_BASE_URL nor `eventsvc serve` says otherwise.
FALLBACK_BASE_URL = "http://127.0.0.1:5000"

DEFAULTS = {
    "ADMIN_TOKEN": None,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_DEFAULT_SENDER": "eventsvc <noreply@eventsvc.invalid>",
    "MAIL_TIMEOUT": 30,
    "MAIL_BATCH_SIZE": 200,
    "MAIL_RETRY_MAX_DELAY": 300,
    "MAIL_LEASE": 300,
    "TICK_SECONDS": 30,
    "EMAIL_TEMPLATES": None,
    "UPLOAD_MAX_BYTES": 50 * 1024 * 1024,
    "PRIVACY_URL": None,
    # How long after an event's end its personal data is kept (ISO 8601), unless the event
    # says otherwise; the end of retention works through RETENTION_BATCH registrations per
    # transaction and at most about RETENTION_ROWS_PER_TICK per scheduler tick.
    "RETENTION": "P365D",
    # The issuing office named on certificates of attendance (default: the event's organizer).
    "CERTIFICATE_ISSUER": None,
    "RETENTION_BATCH": 500,
    "RETENTION_ROWS_PER_TICK": 2000,
    # The accessibility statement's feedback address (default: the sender's address) and the
    # enforcement body's contact (name and address, as text).
    "ACCESSIBILITY_CONTACT": None,
    "ACCESSIBILITY_ENFORCEMENT": None,
    # Minutes without a request after which a console session ends; sign-in attempts that
    # fail, per client address and per account.
    "CONSOLE_IDLE_MINUTES": 30,
    "RATELIMIT_LOGIN": "10 per minute",
    "RATELIMIT_LOGIN_ACCOUNT": "5 per 15 minutes",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_REGISTRATION": "20 per minute",
    "TRUSTED_PROXIES": 0,
    # The envelope sender of every email, tagged per email (VERP); default: the sender's address.
    "BOUNCE_ADDRESS": None,
    # How long an address stays on a series' interest list while no event of it is published.
    "INTEREST_RETENTION": "P730D",
    "SCHEDULER_ENABLED": False,
}

# Values that from_prefixed_env may have turned into numbers or booleans but must be strings.
STRING_KEYS = (
    "ADMIN_TOKEN",
    "SECRET_KEY",
    "MAIL_PASSWORD",
    "MAIL_USERNAME",
    "DATABASE_URL",
    "BASE_URL",
    "BOUNCE_ADDRESS",
)


def load(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.update(DEFAULTS)
    raw_env = {key[len("EVENTSVC_") :]: value for key, value in os.environ.items() if key.startswith("EVENTSVC_")}
    app.config.from_prefixed_env("EVENTSVC")
    for key in STRING_KEYS:
        if key in raw_env:
            app.config[key] = raw_env[key]
    if overrides:
        app.config.update(overrides)
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{instance / 'eventsvc.sqlite3'}")
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["DATABASE_URL"])
    # Whether the base URL was given; `eventsvc serve` otherwise uses its own host and port.
    app.config["BASE_URL_GIVEN"] = bool(app.config.get("BASE_URL"))
    app.config["BASE_URL"] = str(app.config.get("BASE_URL") or FALLBACK_BASE_URL).rstrip("/")
    app.config.setdefault("MAIL_DIR", str(instance / "mail"))
    app.config.setdefault("UPLOAD_DIR", str(instance / "documents"))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    app.config["RETENTION_SECONDS"] = parse_duration(str(app.config["RETENTION"]))
    app.config["INTEREST_RETENTION_SECONDS"] = parse_duration(str(app.config["INTEREST_RETENTION"]))
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["UPLOAD_MAX_BYTES"]) + 64 * 1024


def _instance_secret(instance: Path) -> str:
    """A secret key made once per instance folder and kept, so sessions survive restarts."""
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made earlier, or by a sibling worker just now
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    for _ in range(50):
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.01)  # a sibling worker is between creating and writing the file
    raise RuntimeError(f"{path} stays empty")
