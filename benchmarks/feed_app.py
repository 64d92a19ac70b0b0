"""The service's app plus one route that serves a static file: the baseline of calendar_feed.py,
served by the same app in the same gunicorn workers."""

import os

from flask import send_file

from eventsvc import create_app

app = create_app()


@app.get("/bench/static.ics")
def static_copy():
    return send_file(os.environ["BENCH_STATIC_FILE"], mimetype="text/calendar", conditional=True, etag=True)
