"""A gunicorn access log without the secrets that stand in URLs.

Participants' tokens are their only key, and they are part of paths (`/r/<token>`,
`/d/<token>`, `/feeds/<token>.ics`, `/api/v1/registrations/<token>/…`). gunicorn's access
log writes paths as they came; this logger writes `…` in place of each token:

    gunicorn --logger-class eventsvc.access_log.TokenRedactingLogger --access-logfile - eventsvc.wsgi:app
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from eventsvc.logs import redact

# The atoms that carry the request line, the path, the query or the referring page.
_URL_ATOMS = ("r", "U", "q", "f")


class TokenRedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in _URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        if isinstance(atoms.get("{referer}i"), str):
            atoms["{referer}i"] = redact(atoms["{referer}i"])
        return atoms
