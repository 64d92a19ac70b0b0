"""The persistent state of the service. Everything here is changed only through the
service functions in this package; the edges read it and render it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from eventsvc.db import Model
from eventsvc.domain.statuses import (
    LIVE,
    EventStatus,
    OutboxStatus,
    RegistrationStatus,
    sql_constant,
    sql_list,
)

__all__ = [
    "AdminToken",
    "AuditEntry",
    "Document",
    "DocumentDelivery",
    "Erasure",
    "Event",
    "EventStatus",
    "FeedbackAnswer",
    "InterestEntry",
    "Organization",
    "OrganizationDomain",
    "Organizer",
    "OrganizerMessage",
    "OutboxMessage",
    "OutboxStatus",
    "Registration",
    "RegistrationChange",
    "RegistrationSession",
    "RegistrationStatus",
    "UndeliverableAddress",
]


def among(column: Any, statuses: tuple[str, ...]) -> ColumnElement[bool]:
    """`column IN ('a', 'b')` with the statuses written as constants, in the words of a
    partial index's predicate: a query that says it so can use that index, where with the
    statuses as parameters SQLite cannot know that it applies."""
    condition: ColumnElement[bool] = column.in_([literal_column(sql_constant(status)) for status in statuses])
    return condition


class Event(Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    # One UID per event for every invite and feed (RFC 5545 §3.8.4.7).
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[Optional[str]] = mapped_column(Text)
    location: Mapped[Optional[str]] = mapped_column(Text)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int]
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean)
    # `auto`: a freed seat goes to the first person waiting; `offer`: it is offered to them
    # and held for `offer_window` seconds.
    waitlist_mode: Mapped[str] = mapped_column(String(8), default="auto")
    offer_window: Mapped[int] = mapped_column(Integer, default=48 * 3600)
    # Seconds before starts_at from which nothing is given or offered automatically.
    promotion_cutoff: Mapped[Optional[int]]
    # Seconds before starts_at at which confirmed people are asked to reconfirm, and how long
    # they have to answer.
    reconfirm_before: Mapped[Optional[int]]
    reconfirm_window: Mapped[int] = mapped_column(Integer, default=3 * 86400)
    # What registering asks beyond name and address (see questions.py).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    registration_opens_at: Mapped[Optional[datetime]]
    registration_closes_at: Mapped[Optional[datetime]]
    # Offsets before starts_at, in seconds, largest first.
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON)
    # Offset (seconds, as a string key) -> the due time whose reminders are all queued; a tick
    # skips those, and moving the event changes the due time, so they are looked at again.
    reminders_queued: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    documentation_delay: Mapped[int]  # seconds after ends_at
    documentation_recipients: Mapped[str] = mapped_column(String(16), default="confirmed")
    organizer_name: Mapped[Optional[str]] = mapped_column(String(200))
    organizer_email: Mapped[Optional[str]] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), index=True)
    # Grows with every change sent to participants (RFC 5545 SEQUENCE).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # The seats taken and the people waiting, kept so that registering need not count them
    # under the event's lock (rules.py). Read them through locking.lock_event_rules, which
    # brings them up to date within a transaction that changed the event's registrations.
    kept_seats_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    kept_waitlist_length: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]
    # The last change that calendar clients should see: DTSTAMP/LAST-MODIFIED of feeds.
    changed_at: Mapped[datetime]
    cancelled_at: Mapped[Optional[datetime]]
    # Set once the automatic documentation delivery has run for this event.
    documentation_delivered_at: Mapped[Optional[datetime]]
    # Seconds after ends_at that its personal data is kept, and its answers to sensitive
    # questions (see retention.py); when the organizer was told of the removal, when the
    # sensitive answers went (up to which registration id so far), and when everything went.
    retention: Mapped[int] = mapped_column(Integer, default=365 * 86400)
    sensitive_retention: Mapped[int] = mapped_column(Integer, default=30 * 86400)
    retention_notice_at: Mapped[Optional[datetime]]
    sensitive_removed_through: Mapped[int] = mapped_column(Integer, default=0)
    sensitive_removed_at: Mapped[Optional[datetime]]
    personal_data_removed_at: Mapped[Optional[datetime]]
    # {"hours", "signer", "topics"}: the event issues certificates of attendance (certificates.py).
    certificate: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    # Contingents (contingents.py): seats per organization, members first until a time, and
    # when the limit ends; when the free seats were last handed on after a window passed.
    organization_limit: Mapped[Optional[int]]
    members_first_until: Mapped[Optional[datetime]]
    contingents_release_at: Mapped[Optional[datetime]]
    windows_applied_at: Mapped[Optional[datetime]]
    # The roles a registration chooses from (report.py); none: free text.
    roles: Mapped[Optional[list[str]]] = mapped_column(JSON)
    # The series the event belongs to (its key), and when its interest list was told of it.
    series: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    series_announced_at: Mapped[Optional[datetime]]
    # Working groups and forums with their own seats (sessions.py): key, title, times (ISO
    # 8601, UTC), capacity, location.
    sessions: Mapped[Optional[list[dict[str, Any]]]] = mapped_column(JSON)
    # {"questions", "send_after", "remind_after", "closes_after"} (feedback.py; seconds after ends_at).
    feedback: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON(none_as_null=True))
    # The report's counts (report.py), kept when the personal data is removed.
    report_snapshot: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    registrations: Mapped[list[Registration]] = relationship(back_populates="event", lazy="raise")


class UndeliverableAddress(Model):
    """An address mail cannot reach (bounces.py): no email goes to it until lifted."""

    __tablename__ = "undeliverable_addresses"

    email_normalized: Mapped[str] = mapped_column(String(254), primary_key=True)
    at: Mapped[datetime]
    reason: Mapped[Optional[str]] = mapped_column(Text)
    # `dsn` (a bounce message) or `smtp` (the server's answer when sending).
    kind: Mapped[str] = mapped_column(String(8))
    # The email whose failure taught it, where known.
    outbox_id: Mapped[Optional[int]]
    # When its organizers were told of it in their daily `bounces` email.
    reported_at: Mapped[Optional[datetime]]


class Registration(Model):
    __tablename__ = "registrations"
    __table_args__ = (
        # At most one live registration per address and event; the database enforces
        # what the service checks under its lock.
        Index(
            "uq_registrations_live_email",
            "event_id",
            "email_normalized",
            unique=True,
            sqlite_where=text(f"status IN ({sql_list(LIVE)})"),
            postgresql_where=text(f"status IN ({sql_list(LIVE)})"),
        ),
        Index("ix_registrations_event_status", "event_id", "status", "id"),
        # An address's registrations: its feed, and how often it registered for an event lately.
        Index("ix_registrations_address", "email_normalized", "event_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254))
    organization: Mapped[Optional[str]] = mapped_column(String(200))
    # The member organization the person belongs to (chosen, or matched by address).
    organization_key: Mapped[Optional[str]] = mapped_column(String(40), index=True)
    role: Mapped[Optional[str]] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="de")
    # The secret of this address's personal calendar feed (every event it holds a seat for):
    # the same for all registrations of one address: the first one's random token is reused.
    feed_token: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    # When the seat was taken (registration or promotion): reminders due before it are not sent.
    confirmed_at: Mapped[Optional[datetime]]
    cancelled_at: Mapped[Optional[datetime]]
    # Why it was cancelled: one of statuses.CancelReason.
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(32))
    # While offered a seat: until when the offer holds.
    offer_expires_at: Mapped[Optional[datetime]]
    # While waitlisted: why (vocabulary.WaitlistReason).
    waitlist_reason: Mapped[Optional[str]] = mapped_column(String(24))
    reconfirmed_at: Mapped[Optional[datetime]]
    # When this person was asked to reconfirm (only those confirmed by then are asked).
    reconfirm_asked_at: Mapped[Optional[datetime]]
    # Answers to the event's questions, by question key, as given.
    answers: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    # When the person agreed to the processing of special-category answers (Art. 9 DSGVO).
    sensitive_consent_at: Mapped[Optional[datetime]]
    # The consent to registering (Art. 7 DSGVO): when, and the privacy notice in force then.
    consented_at: Mapped[Optional[datetime]]
    privacy_url: Mapped[Optional[str]] = mapped_column(String(500))
    # When its personal data was removed (erasure on request, or the end of retention).
    anonymised_at: Mapped[Optional[datetime]]
    # Its creation, the first entry of its history (history.py): as what, by whom.
    registered_as: Mapped[str] = mapped_column(String(16))
    registered_by: Mapped[str] = mapped_column(String(16))
    registered_actor: Mapped[Optional[str]] = mapped_column(String(100))
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[Optional[datetime]]
    # The feedback invitation (feedback.py): its own link's secret, when it was sent, when a
    # reminder went, and when it was answered (the answer itself is stored apart).
    feedback_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    feedback_invited_at: Mapped[Optional[datetime]]
    feedback_reminded_at: Mapped[Optional[datetime]]
    feedback_answered_at: Mapped[Optional[datetime]]

    event: Mapped[Event] = relationship(back_populates="registrations", lazy="joined")
    # Whether the address is undeliverable now (bounces.py): read with the registration, so
    # that every list and page shows the address's current state.
    email_undeliverable: Mapped[bool] = column_property(
        exists().where(UndeliverableAddress.email_normalized == email_normalized)
    )


class RegistrationSession(Model):
    """A person's choice of one session of the event: `confirmed` (a seat in it) or
    `waitlisted` (sessions.py), and whether they came."""

    __tablename__ = "registration_sessions"
    __table_args__ = (
        UniqueConstraint("registration_id", "session_key", name="uq_registration_sessions_choice"),
        Index("ix_registration_sessions_queue", "event_id", "session_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by its registration through the unique (registration, session) index.
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    session_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    attended: Mapped[bool] = mapped_column(Boolean, default=False)


class RegistrationChange(Model):
    """One change of a registration (its creation first): the history a participant or an
    auditor can be shown. Written by the domain in the transaction of the change."""

    __tablename__ = "registration_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    # What happened, in a word: registered, promoted, cancelled, checked_in, … or a cancel reason.
    reason: Mapped[Optional[str]] = mapped_column(String(32))
    # participant, organizer or system
    by: Mapped[str] = mapped_column(String(16))
    # The organizer's token name where an organizer acted.
    actor: Mapped[Optional[str]] = mapped_column(String(100))


class OutboxMessage(Model):
    """An email owed to someone, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # None for an email about no one event (an interest list's confirmation).
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registration_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    # Makes enqueueing idempotent where an email must exist once (reminders, documentation).
    dedupe_key: Mapped[Optional[str]] = mapped_column(String(200), unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[Optional[datetime]]
    # The sender holding the row while it is `sending`; a result is recorded only by it.
    claimed_by: Mapped[Optional[str]] = mapped_column(String(32))
    # The unique part of the Message-ID, fixed when the row is written, so that every retry
    # carries the same Message-ID (the sender adds its domain).
    message_key: Mapped[str] = mapped_column(String(64), unique=True)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[Optional[datetime]]
    # The organizer's message this email carries (kind `message`).
    message_id: Mapped[Optional[int]] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    # An email to an interest list's address (interest.py) rather than to a registration.
    interest_entry_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("interest_entries.id", ondelete="CASCADE"), index=True
    )


