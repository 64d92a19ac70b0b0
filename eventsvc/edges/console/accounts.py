"""Who is signed in to the console."""

from __future__ import annotations

from flask_login import UserMixin, current_user

from eventsvc.domain.history import Actor, organizer
from eventsvc.domain.models import Organizer


class SignedIn(UserMixin):
    """The organizer of the current session, as plain values."""

    def __init__(self, organizer_id: int, name: str, email: str) -> None:
        self.id = organizer_id
        self.name = name
        self.email = email

    @classmethod
    def of(cls, account: Organizer) -> SignedIn:
        return cls(account.id, account.name, account.email)


def acting() -> Actor:
    """The signed-in organizer as the histories record them."""
    return organizer(current_user.name)
