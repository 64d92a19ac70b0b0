"""Whether the database's schema is the one this code expects (Alembic's head)."""

from __future__ import annotations

from functools import lru_cache

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from eventsvc.resources import resource_dir

CURRENT, MISSING, OUTDATED = "current", "missing", "outdated"
UPGRADE_HINT = "run `eventsvc db upgrade`"


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(resource_dir("migrations"))).get_heads())


def schema_state(connection: Connection) -> str:
    """`current`, `missing` (no tables yet) or `outdated` (migrations pending, or the
    database is newer than this code)."""
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return MISSING
    return CURRENT if current == _heads() else OUTDATED
