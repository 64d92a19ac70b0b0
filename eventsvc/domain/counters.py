"""The counts kept on each event row, `events.seats_taken` and `events.people_waiting`.

Registering asks, under the event's lock, how many seats are taken and how many people
wait. Counting the event's registrations each time grows with the rush: at 2,000
registrations the count was nearly all of the time the lock was held. The database keeps
the two counts instead, with triggers on `registrations` that fire on every insert, change
of status or event, and delete, whichever code path makes it (a bulk UPDATE included). The
statuses counted are the ones `rules.HOLDS_SEAT` and `rules.IS_WAITING` name, taken from
`statuses`, so that the counts and the conditions cannot disagree.

The trigger definitions are SQL per database; a migration installs them
(`installing(dialect)`) and removes them (`removing(dialect)`).
"""

from __future__ import annotations

from eventsvc.domain.statuses import SEAT_HOLDING, WAITLISTED

_SEAT = "({row}.status IN (" + ", ".join(f"'{status}'" for status in SEAT_HOLDING) + "))"
_WAIT = f"({{row}}.status = '{WAITLISTED}')"
_COUNTED = "({row}.status IN (" + ", ".join(f"'{status}'" for status in (*SEAT_HOLDING, WAITLISTED)) + "))"
_TRIGGERS = ("registrations_counted_insert", "registrations_counted_update", "registrations_counted_delete")


def _sqlite_change(row: str, sign: str, cast: str = "") -> str:
    seat, wait = _SEAT.format(row=row), _WAIT.format(row=row)
    return (
        f"UPDATE events SET seats_taken = seats_taken {sign} {seat}{cast}, "
        f"people_waiting = people_waiting {sign} {wait}{cast} WHERE id = {row}.event_id;"
    )


def installing(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER registrations_counted_insert AFTER INSERT ON registrations "
            f"WHEN {_COUNTED.format(row='NEW')} BEGIN {_sqlite_change('NEW', '+')} END",
            "CREATE TRIGGER registrations_counted_update AFTER UPDATE OF status, event_id ON registrations "
            "WHEN OLD.status IS NOT NEW.status OR OLD.event_id IS NOT NEW.event_id "
            f"BEGIN {_sqlite_change('OLD', '-')} {_sqlite_change('NEW', '+')} END",
            f"CREATE TRIGGER registrations_counted_delete AFTER DELETE ON registrations "
            f"WHEN {_COUNTED.format(row='OLD')} BEGIN {_sqlite_change('OLD', '-')} END",
        ]
    change = {row: (f"{_SEAT.format(row=row)}::int", f"{_WAIT.format(row=row)}::int") for row in ("OLD", "NEW")}
    return [
        f"""CREATE FUNCTION registrations_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.event_id = NEW.event_id THEN
        UPDATE events SET seats_taken = seats_taken - {change["OLD"][0]} + {change["NEW"][0]},
            people_waiting = people_waiting - {change["OLD"][1]} + {change["NEW"][1]}
            WHERE id = NEW.event_id;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE events SET seats_taken = seats_taken - {change["OLD"][0]},
            people_waiting = people_waiting - {change["OLD"][1]} WHERE id = OLD.event_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE events SET seats_taken = seats_taken + {change["NEW"][0]},
            people_waiting = people_waiting + {change["NEW"][1]} WHERE id = NEW.event_id;
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER registrations_counted_insert AFTER INSERT ON registrations FOR EACH ROW "
        f"WHEN {_COUNTED.format(row='NEW')} EXECUTE FUNCTION registrations_counted()",
        "CREATE TRIGGER registrations_counted_update AFTER UPDATE OF status, event_id ON registrations FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.event_id IS DISTINCT FROM NEW.event_id) "
        "EXECUTE FUNCTION registrations_counted()",
        f"CREATE TRIGGER registrations_counted_delete AFTER DELETE ON registrations FOR EACH ROW "
        f"WHEN {_COUNTED.format(row='OLD')} EXECUTE FUNCTION registrations_counted()",
    ]


def recounting() -> str:
    """Sets both counts from the registrations: once, when the triggers are installed."""
    seat, wait = _SEAT.format(row="registrations"), _WAIT.format(row="registrations")
    return (
        f"UPDATE events SET "
        f"seats_taken = (SELECT count(*) FROM registrations WHERE registrations.event_id = events.id AND {seat}), "
        f"people_waiting = (SELECT count(*) FROM registrations WHERE registrations.event_id = events.id AND {wait})"
    )


def removing(dialect: str) -> list[str]:
    dropped = [
        f"DROP TRIGGER IF EXISTS {name}" + ("" if dialect == "sqlite" else " ON registrations") for name in _TRIGGERS
    ]
    return dropped if dialect == "sqlite" else [*dropped, "DROP FUNCTION IF EXISTS registrations_counted()"]
