"""The audit log: what an organizer did in the console, under their name, written in the
transaction of the change itself."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.models import AuditEntry


def record(
    session: Session,
    organizer: str,
    action: str,
    now: datetime,
    event_id: Optional[int] = None,
    registration_id: Optional[int] = None,
    detail: Optional[str] = None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            organizer=organizer,
            action=action,
            event_id=event_id,
            registration_id=registration_id,
            detail=detail[:500] if detail else None,
        )
    )


def of_event(session: Session, event_id: int, limit: int = 200) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.event_id == event_id).order_by(AuditEntry.id.desc()).limit(limit)
        )
    )
