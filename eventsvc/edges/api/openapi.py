"""What the OpenAPI document says beyond each operation's own schemas: the errors every
operation can answer with (as problem documents), and where the API is served."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from apispec import BasePlugin

BODY_METHODS = ("post", "put", "patch")


def json_or_csv(schema: Any, description: str) -> dict[str, Any]:
    """The 200 response of an operation that answers JSON, or CSV with `?format=csv`."""
    return {
        "200": {
            "description": description,
            "content": {"application/json": {"schema": schema}, "text/csv": {"schema": {"type": "string"}}},
        }
    }


class ErrorResponses(BasePlugin):
    """Adds to each operation the problem responses it can give, by its shape: 401 where a
    token is needed, 404 where the path names something, 400/415 where a body is read, 409
    where state can refuse, 429 on registering, 503 when the database is unreachable."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            for code in _codes(path or "", method, operation):
                responses.setdefault(str(code), HTTPStatus(code).name)


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    codes = [503]
    if operation.get("security"):
        codes.append(401)
    if "{" in path:
        codes.append(404)
    if method in BODY_METHODS:
        codes += [400, 415]
    if method in ("post", "patch", "delete"):
        codes.append(409)
    if path.endswith("/registrations") and method == "post":
        codes.append(429)
    if path.endswith("/documents") and method == "post":
        codes += [413, 507]
    return codes
