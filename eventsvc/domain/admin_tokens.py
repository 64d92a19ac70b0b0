"""Organizers' API tokens: shown once when made, kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventsvc.domain.models import AdminToken


def create_token(session: Session, name: str, now: datetime) -> str:
    token = "evs_" + secrets.token_urlsafe(32)
    session.add(AdminToken(name=name, token_hash=_hash(token), created_at=now))
    session.flush()
    return token


def is_valid(session: Session, presented: str, configured: Optional[str]) -> bool:
    if configured and hmac.compare_digest(presented.encode(), str(configured).encode()):
        return True
    # A lookup by hash leaks nothing useful about the token through timing: the attacker
    # would have to find SHA-256 preimages to steer it.
    digest = _hash(presented)
    stored = session.scalar(select(AdminToken.token_hash).where(AdminToken.token_hash == digest))
    return stored is not None and hmac.compare_digest(stored, digest)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
