"""What the domain refuses, with a machine-readable code. The edges map these to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail or self.code


class NotFound(DomainError):
    code = "not_found"


class RegistrationClosed(DomainError):
    code = "registration_closed"


class EventFull(DomainError):
    code = "event_full"


class AlreadyRegistered(DomainError):
    code = "already_registered"
    # In a batch, the number of the person (from 0) whose address is taken.
    person: int = 0


class InvalidState(DomainError):
    code = "invalid_state"


class ValidationFailed(DomainError):
    """Input that passed the schema but breaks a rule that needs the stored state."""

    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The input is not valid.")
        self.errors = errors


class RateLimited(DomainError):
    """Too many requests of one kind; `retry_after` seconds until the next may succeed."""

    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class AlreadyExists(DomainError):
    code = "already_exists"


class OfferExpired(DomainError):
    code = "offer_expired"


class EventStarted(DomainError):
    """The event has begun: a participant can no longer cancel (an organizer still can)."""

    code = "event_started"


class Unavailable(DomainError):
    """Something this installation lacks (a system library, say); not the caller's fault."""

    code = "unavailable"


class AlreadyAnswered(DomainError):
    code = "already_answered"


class FeedbackClosed(DomainError):
    code = "feedback_closed"
