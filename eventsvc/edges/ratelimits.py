"""The per-client limit on registering (EVENTSVC_RATELIMIT_REGISTRATION), on the form and the
JSON API alike.

It counts in Flask-Limiter's storage with Flask-Limiter's strategy (in memory, or in Redis
shared by every instance), but hits the counter directly: this decorator sits on the path a
booked-out event's rush takes, and Flask-Limiter's own decorator spends several times the
cost of the count on resolving which limits apply to the route. Each decorated view counts
on its own, as a route limit does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar, cast

from flask import current_app, request
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from eventsvc.extensions import limiter

View = TypeVar("View", bound=Callable[..., Any])


def never() -> bool:
    return False


def registrations_limited(exempt_when: Callable[[], bool] = never) -> Callable[[View], View]:
    """Refuse a POST beyond the registration limit of its client address with a 429 and
    Retry-After; requests for which `exempt_when()` is true are not counted."""

    def decorate(view: View) -> View:
        scope = f"registrations:{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST" and current_app.config.get("RATELIMIT_ENABLED", True) and not exempt_when():
                _count(scope, get_remote_address())
            return view(*args, **kwargs)

        return cast(View, limited)

    return decorate


def _count(scope: str, client: str) -> None:
    item = _parsed(str(current_app.config["RATELIMIT_REGISTRATION"]))
    strategy = limiter.limiter
    if not strategy.hit(item, scope, client):
        reset_at, _remaining = strategy.get_window_stats(item, scope, client)
        raise TooManyRequests(
            "Too many registrations from this address; try again later.",
            retry_after=max(1, math.ceil(reset_at - time.time())),
        )


@lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)
