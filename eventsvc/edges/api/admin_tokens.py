"""Organizers' API tokens: listing and revoking them (making one is `eventsvc create-token`,
so that a token is only ever shown on the operator's terminal)."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

from eventsvc.db import unit_of_work
from eventsvc.domain import admin_tokens
from eventsvc.domain.models import AdminToken
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.schemas import AdminTokenSchema


@admin.route("/tokens", methods=["GET"])
@admin.response(200, AdminTokenSchema(many=True))
@admin.doc(security=SECURITY)
def list_tokens() -> ResponseReturnValue:
    """Every token made with `eventsvc create-token`, revoked ones included (never the token itself)."""
    with unit_of_work(writes=False) as session:
        return [_as_dict(token) for token in admin_tokens.list_tokens(session)]


@admin.route("/tokens/<name>/revoke", methods=["POST"])
@admin.response(200, AdminTokenSchema)
@admin.doc(security=SECURITY)
def revoke(name: str) -> ResponseReturnValue:
    """Revoke a token by its name: it answers 401 from now on."""
    with unit_of_work() as session:
        return _as_dict(admin_tokens.revoke(session, name, now()))


def _as_dict(token: AdminToken) -> dict[str, Any]:
    return {"name": token.name, "created_at": token.created_at, "revoked_at": token.revoked_at}
