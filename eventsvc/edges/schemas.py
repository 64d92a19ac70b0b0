"""What the JSON API, the web form and the console accept and return. The OpenAPI document
is generated from these; the form validates with the same schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma
from flask import current_app, request
from marshmallow import fields, validate

from eventsvc.domain.durations import format_duration, parse_duration
from eventsvc.domain.registrations import Applicant
from eventsvc.domain.statuses import CancelReason, EventStatus, OutboxStatus, RegistrationStatus
from eventsvc.domain.vocabulary import (
    AUDIENCES,
    DEFAULT_LANGUAGE,
    DOCUMENTATION_RECIPIENTS,
    LANGUAGES,
    ORGANIZATION_KINDS,
    WAITLIST_MODES,
    NextRegistration,
    WaitlistReason,
)
from eventsvc.mail.addresses import AddressError, ascii_address

# Characters a text field may hold: no control characters (a line break only where the
# field has several lines) and no half of a UTF-16 pair (JSON's \ud800 escapes can make one;
# no database stores it). Written as patterns, so that the OpenAPI document states them.
_ONE_LINE_CHAR = r"[^\x00-\x1f\x7f-\x9f]"
_MULTI_LINE_CHAR = r"[^\x00-\x08\x0b-\x1f\x7f-\x9f]"
_VISIBLE_CHAR = r"[^\s\x00-\x1f\x7f-\x9f]"
# Half of a UTF-16 pair is checked apart from the patterns: not every regex engine that
# reads the OpenAPI document can name one.
_SURROGATE = re.compile("[\ud800-\udfff]")
_ONE_LINE_ERROR = "Must not contain control characters or line breaks."
_MULTI_LINE_ERROR = "Must not contain control characters."


def _text_pattern(allowed: str, required: bool) -> str:
    """Only `allowed` characters; with `required`, at least one that is not white space."""
    return f"^{allowed}*{_VISIBLE_CHAR}{allowed}*$" if required else f"^{allowed}*$"


# Beyond these, date arithmetic (reminder offsets, feeds) would leave datetime's range.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_DURATION = 366 * 86400
MAX_RETENTION = 10 * 366 * 86400


# A required one-line text such as a title, for documents written by hand.
TITLE_PATTERN = _text_pattern(_ONE_LINE_CHAR, True)


def whole_characters(value: str) -> None:
    if _SURROGATE.search(value):
        raise ma.ValidationError("Must be valid Unicode text.")


one_line = validate.Regexp(_text_pattern(_ONE_LINE_CHAR, False), error=_ONE_LINE_ERROR)


def in_range(value: datetime) -> None:
    if not _EARLIEST <= value < _LATEST:
        raise ma.ValidationError("Must lie between 1970 and 2200.")


def known_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ma.ValidationError("Unknown time zone; use an IANA name such as Europe/Berlin.")


def deliverable(value: str) -> None:
    """An address we can mail: ASCII before the @ (SMTPUTF8 is not assumed of the relay);
    a non-ASCII domain is fine, it is mailed in its IDNA form."""
    try:
        ascii_address(value)
    except AddressError as error:
        raise ma.ValidationError(str(error)) from error


def Email(**kwargs: Any) -> fields.Email:
    return fields.Email(validate=[validate.Length(max=254), one_line, deliverable], **kwargs)


def Text(max_length: int, required: bool = False, lines: str = "one", **kwargs: Any) -> fields.String:
    allowed, error = (_ONE_LINE_CHAR, _ONE_LINE_ERROR) if lines == "one" else (_MULTI_LINE_CHAR, _MULTI_LINE_ERROR)
    validators: list[Callable[[Any], Any]] = [
        validate.Length(min=1 if required else 0, max=max_length),
        validate.Regexp(
            _text_pattern(allowed, required), error=error if not required else error + " Must not be blank."
        ),
        whole_characters,
    ]
    return fields.String(required=required, validate=validators, **kwargs)


def Time(**kwargs: Any) -> fields.AwareDateTime:
    return fields.AwareDateTime(format="iso", validate=in_range, **kwargs)


class Duration(fields.Field[int]):
    """An ISO 8601 duration on the wire, whole seconds inside."""

    def __init__(self, *args: Any, maximum: int = MAX_DURATION, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.maximum = maximum

    def _serialize(self, value: Optional[int], attr: Optional[str], obj: Any, **kwargs: Any) -> Optional[str]:
        return None if value is None else format_duration(value)

    def _deserialize(self, value: Any, attr: Optional[str], data: Any, **kwargs: Any) -> int:
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            raise ma.ValidationError(str(error)) from error
        if seconds > self.maximum:
            raise ma.ValidationError(f"Must be at most {format_duration(self.maximum)}.")
        return seconds


class QuestionSchema(ma.Schema):
    """One question of an event (checked further by the domain: unique keys, options, labels)."""

    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"))
    label = fields.Raw(required=True, metadata={"description": 'a text, or {"de": …, "en": …}'})
    type = fields.String(required=True, validate=validate.OneOf(["text", "choice", "multi", "boolean"]))
    required = fields.Boolean(load_default=False)
    options = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=30))
    sensitive = fields.Boolean(load_default=False, metadata={"description": "special categories (Art. 9 DSGVO)"})


class SessionSchema(ma.Schema):
    """A session of an event (checked further by the domain: unique keys, times within the event's)."""

    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"))
    title = Text(200, required=True)
    starts_at = Time(required=True)
    ends_at = Time(required=True)
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))
    location = Text(1000, lines="many", allow_none=True)


