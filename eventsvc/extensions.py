"""Flask extensions, made once and bound to an app in the factory."""

import time

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage


class InProcessCounts(MemoryStorage):
    """The in-process rate limit storage (`memory://`), counting without a thread per count.

    limits' own memory storage starts a timer thread to drop expired counts whenever its
    last one has ended, which on a busy worker is every few requests: a thread start, and
    the interpreter lock handed to it and back, cost over a hundred microseconds a count on
    a slow machine, more than the count. Here an expired count is dropped when its key is
    counted again, and all expired counts once a minute, by the request that counts.
    Registered for the `memory` scheme, so that `EVENTSVC_RATELIMIT_STORAGE_URI=memory://`
    (the default) gets it.
    """

    STORAGE_SCHEME = ["memory"]  # noqa: RUF012 (limits reads it as a plain class attribute)
    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions, **options)
        self.next_sweep = time.time() + self.SWEEP_SECONDS

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = self._current(key)
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = now + expiry
            return self.storage[key]

    def decr(self, key: str, amount: int = 1) -> int:
        self._current(key)
        with self.locks[key]:
            self.storage[key] = max(self.storage[key] - amount, 0)
            return self.storage[key]

    def _current(self, key: str) -> float:
        """Drop `key`'s count if its window has passed (and every passed count, once a
        minute); the time now."""
        now = time.time()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            for stale in [name for name, ends in list(self.expirations.items()) if ends <= now]:
                self.get(stale)
        else:
            self.get(key)
        return now


class RouteLimiter(Limiter):
    """Flask-Limiter with limits on routes only. The service sets no default or
    application-wide limits, so the check Flask-Limiter adds before every request would find
    nothing to count, at a cost to every request (a health check, a 404); the limits on
    routes are checked by their own decorators."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        checks = app.before_request_funcs.setdefault(None, [])
        if self._check_request_limit in checks:
            checks.remove(self._check_request_limit)


migrate = Migrate()
csrf = CSRFProtect()
# The client address comes from the connection, or from X-Forwarded-For when
# EVENTSVC_TRUSTED_PROXIES says how many proxies to believe (ProxyFix, in the factory).
limiter = RouteLimiter(key_func=get_remote_address, default_limits=[])
