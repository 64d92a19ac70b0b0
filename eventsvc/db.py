"""The database: the handle, the unit of work (the one place that commits), and everything
that differs between SQLite and PostgreSQL.

The split between the two databases lives here and nowhere else:

- Locking an event's seats. PostgreSQL takes a row lock (SELECT … FOR UPDATE) inside a
  READ COMMITTED transaction. SQLite has no row locks; a transaction that writes begins
  IMMEDIATE and so holds the database's write lock from its first statement (SQLAlchemy's
  documented recipe: the driver's own transaction handling is switched off). A read never
  waits behind a writer (WAL mode). Writers queue for that lock on a `flock` first
  (WritersQueue), tried far more often than SQLite's own wait tries its lock.
- Reading a new row's id before its INSERT (NextId): a sequence, or the largest id plus one.
- How long a lock is waited for: SQLite's busy_timeout, PostgreSQL's lock_timeout. Past
  it, the statement fails, and the edge answers 503.
- Inserting rows that may already exist (ON CONFLICT DO NOTHING), which SQLAlchemy builds
  per dialect.
- Running a few statements in one round trip (`run_together`): psycopg's pipeline mode on
  PostgreSQL; SQLite runs in the process and has no round trips to save.
- Beginning a transaction. Both drivers run in autocommit mode and the transaction is begun
  here, as SQLAlchemy's recipe for SQLite does. On PostgreSQL a transaction that writes
  sends its BEGIN with its first statement, in the same round trip when that statement is
  run through `run_together`. A read begins no transaction at all, on either database:
  each statement then sees what was committed when it began (on PostgreSQL, READ COMMITTED
  does the same inside a transaction), and BEGIN and COMMIT would only cost two round
  trips, or on SQLite two statements.

`FOR UPDATE` and `FOR UPDATE SKIP LOCKED` are written the same way for both: SQLite's
compiler leaves them out, and the IMMEDIATE transaction already excludes other writers.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Optional, overload

import psycopg
from flask import current_app, has_app_context
from flask_sqlalchemy import SQLAlchemy
from psycopg.pq import ExecStatus
from sqlalchemy import ColumnElement, DateTime, Integer, MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.pool import Pool
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

# Stable constraint names, so that Alembic can compare and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# How long a statement waits for a lock before it gives up (and the request gets a 503).
LOCK_TIMEOUT_SECONDS = 30
# The execution option that marks a transaction as one that writes.
_WRITES = "eventsvc_writes"
# In a PostgreSQL connection's info: the write transaction begun has not sent its BEGIN yet.
_BEGIN_PENDING = "eventsvc.begin_pending"
# In a connection's info: the unit of work on it only reads, and a statement that writes is
# refused (a read runs without a transaction, so a write could not be undone).
_READS_ONLY = "eventsvc.reads_only"
_WRITE_IN_A_READ = "a unit of work that reads does not write; use unit_of_work(writes=True)"
# Set in session.info when a transaction queued email, so that the unit of work can wake an
# in-process sender once it has committed instead of leaving the email to the next tick.
OUTBOX_WRITTEN = "eventsvc.outbox_written"
# In a PostgreSQL connection's info: statements run_later left for the next round trip.
_LATER = "eventsvc.later"
# In session.info: work the unit of work does just before it commits, by key (see before_commit).
_BEFORE_COMMIT = "eventsvc.before_commit"


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; SQLite hands back naive values, which are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)
# The models' base class: Flask-SQLAlchemy's db.Model, which type checkers know as Base.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


# --- the unit of work ----------------------------------------------------------------------


@contextmanager
def unit_of_work(writes: bool = True, session: Optional[Session] = None) -> Iterator[Session]:
    """One transaction around a domain call: committed when the block ends, rolled back
    entirely when it raises. Every edge and every scheduler job goes through here; the
    domain only flushes.

    `writes=False` marks a read: it begins no transaction, and waits for no writer.
    A transaction the session had open before (say, a token lookup) is ended first, so that
    the block runs in a transaction of the kind it asked for.
    """
    session = session if session is not None else db.session()
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={_WRITES: writes})
    session.info[_WRITES] = writes
    try:
        yield session
        for key in list(session.info.get(_BEFORE_COMMIT, ())):
            do_before_commit_now(session, key)
        if writes and session.in_transaction():
            # On PostgreSQL, what run_later left goes in the COMMIT's round trip.
            _send_later_statements(session.connection(), commit=True)
    except BaseException:
        session.rollback()
        session.info.pop(OUTBOX_WRITTEN, None)
        raise
    else:
        session.commit()
        if session.info.pop(OUTBOX_WRITTEN, False):
            _wake_sender()
    finally:
        session.info.pop(_WRITES, None)
        session.info.pop(_BEFORE_COMMIT, None)


def before_commit(session: Session, key: Hashable, work: Callable[[Session], None]) -> None:
    """Have the unit of work call `work(session)` once, after the block and before it
    commits, however often the same `key` is asked for."""
    session.info.setdefault(_BEFORE_COMMIT, {})[key] = work


def do_before_commit_now(session: Session, key: Hashable) -> None:
    """Do the work asked for under `key` now, if any, rather than before the commit: for a
    statement that needs what it would bring up to date."""
    work = session.info.get(_BEFORE_COMMIT, {}).pop(key, None)
    if work is not None:
        work(session)


def require_write_transaction(session: Session) -> None:
    """Locks are taken only inside a unit of work that writes: outside one, a lock would be
    released by whatever commits next, or (SQLite) not be a lock at all."""
    if not session.info.get(_WRITES):
        raise RuntimeError("a lock is taken only inside unit_of_work(writes=True)")


def _wake_sender() -> None:
    """Ask an in-process scheduler to look at the outbox now rather than at its next tick."""
    if has_app_context():
        wake = current_app.extensions.get("eventsvc.wake_sender")
        if wake is not None:
            wake()


# --- what differs between SQLite and PostgreSQL -------------------------------------------


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": LOCK_TIMEOUT_SECONDS, "check_same_thread": False}}
    # No pre-ping: it would cost a round trip per request. A connection lost to a database
    # restart fails one request with a 503 problem and is replaced.
    return {
        # Transactions are begun by `_begin` below, and only for writes.
        "isolation_level": "AUTOCOMMIT",
        "pool_size": 10,
        "max_overflow": 10,
        "pool_recycle": 1800,
        "connect_args": {
            "options": f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}",
            "cursor_factory": _Cursor,
        },
    }


class _Cursor(psycopg.Cursor[Any]):
    """psycopg's cursor, its `description` built when it is first read. SQLAlchemy asks for
    the description of every result, but of a statement it has run before it only asks
    whether there is one; psycopg built a column object for each column (95 µs for an
    event's 48), for a look-up that then finds nothing."""

    @property
    def description(self) -> Optional[Sequence[psycopg.Column]]:  # type: ignore[override]  # a sequence, not a list
        result = self.pgresult
        if result is None or not (result.nfields or result.status == ExecStatus.TUPLES_OK):
            return super().description  # what psycopg says of results without rows
        return _Columns(self, result)


class _Columns(Sequence[psycopg.Column]):
    """A result's column objects, built on first use from that result (the cursor may have
    run another statement by then)."""

    def __init__(self, cursor: _Cursor, result: Any) -> None:
        self._cursor = cursor
        self._result = result
        self._count: int = result.nfields
        self._columns: Optional[list[psycopg.Column]] = None

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> psycopg.Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[psycopg.Column]: ...
    def __getitem__(self, index: int | slice) -> psycopg.Column | Sequence[psycopg.Column]:
        if self._columns is None:
            cursor = self._cursor
            of = SimpleNamespace(pgresult=self._result, _encoding=cursor._encoding, adapters=cursor.adapters)
            self._columns = [psycopg.Column(of, number) for number in range(self._count)]  # type: ignore[arg-type]
        return self._columns[index]


def insert_ignoring_duplicates(session: Session, table: Any, unique_columns: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on the unique `unique_columns`."""
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=unique_columns)


def is_lost_connection_or_lock_timeout(error: BaseException) -> bool:
    """Whether an OperationalError means 'try again' (a busy or unreachable database), as
    opposed to a fault that retrying cannot mend (a missing table, say)."""
    original = getattr(error, "orig", error)
    if getattr(error, "connection_invalidated", False):
        return True
    if isinstance(original, sqlite3.OperationalError):
        return "locked" in str(original) or "busy" in str(original)
    sqlstate = getattr(original, "sqlstate", None) or ""
    # 08: connection exception; 55P03: lock_not_available; 57P01-3: server shutting down.
    return sqlstate.startswith("08") or sqlstate in ("55P03", "57P01", "57P02", "57P03")


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Autocommit at the driver level: the "begin" hook below issues BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    path = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
    cursor.close()
    if path:  # a database in memory has one connection, and nobody to queue behind
        record.info[_WRITERS_QUEUE] = WritersQueue(f"{path}-writers")


# --- SQLite: writers queue in the kernel, not in SQLite's sleeps ---------------------------

# In a SQLite connection's pool entry: its place in the writers' queue.
_WRITERS_QUEUE = "eventsvc.writers_queue"


class WritersQueue:
    """One connection's place in the queue of writers to a SQLite database: an exclusive
    `flock` on a file beside it, taken before BEGIN IMMEDIATE and let go once the transaction
    has ended.

    A writer that finds SQLite's write lock taken sleeps and tries again 1, 2, 5, 10 ms and
    longer apart, however short the holder's transaction; two workers in a rush lose
    milliseconds at each collision. The file lock is tried every 20 µs at first, at most every
    250 µs, so a writer gets in soon after the one before it ends. (A blocking `flock` cannot
    give up after LOCK_TIMEOUT_SECONDS; a thread waiting in it for us cost as much as SQLite's
    sleeps.) Each connection opens the file itself: threads of one process queue like
    processes.
    """

    FIRST_PAUSE = 0.000_02
    LONGEST_PAUSE = 0.000_25

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held = False

    def join(self, timeout: float) -> None:
        """Wait for this connection's turn, at most `timeout` seconds (then 'database is
        locked', as SQLite's own wait would end)."""
        deadline = time.monotonic() + timeout
        pause = self.FIRST_PAUSE
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
                time.sleep(pause)
                pause = min(2 * pause, self.LONGEST_PAUSE)
        self.held = True

    def leave(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.held = False
        os.close(self.fd)


@event.listens_for(Engine, "commit")
def _commit_then_leave_the_queue(conn: Connection) -> None:
    """End the transaction here, then let the next writer in (SQLAlchemy's own COMMIT
    follows this hook and finds no transaction left to end)."""
    _end_then_leave_the_queue(conn, "commit")


@event.listens_for(Engine, "rollback")
def _roll_back_then_leave_the_queue(conn: Connection) -> None:
    conn.info.pop(_LATER, None)  # never sent: they go with the transaction
    _end_then_leave_the_queue(conn, "rollback")


def _end_then_leave_the_queue(conn: Connection, end: str) -> None:
    writers = conn.connection.info.get(_WRITERS_QUEUE)
    if writers is not None and writers.held:
        try:
            getattr(conn.connection.driver_connection, end)()
        finally:
            writers.leave()


@event.listens_for(Pool, "checkin")
def _leave_the_queue_on_return(_dbapi_connection: Any, record: Any) -> None:
    if record is None:
        return
    record.info.pop(_LATER, None)
    writers = record.info.get(_WRITERS_QUEUE)
    if writers is not None:
        writers.leave()


@event.listens_for(Pool, "close")
def _close_the_queue(_dbapi_connection: Any, record: Any) -> None:
    writers = record.info.pop(_WRITERS_QUEUE, None)
    if writers is not None:
        writers.close()


@event.listens_for(Engine, "begin")
def _begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    writes = options.get(_WRITES, True)
    conn.info[_READS_ONLY] = not writes
    if conn.dialect.name == "sqlite":
        if writes:
            writers = conn.connection.info.get(_WRITERS_QUEUE)
            if writers is not None:
                writers.join(LOCK_TIMEOUT_SECONDS)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return
    # A connection that asked for autocommit itself (the mail sender's) runs its statements
    # one by one. A connection made without `engine_options` has psycopg send BEGIN itself.
    in_autocommit = getattr(conn.connection.driver_connection, "autocommit", False)
    conn.info[_BEGIN_PENDING] = writes and "isolation_level" not in options and in_autocommit


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if (
        conn.info.get(_READS_ONLY)
        and context is not None
        and (context.isinsert or context.isupdate or context.isdelete)
    ):
        raise RuntimeError(_WRITE_IN_A_READ)
    if conn.info.get(_LATER):
        _send_later_statements(conn)
    if conn.info.pop(_BEGIN_PENDING, False):
        cursor.execute("BEGIN")


# --- statements on the hot path ------------------------------------------------------------


class NextId(ColumnElement[int]):
    """The id the next row of a table gets, read before its INSERT so that the INSERT need
    not return it (and can go with the COMMIT, see run_later): on PostgreSQL the next value
    of the table's sequence; on SQLite, whose write transaction excludes every other writer,
    one above the largest id, as SQLite would choose itself."""

    inherit_cache = True
    _traverse_internals = [("table_name", InternalTraversal.dp_string)]  # noqa: RUF012  # as SQLAlchemy declares it
    type = Integer()

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name


@compiles(NextId, "postgresql")
def _next_id_postgresql(element: NextId, compiler: Any, **_kw: Any) -> str:
    return f"nextval('{element.table_name}_id_seq')"


@compiles(NextId, "sqlite")
def _next_id_sqlite(element: NextId, compiler: Any, **_kw: Any) -> str:
    return f"(SELECT coalesce(max(id), 0) + 1 FROM {element.table_name})"


class Prepared:
    """A Core statement compiled once per database, run on the driver's own cursor.

    Registering runs a handful of fixed statements per request, and SQLAlchemy's work around
    each execution (its cache key, an execution context, result metadata) costs more than
    SQLite takes to run them. Parameters and results still pass through the statement's
    column types, as SQLAlchemy would convert them.

    `plan_once`: PostgreSQL plans the statement once for all values (a generic plan) once
    psycopg has prepared it. Left to itself, PostgreSQL plans a statement again for each
    execution where it estimates that a plan for the given values runs cheaper; for a
    statement of many subqueries whose plan does not depend on the values, planning then
    costs as much as running it.
    """

    def __init__(self, statement: Any, column_keys: Optional[Sequence[str]] = None, plan_once: bool = False) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self.plan_once = plan_once
        self._forms: dict[str, _CompiledForm] = {}

    def form(self, dialect: Dialect) -> _CompiledForm:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _CompiledForm(self.statement, self.column_keys, dialect)
        return form


class _CompiledForm:
    """One statement as one database gets it: SQL text, parameter conversion, row conversion."""

    def __init__(self, statement: Any, column_keys: Optional[list[str]], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if compiled.escaped_bind_names:
            raise ValueError("a prepared statement's parameters need plain names")
        if getattr(compiled, "insert_prefetch", None):
            # Python-side column defaults are filled in by SQLAlchemy's execution, not here.
            raise ValueError("a prepared INSERT gives every column that has a default")
        self.sql: str = compiled.string
        self.writes = bool(compiled.isinsert or compiled.isupdate or compiled.isdelete)
        # Positional drivers (sqlite3) take the values in this order; named ones (psycopg) a dict.
        self.positions: Optional[Sequence[str]] = compiled.positiontup
        self.converters: dict[str, Any] = {}
        # The statement's own values (its literals, LIMIT 1), and the names given with each run.
        self.fixed: dict[str, Any] = {}
        self.named: list[str] = []
        for parameter, name in compiled.bind_names.items():
            if parameter.callable is not None:
                raise ValueError("a prepared statement's parameters are values, not callables")
            if parameter.key == name:
                self.named.append(name)
                if not parameter.required:
                    self.fixed[name] = parameter.value
            else:
                self.fixed[name] = parameter.value
            convert = parameter.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                self.converters[name] = convert
        columns = list(statement.exported_columns)
        self.row_type = namedtuple("Row", [column.key for column in columns], rename=True)  # type: ignore[misc]
        self.readers = [column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns]

    def parameters(self, values: Mapping[str, Any]) -> Any:
        bound = self.fixed.copy()
        for name in self.named:
            if name in values:
                bound[name] = values[name]
            elif name not in bound:
                raise KeyError(f"a value is required for the parameter {name!r}")
        for name, convert in self.converters.items():
            bound[name] = convert(bound[name])
        return [bound[name] for name in self.positions] if self.positions is not None else bound

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[Any]:
        readers = self.readers
        return [
            self.row_type(*(value if read is None else read(value) for read, value in zip(readers, row, strict=True)))
            for row in fetched
        ]


def run_together(session: Session, *calls: tuple[Prepared, Mapping[str, Any]]) -> list[list[Any]]:
    """Run the statements in order inside the session's transaction and return each one's
    rows: on PostgreSQL in one round trip (each statement still runs after the one before it
    has finished, so a statement after a lock sees what the lock's holder committed).
    Statements left by run_later go first."""
    connection = session.connection()
    statements = _checked(connection, calls)
    plan_once = [prepared.plan_once for prepared, _ in calls]
    waiting: list[tuple[_CompiledForm, Any]] = connection.info.pop(_LATER, [])
    fetched = _run(connection, waiting + statements, [False] * len(waiting) + plan_once)[len(waiting) :]
    return [form.rows(rows) for (form, _), rows in zip(statements, fetched, strict=True)]


def run_later(session: Session, *calls: tuple[Prepared, Mapping[str, Any]]) -> None:
    """Run statements whose results nobody reads, in order, inside the session's transaction:
    on SQLite at once; on PostgreSQL with the transaction's next round trip (the next
    statement, or the COMMIT), so that they cost none of their own. A statement that fails
    fails there, and the unit of work rolls back as for any other."""
    connection = session.connection()
    statements = _checked(connection, calls)
    if connection.dialect.name == "postgresql":
        connection.info.setdefault(_LATER, []).extend(statements)
    else:
        _run(connection, statements, [False] * len(statements))


def _checked(connection: Connection, calls: Sequence[tuple[Prepared, Mapping[str, Any]]]) -> list[Any]:
    forms = [(prepared.form(connection.dialect), values) for prepared, values in calls]
    statements = [(form, form.parameters(values)) for form, values in forms]
    if connection.info.get(_READS_ONLY) and any(form.writes for form, _ in statements):
        raise RuntimeError(_WRITE_IN_A_READ)
    return statements


def _run(connection: Connection, statements: list[Any], plan_once: list[bool], commit: bool = False) -> list[Any]:
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    begin = connection.info.pop(_BEGIN_PENDING, False)
    try:
        if dialect.name == "postgresql" and (begin or commit or len(statements) > 1 or any(plan_once)):
            return _pipelined(driver, statements, begin, plan_once, commit)
        return [_executed(driver, form.sql, parameters) for form, parameters in statements]
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            "; ".join(form.sql for form, _ in statements), None, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error


def _send_later_statements(connection: Connection, commit: bool = False) -> None:
    """Send what run_later left (on PostgreSQL), with the COMMIT if `commit`."""
    waiting = connection.info.pop(_LATER, None)
    if waiting:
        _run(connection, waiting, [False] * len(waiting), commit)


def _executed(driver: Any, sql: str, parameters: Any) -> list[Any]:
    cursor = driver.cursor()
    try:
        cursor.execute(sql, parameters)
        return _fetched(cursor)
    finally:
        cursor.close()


def _fetched(cursor: Any) -> list[Any]:
    """The statement's rows, or none for one that returns none. psycopg builds a column
    object per column for `description`, so its result's status is asked instead."""
    result = getattr(cursor, "pgresult", None)
    if result is not None:
        return list(cursor.fetchall()) if result.status == ExecStatus.TUPLES_OK else []
    return list(cursor.fetchall()) if cursor.description is not None else []


def _pipelined(
    driver: Any, statements: list[tuple[_CompiledForm, Any]], begin: bool, plan_once: list[bool], commit: bool = False
) -> list[list[Any]]:
    cursors = []
    with driver.pipeline():
        if begin:
            driver.execute("BEGIN")
        for (form, parameters), generic in zip(statements, plan_once, strict=True):
            cursor = driver.cursor()
            if generic:
                # A session setting, not SET LOCAL: a read runs outside a transaction. If the
                # statement fails, the pipeline's transaction takes the setting back with it.
                driver.execute("SET plan_cache_mode = force_generic_plan")
            cursor.execute(form.sql, parameters)
            if generic:
                driver.execute("RESET plan_cache_mode")
            cursors.append(cursor)
        if commit:
            driver.execute("COMMIT")
    # Leaving the pipeline sent it and waited for every result.
    fetched = [_fetched(cursor) for cursor in cursors]
    for cursor in cursors:
        cursor.close()
    return fetched