class SessionOutSchema(ma.Schema):
    key = fields.String()
    title = fields.String()
    starts_at = fields.DateTime(format="iso")
    ends_at = fields.DateTime(format="iso")
    capacity = fields.Integer()
    location = fields.String(allow_none=True)
    seats_taken = fields.Integer()
    waitlist_length = fields.Integer()


class SessionChoiceSchema(ma.Schema):
    key = fields.String()
    status = fields.String(metadata={"enum": ["confirmed", "waitlisted"]})
    waitlist_position = fields.Integer(allow_none=True)


class SessionsChoiceInSchema(ma.Schema):
    sessions = fields.List(
        fields.String(validate=validate.Length(max=40)), required=True, validate=validate.Length(max=40)
    )


class FeedbackQuestionSchema(QuestionSchema):
    """A feedback question: the registration types, and a rating from 1 to 5."""

    type = fields.String(required=True, validate=validate.OneOf(["text", "choice", "multi", "boolean", "rating"]))


class FeedbackSettingsSchema(ma.Schema):
    questions = fields.List(
        fields.Nested(FeedbackQuestionSchema), required=True, validate=validate.Length(min=1, max=30)
    )
    send_after = Duration(load_default=2 * 3600, metadata={"description": "after ends_at; default PT2H"})
    remind_after = Duration(load_default=7 * 86400, metadata={"description": "after ends_at; default P7D"})
    closes_after = Duration(load_default=21 * 86400, metadata={"description": "after ends_at; default P21D"})