class OrganizerMessage(Model):
    """A message from the organizer to an audience of an event's participants (messages.py):
    what it says, to whom, and how many it was queued for. Each recipient's email is an
    outbox row pointing back here."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # Statuses and attendance it went to: confirmed, waitlisted, offered, attended, absent.
    audience: Mapped[list[str]] = mapped_column(JSON)
    document_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Set for a test copy: the one address it went to.
    test_to: Mapped[Optional[str]] = mapped_column(String(254))
    recipients: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # The organizer's token name, where known.
    sent_by: Mapped[Optional[str]] = mapped_column(String(100))


class Erasure(Model):
    """One anonymisation of an event's registrations, or a removal of a series' interest
    list entries: when, how many, why (`request` or `retention`). Holds no personal data, so
    that it can be shown to anyone who audits."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    registrations: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    # For entries of an interest list: the series, and how many entries went.
    series: Mapped[Optional[str]] = mapped_column(String(40))
    interest_entries: Mapped[int] = mapped_column(Integer, default=0)


class Organizer(Model):
    """A person of the office who runs events in the console (organizers.py)."""

    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # argon2id; none until the organizer has set a password through their one-time link.
    password_hash: Mapped[Optional[str]] = mapped_column(String(200))
    # SHA-256 of the one-time link's secret, and until when it works.
    setup_token_hash: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    setup_expires_at: Mapped[Optional[datetime]]
    created_at: Mapped[datetime]
    last_login_at: Mapped[Optional[datetime]]


