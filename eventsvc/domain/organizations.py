"""The association's member organizations: importing them, listing and finding them, and
matching a person to one (the key they chose, else their address's domain).

An import is idempotent and never deletes: each row creates an organization or updates the
one with its key. One bad row rejects the whole import, with the row named (`rows.<n>`,
counting data rows from 1), and nothing is stored.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

import idna
from sqlalchemy import String, bindparam, case, delete, func, or_, select
from sqlalchemy.orm import Session

from eventsvc.domain.errors import ValidationFailed
from eventsvc.domain.models import Organization, OrganizationDomain
from eventsvc.domain.vocabulary import ORGANIZATION_KINDS

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
CSV_HEADER = ["key", "name", "kind", "region", "member", "email_domains"]
SEARCH_LIMIT = 20
_DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True)
class Membership:
    """The organization a person belongs to, as the seat rules need it."""

    key: str
    name: str
    member: bool


def rows_from_csv(text: str) -> list[dict[str, Any]]:
    """The rows of a CSV import as the JSON import gives them; a header other than
    CSV_HEADER, or a row with the wrong number of fields, is refused."""
    try:
        return _csv_rows(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    except csv.Error as error:
        raise ValidationFailed({"rows": [f"Not a readable CSV: {error}."]}) from None


def _csv_rows(reader: Any) -> list[dict[str, Any]]:
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ValidationFailed({"rows": ["The CSV is empty."]}) from None
    if header != CSV_HEADER:
        raise ValidationFailed({"rows": [f"The header must be: {','.join(CSV_HEADER)}."]})
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for number, fields in enumerate(reader, start=1):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(CSV_HEADER):
            errors[f"rows.{number}"] = [f"Expected {len(CSV_HEADER)} fields, found {len(fields)}."]
            rows.append({})
            continue
        row: dict[str, Any] = dict(zip(CSV_HEADER, (field.strip() for field in fields), strict=True))
        member = str(row["member"]).lower()
        row["member"] = {"true": True, "false": False}.get(member, row["member"])
        row["email_domains"] = str(row["email_domains"]).split()
        rows.append(row)
    if errors:
        raise ValidationFailed(errors)
    return rows


def import_organizations(session: Session, rows: list[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Create or update an organization per row → {"created", "updated", "unchanged"}."""
    cleaned = _checked(session, rows)
    existing = {
        organization.key: organization
        for organization in session.scalars(
            select(Organization).where(Organization.key.in_([row["key"] for row in cleaned]))
        )
    }
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in cleaned:
        organization = existing.get(row["key"])
        if organization is None:
            session.add(Organization(**row, created_at=now, updated_at=now))
            counts["created"] += 1
        elif all(getattr(organization, name) == value for name, value in row.items()):
            counts["unchanged"] += 1
            continue
        else:
            for name, value in row.items():
                setattr(organization, name, value)
            organization.updated_at = now
            counts["updated"] += 1
        session.flush()
        session.execute(delete(OrganizationDomain).where(OrganizationDomain.organization_key == row["key"]))
        session.add_all(
            OrganizationDomain(domain=domain, organization_key=row["key"]) for domain in row["email_domains"]
        )
    session.flush()
    return counts


def _checked(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    cleaned: list[dict[str, Any]] = []
    keys: set[str] = set()
    domains: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        problems, clean = _check_row(row)
        if clean.get("key") in keys:
            problems.append(f"The key {clean['key']} appears twice.")
        keys.add(clean.get("key", ""))
        for domain in clean.get("email_domains", []):
            if domain in domains and domains[domain] != clean.get("key"):
                problems.append(f"The domain {domain} is given to {domains[domain]} too.")
            domains[domain] = clean.get("key", "")
        if problems:
            errors[f"rows.{number}"] = problems
        cleaned.append(clean)
    if not errors:
        owners = dict(
            session.execute(
                select(OrganizationDomain.domain, OrganizationDomain.organization_key).where(
                    OrganizationDomain.domain.in_(list(domains))
                )
            ).all()
        )
        for number, row in enumerate(cleaned, start=1):
            taken = [d for d in row["email_domains"] if owners.get(d, row["key"]) != row["key"]]
            if taken:
                errors[f"rows.{number}"] = [f"The domain {d} belongs to {owners[d]}." for d in taken]
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _check_row(row: Any) -> tuple[list[str], dict[str, Any]]:
    if not isinstance(row, dict):
        return ["Must be an object."], {}
    problems: list[str] = []
    unknown = set(row) - set(CSV_HEADER)
    if unknown:
        problems.append(f"Unknown fields: {', '.join(sorted(map(str, unknown)))}.")
    key, name, kind = row.get("key"), row.get("name"), row.get("kind")
    region, member, domains = row.get("region"), row.get("member"), row.get("email_domains", [])
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        problems.append("key: must match [A-Za-z0-9_-]{1,40}.")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or _has_control(name):
        problems.append("name: 1 to 200 characters, no control characters.")
    if kind not in ORGANIZATION_KINDS:
        problems.append(f"kind: one of {', '.join(ORGANIZATION_KINDS)}.")
    if region is not None and (not isinstance(region, str) or len(region) > 200 or _has_control(region)):
        problems.append("region: at most 200 characters.")
    if not isinstance(member, bool):
        problems.append("member: true or false.")
    clean_domains: list[str] = []
    if not isinstance(domains, list) or len(domains) > 50:
        problems.append("email_domains: a list of at most 50 domains.")
    else:
        for domain in domains:
            normal = normalize_domain(domain) if isinstance(domain, str) else None
            if normal is None:
                problems.append(f"email_domains: {str(domain)[:80]!r} is not a domain.")
            elif normal not in clean_domains:
                clean_domains.append(normal)
    clean = {
        "key": key,
        "name": name.strip() if isinstance(name, str) else name,
        "kind": kind,
        "region": (region.strip() or None) if isinstance(region, str) else None,
        "member": member,
        "email_domains": clean_domains,
    }
    return problems, clean


def _has_control(text: str) -> bool:
    return any(ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F for character in text)


def normalize_domain(domain: str) -> Optional[str]:
    """A mail domain in its ASCII (IDNA) form, lower case; None if it is not one."""
    text = domain.strip().lower().rstrip(".")
    try:
        ascii_domain = idna.encode(text, uts46=True).decode("ascii") if not text.isascii() else text
    except idna.IDNAError:
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_domain


def list_organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.name, Organization.key)))