class CertificateSchema(ma.Schema):
    """What an event's certificates of attendance say beyond the event itself."""

    hours = fields.Float(
        required=True,
        validate=validate.Range(min=0, max=1000, min_inclusive=False),
        allow_nan=False,
        metadata={"description": "hours of instruction, > 0"},
    )
    signer = Text(200, required=True)
    topics = fields.List(Text(300, required=True), load_default=list, validate=validate.Length(max=30))

    @ma.validates_schema
    def complete(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Whole even inside a PATCH, whose partial loading reaches nested schemas too."""
        missing = [name for name in ("hours", "signer") if name not in data]
        if missing:
            raise ma.ValidationError({name: ["Missing data for required field."] for name in missing})


class EventInSchema(ma.Schema):
    title = Text(200, required=True)
    description = Text(20000, lines="many", allow_none=True)
    location = Text(1000, lines="many", allow_none=True)
    starts_at = Time(required=True)
    ends_at = Time(required=True)
    timezone = fields.String(validate=[validate.Length(max=64), known_timezone])
    capacity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))
    waitlist = fields.Boolean(attribute="waitlist_enabled")
    registration_opens_at = Time(allow_none=True)
    registration_closes_at = Time(allow_none=True)
    reminders = fields.List(Duration(), attribute="reminder_offsets", validate=validate.Length(max=10))
    documentation_delay = Duration()
    documentation_recipients = fields.String(validate=validate.OneOf(DOCUMENTATION_RECIPIENTS))
    organizer_name = Text(200, allow_none=True)
    organizer_email = Email(allow_none=True)
    status = fields.String(validate=validate.OneOf([EventStatus.DRAFT.value, EventStatus.PUBLISHED.value]))
    waitlist_mode = fields.String(validate=validate.OneOf(WAITLIST_MODES))
    offer_window = Duration(metadata={"description": "at least PT1M; default PT48H"})
    promotion_cutoff = Duration(allow_none=True)
    reconfirm_before = Duration(allow_none=True)
    reconfirm_window = Duration(metadata={"description": "shorter than reconfirm_before; default P3D"})
    questions = fields.List(fields.Nested(QuestionSchema), validate=validate.Length(max=30))
    retention = Duration(
        maximum=MAX_RETENTION,
        metadata={"description": "how long after ends_at personal data is kept; default EVENTSVC_RETENTION"},
    )
    sensitive_retention = Duration(
        maximum=MAX_RETENTION,
        metadata={"description": "the same for answers to sensitive questions, at most retention; default P30D"},
    )
    certificate = fields.Nested(
        CertificateSchema, allow_none=True, metadata={"description": "without it, no certificates are issued"}
    )
    organization_limit = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=100000),
        metadata={"description": "at most this many seats (confirmed and offered) per organization"},
    )
    members_first_until = Time(
        allow_none=True, metadata={"description": "until then only people of member organizations get seats"}
    )
    contingents_release_at = Time(
        allow_none=True, metadata={"description": "from then on organization_limit no longer applies"}
    )
    roles = fields.List(
        Text(200, required=True),
        allow_none=True,
        validate=validate.Length(max=50),
        metadata={"description": "the roles a registration chooses from; without it, role is free text"},
    )
    series = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"),
        metadata={"description": "the key of the series the event belongs to"},
    )
    sessions = fields.List(
        fields.Nested(SessionSchema),
        validate=validate.Length(max=40),
        metadata={"description": "working groups and forums with their own seats and waitlists"},
    )
    feedback = fields.Nested(
        FeedbackSettingsSchema, allow_none=True, metadata={"description": "feedback asked of those who came"}
    )


class EventPatchSchema(EventInSchema):
    """The same fields as EventInSchema, every one optional (used with partial=True)."""


class EventOutSchema(ma.Schema):
    id = fields.Integer()
    slug = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    starts_at = fields.DateTime(format="iso")
    ends_at = fields.DateTime(format="iso")
    timezone = fields.String()
    capacity = fields.Integer()
    waitlist = fields.Boolean()
    registration_opens_at = fields.DateTime(format="iso", allow_none=True)
    registration_closes_at = fields.DateTime(format="iso", allow_none=True)
    registration_open = fields.Boolean()
    reminders = fields.List(Duration())
    documentation_delay = Duration()
    documentation_recipients = fields.String()
    organizer_name = fields.String(allow_none=True)
    organizer_email = fields.String(allow_none=True)
    status = fields.String()
    sequence = fields.Integer()
    seats_taken = fields.Integer()
    seats_left = fields.Integer()
    waitlist_length = fields.Integer()
    next_registration = fields.String(
        metadata={
            "description": "what a registration made now would get, before anything that depends on the person",
            "enum": [value.value for value in NextRegistration],
        }
    )
    waitlist_mode = fields.String()
    offer_window = Duration()
    promotion_cutoff = Duration(allow_none=True)
    reconfirm_before = Duration(allow_none=True)
    reconfirm_window = Duration()
    questions = fields.List(fields.Nested(QuestionSchema))
    retention = Duration()
    sensitive_retention = Duration()
    certificate = fields.Nested(CertificateSchema, allow_none=True)
    organization_limit = fields.Integer(allow_none=True)
    members_first_until = fields.DateTime(format="iso", allow_none=True)
    contingents_release_at = fields.DateTime(format="iso", allow_none=True)
    roles = fields.List(fields.String(), allow_none=True)
    series = fields.String(allow_none=True)
    sessions = fields.List(fields.Nested(SessionOutSchema))
    feedback = fields.Nested(FeedbackSettingsSchema, allow_none=True)
    url = fields.String()
    ics_url = fields.String()


class MessageInSchema(ma.Schema):
    """A message from the organizer to an audience of the event's participants."""

    subject = Text(200, required=True)
    body = Text(20000, lines="many", required=True, metadata={"description": "plain text; blank lines part paragraphs"})
    audience = fields.List(
        fields.String(validate=validate.OneOf(AUDIENCES)),
        required=True,
        validate=validate.Length(min=1, max=5),
        metadata={"description": "absent: confirmed but not checked in"},
    )
    documents = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "ids of the event's documents, sent as personal links"},
    )
    test_to = Email(allow_none=True, metadata={"description": "only a test copy goes to this address"})


