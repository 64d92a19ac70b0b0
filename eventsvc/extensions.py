"""Flask extensions, made once and bound to an app in the factory."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_wtf import CSRFProtect

from eventsvc.edges.api.problems import ProblemApi

migrate = Migrate()
api = ProblemApi()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
