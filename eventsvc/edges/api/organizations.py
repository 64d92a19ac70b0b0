"""Member organizations: the organizers' import and list, and the public look-up for the form."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from eventsvc.db import unit_of_work
from eventsvc.domain import organizations
from eventsvc.domain.errors import ValidationFailed
from eventsvc.edges.api.auth import SECURITY
from eventsvc.edges.api.events import admin
from eventsvc.edges.common import now
from eventsvc.edges.schemas import (
    ImportCountsSchema,
    OrganizationLookupQuerySchema,
    OrganizationLookupSchema,
    OrganizationSchema,
    OrganizationsImportSchema,
)

ORGANIZATIONS_IMPORT_PATH = "/api/v1/admin/organizations"

lookup = Blueprint("organizations", __name__, url_prefix="/api/v1", description="Member organizations, for the form")


@admin.route("/organizations", methods=["PUT"])
@admin.doc(
    security=SECURITY,
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": OrganizationsImportSchema},
            "text/csv": {
                "schema": {"type": "string", "description": "header key,name,kind,region,member,email_domains"}
            },
        },
    },
)
@admin.response(200, ImportCountsSchema)
def import_organizations() -> ResponseReturnValue:
    """Create or update organizations from CSV or JSON; never deletes. One bad row rejects
    the whole import (422, `errors` keyed `rows.<n>`, data rows counted from 1)."""
    if request.mimetype == "text/csv":
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed({"rows": ["The CSV must be UTF-8."]}) from None
        rows = organizations.rows_from_csv(text)
    else:
        body = request.get_json(silent=True)
        try:
            rows = OrganizationsImportSchema().load(body if isinstance(body, dict) else {})["organizations"]
        except ma.ValidationError as error:
            raise ValidationFailed(_row_errors(error.normalized_messages())) from None
    with unit_of_work() as session:
        return organizations.import_organizations(session, rows, now())


def _row_errors(messages: dict[str, Any]) -> dict[str, list[str]]:
    """The schema's errors, keyed `rows.<n>` as the CSV's are (n from 1)."""
    found: dict[str, list[str]] = {}
    rows = messages.get("organizations")
    if isinstance(rows, dict):
        for index, problem in rows.items():
            key = f"rows.{int(index) + 1}" if str(index).isdigit() else "organizations"
            found[key] = [str(problem)]
    elif rows is not None:
        found["organizations"] = [str(rows)]
    for name, problem in messages.items():
        if name != "organizations":
            found[str(name)] = [str(problem)]
    return found


@admin.route("/organizations", methods=["GET"])
@admin.response(200, OrganizationSchema(many=True))
@admin.doc(security=SECURITY)
def list_organizations() -> ResponseReturnValue:
    """Every organization, by name."""
    with unit_of_work(writes=False) as session:
        return organizations.list_organizations(session)


@lookup.route("/organizations", methods=["GET"])
@lookup.arguments(OrganizationLookupQuerySchema(), location="query", unknown=ma.RAISE)
@lookup.response(200, OrganizationLookupSchema(many=True))
def find(query: dict[str, Any]) -> ResponseReturnValue:
    """At most 20 organizations whose name contains `q` or whose key starts with it (names and keys only)."""
    with unit_of_work(writes=False) as session:
        return [{"key": key, "name": name} for key, name in organizations.search(session, query["q"])]