class MessageQueuedSchema(ma.Schema):
    id = fields.Integer()
    recipients = fields.Integer()


class MessagePreviewSchema(ma.Schema):
    recipients = fields.Integer()
    subject = fields.String()
    text = fields.String()
    html = fields.String()


class MessageLogSchema(ma.Schema):
    id = fields.Integer()
    subject = fields.String()
    audience = fields.List(fields.String())
    documents = fields.List(fields.Integer())
    test_to = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    sent_by = fields.String(allow_none=True)
    recipients = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer(metadata={"description": "people who cancelled before their email went out"})
    queued = fields.Integer(metadata={"description": "not sent yet"})
    suppressed = fields.Integer(metadata={"description": "not sent: the address is undeliverable"})


class RegistrationCorrectionSchema(ma.Schema):
    """How an organizer corrects a registration's name, organization or role (used with partial=True)."""

    name = Text(200, required=True)
    organization = Text(200, allow_none=True)
    role = Text(200, allow_none=True)


class RegistrationInSchema(ma.Schema):
    name = Text(200, required=True)
    email = Email(required=True)
    organization = Text(200, allow_none=True)
    role = Text(200, allow_none=True)
    consent = fields.Boolean(required=True, validate=validate.Equal(True, error="Consent is required."))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)),
        values=fields.Raw(allow_none=True),
        metadata={"description": "answers to the event's questions, by key"},
    )
    sensitive_consent = fields.Boolean(metadata={"description": "consent to special-category answers (Art. 9 DSGVO)"})
    organization_key = fields.String(
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$"),
        metadata={"description": "the member organization (else matched by the address's domain)"},
    )
    sessions = fields.List(
        fields.String(validate=validate.Length(max=40)),
        validate=validate.Length(max=40),
        metadata={"description": "keys of the event's sessions; two that overlap are a 422"},
    )


class BatchInSchema(ma.Schema):
    people = fields.List(fields.Nested(RegistrationInSchema), required=True, validate=validate.Length(min=1, max=10))


def applicant_from(fields: dict[str, Any]) -> Applicant:
    """The domain's value for a validated registration body. Without `language`, the
    request's Accept-Language decides, else German."""
    language = (
        fields.get("language")
        or request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
        or DEFAULT_LANGUAGE
    )
    return Applicant(
        name=fields["name"].strip(),
        email=fields["email"],
        organization=(fields.get("organization") or "").strip() or None,
        role=(fields.get("role") or "").strip() or None,
        language=language,
        answers=fields.get("answers") or {},
        sensitive_consent=bool(fields.get("sensitive_consent")),
        privacy_url=current_app.config.get("PRIVACY_URL"),
        organization_key=fields.get("organization_key") or None,
        sessions=tuple(fields.get("sessions") or ()),
    )


class LifecycleSchema(ma.Schema):
    answers = fields.Dict(allow_none=True)
    consented_at = fields.DateTime(format="iso", allow_none=True)
    privacy_url = fields.String(allow_none=True)
    sensitive_consent_at = fields.DateTime(format="iso", allow_none=True)
    offer_expires_at = fields.DateTime(format="iso", allow_none=True)
    reconfirmed_at = fields.DateTime(format="iso", allow_none=True)
    cancel_reason = fields.String(allow_none=True, metadata={"enum": [reason.value for reason in CancelReason]})
    waitlist_reason = fields.String(allow_none=True, metadata={"enum": [reason.value for reason in WaitlistReason]})
    organization_key = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    email_undeliverable = fields.Boolean()
    sessions = fields.List(fields.Nested(SessionChoiceSchema))


class RegistrationCreatedSchema(LifecycleSchema):
    id = fields.Integer()
    status = fields.String()
    waitlist_position = fields.Integer(allow_none=True)
    token = fields.String()
    manage_url = fields.String()


class BatchCreatedSchema(ma.Schema):
    registrations = fields.List(fields.Nested(RegistrationCreatedSchema))


class RegistrationOutSchema(RegistrationCreatedSchema):
    name = fields.String()
    email = fields.String()
    organization = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    language = fields.String()
    created_at = fields.DateTime(format="iso")
    invite_url = fields.String()
    event = fields.Nested(EventOutSchema)


