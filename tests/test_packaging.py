"""`pip install .` must give a working service: the wheel carries what the service reads."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.processes import ROOT


@pytest.mark.slow
def test_wheel_carries_migrations_templates_and_translations(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("eventsvc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "eventsvc/migrations/env.py",
        "eventsvc/migrations/alembic.ini",
        "eventsvc/migrations/script.py.mako",
        "eventsvc/migrations/versions/0001_initial_schema.py",
        "eventsvc/migrations/versions/0002_history_claims_lifecycle.py",
        "eventsvc/wsgi.py",
        "eventsvc/access_log.py",
        "eventsvc/edges/api/templates/api_docs.html",
        "eventsvc/edges/api/static/api-docs.js",
        "eventsvc/email_templates/confirmation.jinja",
        "eventsvc/email_templates/_frame.jinja",
        "eventsvc/edges/web/templates/event.html",
        "eventsvc/edges/web/static/style.css",
        "eventsvc/translations/en/LC_MESSAGES/messages.mo",
        "eventsvc/edges/web/static/console.js",
        "eventsvc/migrations/versions/0003_retention_certificates_messages.py",
        "eventsvc/migrations/versions/0004_organizers.py",
        "eventsvc/email_templates/message.jinja",
        "eventsvc/email_templates/retention-notice.jinja",
        "eventsvc/pdf/templates/certificate.html",
        "eventsvc/pdf/templates/attendance-sheet.html",
        "eventsvc/pdf/templates/print.css",
        "eventsvc/edges/console/templates/console/login.html",
    }
    assert expected <= names, sorted(expected - names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "eventsvc = eventsvc.edges.cli:cli" in zipfile.ZipFile(wheel).read(entry_points).decode()
