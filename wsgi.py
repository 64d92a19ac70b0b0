"""WSGI entry point: `gunicorn wsgi:app`. The scheduler runs separately (`eventsvc worker`)."""

from eventsvc import create_app

app = create_app()