def search(session: Session, query: str) -> list[tuple[str, str]]:
    """(key, name) of at most SEARCH_LIMIT organizations whose name contains `query` or
    whose key starts with it, for the form's look-up."""
    text = query.strip()
    if not text:
        return []
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = session.execute(
        select(Organization.key, Organization.name)
        .where(
            or_(func.lower(Organization.name).like(pattern, escape="\\"), Organization.key.like(prefix, escape="\\"))
        )
        .order_by(Organization.name, Organization.key)
        .limit(SEARCH_LIMIT)
    )
    return [(key, name) for key, name in rows]


def domain_candidates(email: str) -> list[str]:
    """The address's domain and its parent domains, in IDNA form: amt.dresden.de, dresden.de."""
    domain = normalize_domain(email.rpartition("@")[2])
    if domain is None:
        return []
    labels = domain.split(".")
    return [".".join(labels[start:]) for start in range(len(labels) - 1)]


# The organization of a registration as columns of a query that registering makes anyway
# (registrations._STANDING), so that matching costs no round trip: with the parameter
# `org_key` the organization of that key (NULL when there is none), else the one whose domain
# is the longest of `domains`. `org_given` tells an unknown key apart.
_GIVEN = select(Organization.key).where(Organization.key == bindparam("org_key")).scalar_subquery()
# The candidate domains go in as a fixed number of parameters (unused ones NULL), so that the
# statement's text is the same for every address and is prepared once: an expanding list
# would be rendered anew for each registration.
DOMAIN_SLOTS = 8
_BY_DOMAIN_KEY = (
    select(OrganizationDomain.organization_key)
    .where(OrganizationDomain.domain.in_([bindparam(f"domain_{n}", type_=String) for n in range(DOMAIN_SLOTS)]))
    .order_by(func.length(OrganizationDomain.domain).desc())
    .limit(1)
    .scalar_subquery()
)
# The key is worked out once, in a row of its own that the columns below read: written into
# each of them, the domain look-up ran once per column. (OFFSET 0 keeps PostgreSQL from
# writing it into each of them itself.)
_MATCHED = (
    select(
        _GIVEN.label("given"),
        case((bindparam("org_key", type_=String).is_not(None), _GIVEN), else_=_BY_DOMAIN_KEY).label("key"),
    )
    .offset(0)
    .subquery("matched")
)
MATCHED_KEY = _MATCHED.c.key
MEMBERSHIP_COLUMNS = (
    _MATCHED.c.given.label("org_given"),
    MATCHED_KEY.label("org_key"),
    select(Organization.name).where(Organization.key == MATCHED_KEY).scalar_subquery().label("org_name"),
    select(Organization.member).where(Organization.key == MATCHED_KEY).scalar_subquery().label("org_member"),
)


def membership_parameters(key: Optional[str], email: str) -> dict[str, Any]:
    # An address of more levels than there are slots keeps its shortest parent domains: a
    # member's registered domain is one of those (nobody registers a ten-level domain).
    candidates = domain_candidates(email)[-DOMAIN_SLOTS:]
    slots = candidates + [None] * (DOMAIN_SLOTS - len(candidates))
    return {"org_key": key or None, **{f"domain_{n}": domain for n, domain in enumerate(slots)}}


def membership_in(row: Any, key: Optional[str]) -> Optional[Membership]:
    """The membership the MEMBERSHIP_COLUMNS of `row` name; an unknown given key is a 422."""
    if key and row.org_given is None:
        raise ValidationFailed({"organization_key": ["No organization has this key."]})
    if row.org_key is None:
        return None
    return Membership(row.org_key, row.org_name, bool(row.org_member))


def name_of(session: Session, key: Optional[str]) -> Optional[str]:
    if key is None:
        return None
    return session.scalar(select(Organization.name).where(Organization.key == key))


def key_exists(session: Session, key: str) -> bool:
    return session.scalar(select(Organization.key).where(Organization.key == key)) is not None


def names_of(session: Session, keys: set[str]) -> dict[str, Organization]:
    if not keys:
        return {}
    return {o.key: o for o in session.scalars(select(Organization).where(Organization.key.in_(keys)))}


def names_for_form(session: Session) -> list[str]:
    """Every organization's name, for the form's suggestions (names only, no addresses)."""
    return list(session.scalars(select(Organization.name).order_by(Organization.name)))


def key_named(session: Session, text: Optional[str]) -> Optional[str]:
    """The key of the one organization called exactly `text` (case aside), else None."""
    if not text or not text.strip():
        return None
    keys = list(
        session.scalars(
            select(Organization.key).where(func.lower(Organization.name) == " ".join(text.split()).lower()).limit(2)
        )
    )
    return keys[0] if len(keys) == 1 else None
