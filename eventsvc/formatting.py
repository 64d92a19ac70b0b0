"""Dates and times as people read them: in the event's time zone, German or English."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time

from eventsvc.domain.vocabulary import HOME_ZONE

DATE_FORMATS = {"de": "EEEE, d. MMMM y", "en": "EEEE, d MMMM y"}


@lru_cache(maxsize=512)
def event_when(starts: datetime, ends: datetime, tz: str, language: str) -> str:
    """'Mittwoch, 2. Dezember 2026, 09:00–16:00 Uhr' (or the English equivalent).
    Cached: every email about an event says it, and Babel's formatting is not cheap."""
    zone = ZoneInfo(tz)
    starts, ends = starts.astimezone(zone), ends.astimezone(zone)
    date_format = DATE_FORMATS.get(language, DATE_FORMATS["de"])
    day = format_date(starts, date_format, locale=language)
    start_time, end_time = format_time(starts, "HH:mm", locale=language), format_time(ends, "HH:mm", locale=language)
    suffix = " Uhr" if language == "de" else ""
    if starts.date() == ends.date():
        return f"{day}, {start_time}–{end_time}{suffix}"
    end_day = format_date(ends, date_format, locale=language)
    return f"{day}, {start_time}{suffix} – {end_day}, {end_time}{suffix}"


# German names of the zone abbreviations people here know; others are shown as they are.
_GERMAN_ZONE_NAMES = {"CET": "MEZ", "CEST": "MESZ"}


def zone_note(starts: datetime, tz: str, language: str) -> str:
    """What to add to a time so that nobody misreads it: nothing for the association's own
    zone, else the zone's abbreviation at that date (in German MEZ/MESZ for CET/CEST)."""
    if tz == HOME_ZONE:
        return ""
    abbreviation = starts.astimezone(ZoneInfo(tz)).tzname() or tz
    if language == "de":
        abbreviation = _GERMAN_ZONE_NAMES.get(abbreviation, abbreviation)
    return f" ({abbreviation})"


MOMENT_FORMATS = {"de": "EEEE, d. MMMM y, HH:mm 'Uhr'", "en": "EEEE, d MMMM y, HH:mm"}


def moment_text(moment: datetime, tz: str, language: str) -> str:
    """'Freitag, 27. November 2026, 14:00 Uhr', in the event's zone (a deadline, say)."""
    local = moment.astimezone(ZoneInfo(tz))
    text = format_datetime(local, MOMENT_FORMATS.get(language, MOMENT_FORMATS["de"]), locale=language)
    return text + zone_note(moment, tz, language)


PLAIN_DATE_FORMATS = {"de": "d. MMMM y", "en": "d MMMM y"}


def date_text(moment: datetime, tz: str, language: str) -> str:
    """'2. Dezember 2026': the day of `moment` in the event's zone."""
    return format_date(moment.astimezone(ZoneInfo(tz)), PLAIN_DATE_FORMATS.get(language, "d. MMMM y"), locale=language)
