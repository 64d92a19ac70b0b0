"""Every URL the service hands out (in emails, feeds, invites and API responses), built from
one base URL (EVENTSVC_BASE_URL, or where `eventsvc serve` listens)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Links:
    base: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", self.base.rstrip("/"))

    def event(self, event_id: int) -> str:
        return f"{self.base}/events/{event_id}"

    def event_ics(self, event_id: int) -> str:
        return f"{self.base}/events/{event_id}.ics"

    def manage(self, token: str) -> str:
        return f"{self.base}/r/{token}"

    def invite(self, token: str) -> str:
        return f"{self.base}/api/v1/registrations/{token}/invite.ics"

    def personal_feed(self, feed_token: str) -> str:
        return f"{self.base}/feeds/{feed_token}.ics"

    def download(self, delivery_token: str) -> str:
        return f"{self.base}/d/{delivery_token}"

    def console(self) -> str:
        return f"{self.base}/admin/"

    def console_setup(self, secret: str) -> str:
        return f"{self.base}/admin/password/{secret}"

    def feedback(self, token: str) -> str:
        return f"{self.base}/f/{token}"

    def interest_confirm(self, token: str) -> str:
        return f"{self.base}/interest/{token}"

    def interest_leave(self, token: str) -> str:
        return f"{self.base}/interest/{token}/leave"

    def series(self, key: str) -> str:
        return f"{self.base}/series/{key}"

    def certificate(self, token: str) -> str:
        return f"{self.base}/api/v1/registrations/{token}/certificate.pdf"
