"""Bearer-token protection of the admin endpoints, and who the caller is."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Optional

from flask import current_app, request
from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain.admin_tokens import holder
from eventsvc.domain.history import Actor, organizer
from eventsvc.edges.problems import problem

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_CACHED = "eventsvc.bearer_holder"
_UNSET = object()


def bearer_holder() -> Optional[str]:
    """The name of the valid admin token the request carries, or None (looked up once)."""
    cached = request.environ.get(_CACHED, _UNSET)
    if cached is _UNSET:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        name = None
        if scheme.lower() == "bearer" and token and len(token) <= 200 and "\x00" not in token:
            with unit_of_work(writes=False) as session:
                name = holder(session, token, current_app.config.get("ADMIN_TOKEN"))
        request.environ[_CACHED] = cached = name
    return cached if isinstance(cached, str) else None


def has_valid_bearer_token() -> bool:
    return bearer_holder() is not None


def acting_organizer() -> Actor:
    return organizer(bearer_holder())


def admin_required(
    view: Callable[..., Optional[ResponseReturnValue]],
) -> Callable[..., Optional[ResponseReturnValue]]:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Optional[ResponseReturnValue]:
        if bearer_holder() is None:
            return problem(
                401,
                "unauthorized",
                "A valid admin bearer token is required.",
                headers={"WWW-Authenticate": 'Bearer realm="eventsvc"'},
            )
        return view(*args, **kwargs)

    return guarded