class AuditEntry(Model):
    """What an organizer did in the console, by name: who, when, what, to which event or
    registration. Written in the transaction of the change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    organizer: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    registration_id: Mapped[Optional[int]] = mapped_column(Integer)
    detail: Mapped[Optional[str]] = mapped_column(String(500))


class AdminToken(Model):
    __tablename__ = "admin_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[Optional[datetime]]


class Document(Model):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[Optional[str]] = mapped_column(Text)
    storage_key: Mapped[Optional[str]] = mapped_column(String(100))
    filename: Mapped[Optional[str]] = mapped_column(String(255))
    content_type: Mapped[Optional[str]] = mapped_column(String(120))
    size: Mapped[Optional[int]]
    created_at: Mapped[datetime]
    deleted_at: Mapped[Optional[datetime]]


class DocumentDelivery(Model):
    """One document owed to one participant, with that person's own download link."""

    __tablename__ = "document_deliveries"
    __table_args__ = (UniqueConstraint("document_id", "registration_id", name="uq_document_deliveries_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    download_count: Mapped[int] = mapped_column(Integer, default=0)

    document: Mapped[Document] = relationship(lazy="joined")


class Organization(Model):
    """A member of the association, or another organization people come from (organizations.py)."""

    __tablename__ = "organizations"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[Optional[str]] = mapped_column(String(200))
    member: Mapped[bool] = mapped_column(Boolean)
    email_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OrganizationDomain(Model):
    """A mail domain and the organization whose addresses it makes: matching an address is
    one look-up of its domain and parent domains."""

    __tablename__ = "organization_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    organization_key: Mapped[str] = mapped_column(ForeignKey("organizations.key", ondelete="CASCADE"), index=True)


class InterestEntry(Model):
    """An address on a series' interest list (interest.py): confirmed by double opt-in."""

    __tablename__ = "interest_entries"
    __table_args__ = (UniqueConstraint("series", "email_normalized", name="uq_interest_entries_series_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    confirmed_at: Mapped[Optional[datetime]]
    consented_at: Mapped[datetime]
    privacy_url: Mapped[Optional[str]] = mapped_column(String(500))
    # When the last interest-confirm email was queued (at most one a day).
    confirm_sent_at: Mapped[Optional[datetime]]


class FeedbackAnswer(Model):
    """One person's feedback on an event, kept apart from who gave it (feedback.py): the
    event and the answers, nothing else."""

    __tablename__ = "feedback_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
