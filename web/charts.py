"""Geometry of the server-rendered SVG charts (templates: macros/charts.html). No JavaScript:
the SVG is drawn here, carries a <title> and a <desc>, and the page shows the same data as a
table beside it, so the charts are accessible and print as they are."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from core.accounts.models import Network

NETWORK_COLORS = {
    Network.x: "#14171a",
    Network.linkedin: "#0a66c2",
    Network.facebook: "#1877f2",
    Network.instagram: "#c13584",
    Network.mastodon: "#563acc",
    Network.bluesky: "#0560d4",
    Network.manual: "#6c757d",
}
PALETTE = ("#1d4e89", "#e76f51", "#2a9d8f", "#8a5a00", "#6a4c93", "#b5179e", "#3a5a40")

LABEL_WIDTH = 170
BAR_AREA = 300
ROW = 30


@dataclass
class Bar:
    label: str
    value: float
    shown: str  # the value as the page writes it
    y: int
    width: float
    color: str
    # A second, thin mark (e.g. the target share), in the same unit as `value`.
    target: float | None = None
    target_x: float | None = None


@dataclass
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH


def bar_chart(
    items: Sequence[tuple[str, float, str, str | None]],
    *,
    targets: Sequence[float | None] | None = None,
) -> BarChart:
    """Horizontal bars: (label, value, shown value, colour or None) per item."""
    top = max([v for _, v, _, _ in items] + [t or 0 for t in targets or []] + [1])
    bars = []
    for index, (label, value, shown, color) in enumerate(items):
        target = targets[index] if targets else None
        bars.append(
            Bar(
                label=label if len(label) <= 24 else label[:23] + "…",
                value=value,
                shown=shown,
                y=index * ROW + 8,
                width=round(BAR_AREA * value / top, 1),
                color=color or PALETTE[index % len(PALETTE)],
                target=target,
                target_x=(
                    round(LABEL_WIDTH + BAR_AREA * target / top, 1) if target is not None else None
                ),
            )
        )
    return BarChart(bars=bars, width=LABEL_WIDTH + BAR_AREA + 80, height=len(bars) * ROW + 16)


@dataclass
class Series:
    name: str
    color: str
    points: str  # "x,y x,y …" for <polyline>
    dots: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, tooltip


@dataclass
class LineChart:
    series: list[Series]
    width: int
    height: int
    y_min: int
    y_max: int
    first_day: date | None
    last_day: date | None
    left: int = 60
    bottom: int = 30


def line_chart(
    series: Sequence[tuple[str, str | None, Sequence[tuple[date, int]]]],
    *,
    first: date,
    last: date,
    width: int = 560,
    height: int = 220,
) -> LineChart:
    """One line per series: (name, colour or None, [(day, value)])."""
    values = [v for _, _, points in series for _, v in points]
    low, high = (min(values), max(values)) if values else (0, 1)
    if low == high:
        low, high = max(0, low - 1), high + 1
    left, bottom, top_margin, right = 60, 30, 10, 16
    span = max(1, (last - first).days)
    inner_w, inner_h = width - left - right, height - bottom - top_margin

    def xy(day: date, value: int) -> tuple[float, float]:
        x = left + inner_w * (day - first).days / span
        y = top_margin + inner_h * (1 - (value - low) / (high - low))
        return round(x, 1), round(y, 1)

    drawn = []
    for index, (name, color, points) in enumerate(series):
        coords = [(*xy(day, value), f"{day.isoformat()} : {value}") for day, value in points]
        drawn.append(
            Series(
                name=name,
                color=color or PALETTE[index % len(PALETTE)],
                points=" ".join(f"{x},{y}" for x, y, _ in coords),
                dots=coords,
            )
        )
    return LineChart(
        series=drawn,
        width=width,
        height=height,
        y_min=low,
        y_max=high,
        first_day=first,
        last_day=last,
        left=left,
        bottom=bottom,
    )
