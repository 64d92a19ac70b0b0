"""Charts for the report and feedback pages, drawn on the server as SVG (pygal). Pages show
them as images with a text alternative, and always their figures as a table beside them, so
that they need no JavaScript and say the same to a screen reader."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from pygal.style import Style

# The console's colours; large enough type to read on a projector.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2937",
    foreground_strong="#1f2937",
    foreground_subtle="#4b5563",
    colors=("#1d3f6e", "#c2410c", "#15803d", "#6b21a8"),
    font_family="DejaVu Sans, Arial, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=16,
    value_font_size=12,
)
# SVGs are served as images: their own policy lets pygal's inline style apply and nothing run.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def _config(**extra: Any) -> dict[str, Any]:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 720,
        "print_values": True,
        "legend_at_bottom": True,
        **extra,
    }


def _whole_ticks(series: Mapping[str, Sequence[int | float]]) -> list[int]:
    """Counts get whole-numbered ticks, about ten of them."""
    top = max((max(values) for values in series.values() if values), default=0)
    step = max(1, math.ceil(top / 10))
    return list(range(0, int(top) + step + 1, step))


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[int | float]]) -> str:
    """Horizontal bars, one group per label (a role, a kind, a district, an option), the
    first label at the top, as in the table beside it."""
    chart = pygal.HorizontalBar(
        **_config(height=max(220, 60 + 34 * len(labels) * max(1, len(series))), y_labels=_whole_ticks(series))
    )
    chart.title = title
    chart.x_labels = list(reversed(labels))
    for name, values in series.items():
        chart.add(name, list(reversed(values)))
    return str(chart.render(is_unicode=True))


def lines(title: str, days: Sequence[str], series: dict[str, Sequence[int]]) -> str:
    """Figures day by day (the seats over time)."""
    chart = pygal.Line(
        **_config(
            height=360,
            print_values=False,
            x_label_rotation=30,
            show_minor_x_labels=False,
            y_labels=_whole_ticks(series),
        )
    )
    chart.title = title
    chart.x_labels = list(days)
    chart.x_labels_major = list(days[:: max(1, len(days) // 10)])
    for name, values in series.items():
        chart.add(name, list(values))
    return str(chart.render(is_unicode=True))
