"""URL converters shared by every edge."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

MAX_ID = 2**31 - 1


class IdConverter(BaseConverter):
    """A database id in a path. Any run of up to ten digits matches, so that the route (and
    its token check) answers; a number that cannot be an id becomes 0, which no row has, and
    the lookup answers 404. No path can overflow a 32-bit column."""

    regex = r"\d{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if 1 <= number <= MAX_ID else 0

    def to_url(self, value: Any) -> str:
        return str(value)


def id_parameter_schema(_converter: IdConverter) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}
