"""WSGI entry point in a checkout: `gunicorn wsgi:app` (installed: `gunicorn eventsvc.wsgi:app`)."""

from eventsvc.wsgi import app

__all__ = ["app"]
