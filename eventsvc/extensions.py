"""Flask extensions, made once and bound to an app in the factory."""

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect


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
