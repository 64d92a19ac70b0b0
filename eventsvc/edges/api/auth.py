"""Bearer-token protection of the admin endpoints."""

from __future__ import annotations

from functools import wraps

from flask import current_app, request

from eventsvc.db import db
from eventsvc.domain.admin_tokens import is_valid
from eventsvc.edges.api.problems import problem

SECURITY = [{"bearerAuth": []}]


def admin_required(view):
    @wraps(view)
    def guarded(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not is_valid(db.session, token, current_app.config.get("ADMIN_TOKEN")):
            return problem(401, "unauthorized", "A valid admin bearer token is required.",
                           headers={"WWW-Authenticate": 'Bearer realm="eventsvc"'})
        return view(*args, **kwargs)

    return guarded
