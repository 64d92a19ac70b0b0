"""Flask extensions, made once and bound to an app in the factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

migrate = Migrate()
csrf = CSRFProtect()
# The client address comes from the connection, or from X-Forwarded-For when
# EVENTSVC_TRUSTED_PROXIES says how many proxies to believe (ProxyFix, in the factory).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
