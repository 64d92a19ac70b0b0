"""WSGI entry point: `gunicorn eventsvc.wsgi:app`, from any directory. The scheduler runs
separately (`eventsvc worker`); migrations are applied with `eventsvc db upgrade`."""

from eventsvc.app import create_app

app = create_app()
