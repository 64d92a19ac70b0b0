"""eventsvc: specialist events from announcement to documentation.

Layout: `domain/` holds the models and every service that changes them; `edges/` the JSON
API, the web pages and the CLI, which parse, call the domain and render; `scheduler/` the
clock, which finds due work and calls the domain; `mail/` renders and sends emails;
`db.py` the database handle, the unit of work and the SQLite/PostgreSQL split; `app.py`
the factory that puts them together.
"""

from eventsvc.app import create_app

__all__ = ["create_app"]