class AdminRegistrationSchema(LifecycleSchema):
    id = fields.Integer()
    anonymised = fields.Boolean()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    role = fields.String(allow_none=True)
    language = fields.String()
    status = fields.String()
    waitlist_position = fields.Integer(allow_none=True)
    created_at = fields.DateTime(format="iso")
    confirmed_at = fields.DateTime(format="iso", allow_none=True)
    cancelled_at = fields.DateTime(format="iso", allow_none=True)
    attended = fields.Boolean()
    checked_in_at = fields.DateTime(format="iso", allow_none=True)


class ChangeSchema(ma.Schema):
    at = fields.DateTime(format="iso")
    status = fields.String()
    reason = fields.String(allow_none=True)
    by = fields.String(metadata={"description": "participant, organizer or system"})
    actor = fields.String(allow_none=True, metadata={"description": "the organizer's token or account name"})


class RegistrationListQuerySchema(ma.Schema):
    status = fields.String(validate=validate.OneOf([status.value for status in RegistrationStatus]))
    session = fields.String(
        validate=validate.Length(max=40), metadata={"description": "a session's people (confirmed or waitlisted in it)"}
    )
    format = fields.String(validate=validate.OneOf(["json", "csv"]), load_default="json")
    attended = fields.Boolean()


class PromoteSchema(ma.Schema):
    over_capacity = fields.Boolean(load_default=False, metadata={"description": "promote even when no seat is free"})


class CheckinSchema(ma.Schema):
    attended = fields.Boolean(load_default=True)
    session = fields.String(
        validate=validate.Length(max=40), metadata={"description": "the session attended (and so the event)"}
    )


class OutboxQuerySchema(ma.Schema):
    status = fields.String(validate=validate.OneOf([status.value for status in OutboxStatus]))
    event_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class OutboxMessageSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    event_id = fields.Integer(allow_none=True)
    registration_id = fields.Integer(allow_none=True)
    recipient = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(format="iso")
    message_id = fields.String()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    sent_at = fields.DateTime(format="iso", allow_none=True)


class DocumentLinkSchema(ma.Schema):
    title = Text(200, required=True)
    url = fields.Url(
        required=True,
        schemes={"http", "https"},
        validate=[validate.Length(max=2000), validate.Regexp(r"^https?://[^\s\x00-\x1f\x7f-\x9f]+$")],
        metadata={"format": "uri"},
    )


class DocumentUploadSchema(ma.Schema):
    title = Text(200, required=True)


class DocumentOutSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    url = fields.String(allow_none=True)
    filename = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    created_at = fields.DateTime(format="iso")
    recipients = fields.Integer()
    downloads = fields.Integer()


class SendDocumentsSchema(ma.Schema):
    force = fields.Boolean(load_default=False, metadata={"description": "send even before the event has ended"})


class DeliveryReportSchema(ma.Schema):
    emails_queued = fields.Integer()
    documents_delivered = fields.Integer()


class PersonQuerySchema(ma.Schema):
    email = fields.String(required=True, validate=[validate.Length(min=3, max=254), one_line])


class PersonDataSchema(ma.Schema):
    email = fields.String()
    registrations = fields.List(fields.Dict())
    emails = fields.List(fields.Dict())
    downloads = fields.List(fields.Dict())
    interest = fields.List(fields.Dict(), metadata={"description": "the address's entries on series' interest lists"})


class ErasureReportSchema(ma.Schema):
    registrations = fields.Integer()
    emails = fields.Integer()


class ErasureSchema(ma.Schema):
    at = fields.DateTime(format="iso")
    event_id = fields.Integer(allow_none=True, metadata={"description": "null for entries of an interest list"})
    registrations = fields.Integer()
    reason = fields.String()
    series = fields.String(allow_none=True)
    interest_entries = fields.Integer()


class AdminTokenSchema(ma.Schema):
    name = fields.String()
    created_at = fields.DateTime(format="iso")
    revoked_at = fields.DateTime(format="iso", allow_none=True)


class OrganizationRowSchema(ma.Schema):
    """One organization of a JSON import (checked further, row by row, by the domain)."""

    key = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ORGANIZATION_KINDS)})
    region = fields.String(allow_none=True)
    member = fields.Boolean(required=True)
    email_domains = fields.List(fields.String(), load_default=list)


class OrganizationsImportSchema(ma.Schema):
    organizations = fields.List(fields.Nested(OrganizationRowSchema), required=True, validate=validate.Length(max=5000))


