"""ISO 8601 durations (P7D, PT1H, P1DT12H, P1W) as whole seconds, and back."""

from __future__ import annotations

import re

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def parse_duration(text: str) -> int:
    """Seconds in `text`; years and months are refused, as their length depends on the date."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if match is None or text.endswith("T"):
        raise ValueError("Not an ISO 8601 duration such as P7D or PT2H (years and months are not supported).")
    return sum(int(value) * _UNITS[unit] for unit, value in match.groupdict().items() if value)


def format_duration(seconds: int) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if value)
    text = "P" + (f"{days}D" if days else "") + (f"T{time_part}" if time_part else "")
    return text if text != "P" else "PT0S"
