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
    database is newer than this code). The health check asks on every request: once a
    database was found current, its version table is read with one plain statement;
    before that, Alembic's own look-up (which builds a migration context, and copes with
    a database that has no version table yet) answers."""
    database = str(connection.engine.url)
    if database in _SEEN_CURRENT:
        current = {row[0] for row in connection.exec_driver_sql(_VERSIONS)}
    else:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if not current:
        return MISSING
    if current == _heads():
        _SEEN_CURRENT.add(database)
        return CURRENT
    return OUTDATED


_VERSIONS = "SELECT version_num FROM alembic_version"
# Databases (by URL) this process has found current.
_SEEN_CURRENT: set[str] = set()