class ImportCountsSchema(ma.Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()


class OrganizationSchema(ma.Schema):
    key = fields.String()
    name = fields.String()
    kind = fields.String()
    region = fields.String(allow_none=True)
    member = fields.Boolean()
    email_domains = fields.List(fields.String())


class OrganizationLookupQuerySchema(ma.Schema):
    q = fields.String(required=True, validate=[validate.Length(min=1, max=100), one_line, whole_characters])


class OrganizationLookupSchema(ma.Schema):
    key = fields.String()
    name = fields.String()


class UndeliverableSchema(ma.Schema):
    email = fields.String()
    at = fields.DateTime(format="iso")
    reason = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": ["dsn", "smtp"]})


class LiftedSchema(ma.Schema):
    email = fields.String()
    lifted = fields.Boolean()


class InterestInSchema(ma.Schema):
    name = Text(200, required=True)
    email = Email(required=True)
    consent = fields.Boolean(required=True, validate=validate.Equal(True, error="Consent is required."))
    language = fields.String(validate=validate.OneOf(LANGUAGES))


class AcceptedSchema(ma.Schema):
    status = fields.String(metadata={"description": "always `accepted`: the same for known and unknown addresses"})


class InterestConfirmedSchema(ma.Schema):
    series = fields.String()
    confirmed_at = fields.DateTime(format="iso")


class InterestEntrySchema(ma.Schema):
    email = fields.String()
    name = fields.String()
    language = fields.String()
    confirmed_at = fields.DateTime(format="iso")


class InterestListSchema(ma.Schema):
    confirmed = fields.Integer()
    entries = fields.List(fields.Nested(InterestEntrySchema))


SERIES_KEY = r"^[a-z][a-z0-9_]{0,39}$"


class ReportQuerySchema(ma.Schema):
    format = fields.String(validate=validate.OneOf(["json", "csv"]), load_default="json")


class RoleCountSchema(ma.Schema):
    role = fields.String(allow_none=True)
    registered = fields.Integer()
    attended = fields.Integer()


class KindCountSchema(ma.Schema):
    kind = fields.String(allow_none=True)
    registered = fields.Integer()
    attended = fields.Integer()


class RegionCountSchema(ma.Schema):
    region = fields.String(allow_none=True)
    registered = fields.Integer()
    attended = fields.Integer()


class SessionCountSchema(ma.Schema):
    key = fields.String()
    confirmed = fields.Integer()
    attended = fields.Integer()


class SummarySchema(ma.Schema):
    de = fields.String()
    en = fields.String()


class EventReportSchema(ma.Schema):
    registered = fields.Integer(metadata={"description": "every registration ever made, cancelled ones included"})
    confirmed = fields.Integer()
    attended = fields.Integer()
    no_shows = fields.Integer(metadata={"description": "confirmed, not checked in"})
    cancelled = fields.Integer()
    waitlisted_ever = fields.Integer()
    organizations_attended = fields.Integer()
    by_role = fields.List(fields.Nested(RoleCountSchema))
    by_kind = fields.List(fields.Nested(KindCountSchema))
    by_region = fields.List(fields.Nested(RegionCountSchema))
    sessions = fields.List(fields.Nested(SessionCountSchema))
    summary = fields.Nested(SummarySchema)


class SeriesEventSchema(ma.Schema):
    id = fields.Integer()
    title = fields.String()
    starts_at = fields.DateTime(format="iso")
    registered = fields.Integer()
    confirmed = fields.Integer()
    attended = fields.Integer()
    waitlisted_ever = fields.Integer()
    organizations_attended = fields.Integer()


class SeriesReportSchema(ma.Schema):
    series = fields.String()
    events = fields.List(fields.Nested(SeriesEventSchema))


class SheetQuerySchema(ma.Schema):
    session = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "a session's sheet"})


class FeedbackInSchema(ma.Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=40)), values=fields.Raw(allow_none=True), required=True
    )


class FeedbackStoredSchema(ma.Schema):
    status = fields.String(metadata={"description": "`answered`"})


class FeedbackQuestionResultSchema(ma.Schema):
    key = fields.String()
    label = fields.Raw()
    type = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    average = fields.Float(allow_none=True)
    texts = fields.List(fields.String())


class FeedbackResultsSchema(ma.Schema):
    invited = fields.Integer()
    answered = fields.Integer()
    questions = fields.List(fields.Nested(FeedbackQuestionResultSchema))
