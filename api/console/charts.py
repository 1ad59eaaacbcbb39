"""Charts drawn on the server as inline SVG: no script, no external request, printable.

``bar_chart`` and ``line_chart`` return one ``<svg>`` element (a ``Markup`` for the templates)
with a ``<title>`` and a ``<desc>`` naming what it shows (``role="img"``, labelled by them), two
axes with round-numbered ticks, the category labels under the x axis and, when given, the
target drawn as a dashed line. Every label is XML-escaped; the scale always includes zero and
the target, so a negative or a huge value, a single point or none at all still draws a valid
chart (none: the axes and the ``empty`` phrase). A page shows each chart's figures in a table
beside it as well: the chart is for the eye, the table for a screen reader and for the record.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from unicodedata import east_asian_width

from markupsafe import Markup

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 12, 28, 40  # the plot area's margins, for the axes' labels
TICKS = 5
MAX_POINTS = 60  # a chart shows at most this many categories (the table beside it shows all)
MAX_LABEL = 12  # characters of a category label shown under the axis
CHARACTER_WIDTH = 12  # units a Chinese character of the charts' font takes, with a little space
COLOURS = ("#2a6f97", "#c8553d", "#588157", "#7b2cbf")


def _x(text: object) -> str:
    """Text safe inside an XML element or a quoted attribute."""
    return escape(str(text), quote=True)


def _width(text: str) -> int:
    """Units ``text`` takes in the charts' 11-unit font: a Chinese (wide) character about
    ``CHARACTER_WIDTH``, a digit or Latin letter a little over half of it."""
    return sum(CHARACTER_WIDTH if east_asian_width(c) in "WF" else 7 for c in text)


def _short(label: str, room: float = MAX_LABEL * CHARACTER_WIDTH) -> str:
    """A label cut to fit ``room`` units (and at most ``MAX_LABEL`` characters), its end an
    ellipsis; the table beside the chart holds it whole."""
    room = min(room, MAX_LABEL * CHARACTER_WIDTH)
    if len(label) <= MAX_LABEL and _width(label) <= room:
        return label
    cut = label[: MAX_LABEL - 1]
    while len(cut) > 1 and _width(cut) + CHARACTER_WIDTH > room:
        cut = cut[:-1]
    return cut + "…"


def tick_label(value: float) -> str:
    """A tick's number, short: ``1.2万``, ``3.5亿``, ``-800``, ``0.25``."""
    if not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    for bound, unit in ((1e8, "亿"), (1e4, "万")):
        if magnitude >= bound:
            return f"{value / bound:.4g}{unit}"
    return f"{value:.4g}" if value != int(value) else f"{int(value)}"


def nice_step(span: float) -> float:
    """A round step (1, 2 or 5 × 10^n) that cuts ``span`` into about ``TICKS`` parts."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / TICKS
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)


@dataclass(frozen=True)
class Scale:
    """The y axis: from ``low`` to ``high`` (round numbers, zero between or at an end)."""

    low: float
    high: float
    step: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Scale:
        finite = [v for v in values if math.isfinite(v)]
        lo, hi = min([0.0, *finite]), max([0.0, *finite])
        if lo == hi:
            hi = lo + 1
        step = nice_step(hi - lo)
        return cls(math.floor(lo / step) * step, math.ceil(hi / step) * step, step)

    def y(self, value: float) -> float:
        """The SVG y of ``value`` in the plot area."""
        plot = HEIGHT - TOP - BOTTOM
        if not math.isfinite(value):
            value = 0.0
        share = (value - self.low) / (self.high - self.low)
        return round(TOP + plot * (1 - min(max(share, 0.0), 1.0)), 1)

    def ticks(self) -> list[float]:
        count = min(round((self.high - self.low) / self.step), 4 * TICKS)
        return [self.low + i * self.step for i in range(count + 1)]


def _frame(title: str, description: str, scale: Scale, unit: str) -> list[str]:
    ident = "c" + hashlib.sha1(f"{title}\n{description}".encode()).hexdigest()[:8]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" '
        f'role="img" aria-labelledby="{ident}t {ident}d" font-size="11" font-family="sans-serif">',
        f'<title id="{ident}t">{_x(title)}</title><desc id="{ident}d">{_x(description)}</desc>',
    ]
    for tick in scale.ticks():
        y = scale.y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#ddd"/>'
            f'<text x="{LEFT - 4}" y="{y + 4}" text-anchor="end">{_x(tick_label(tick))}</text>'
        )
    base = scale.y(0)
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#333"/>'
    )
    if unit:
        parts.append(f'<text x="4" y="{TOP - 16}">{_x(unit)}</text>')
    return parts


def _target(parts: list[str], scale: Scale, target: float | None, label: str) -> None:
    if target is None:
        return
    y = scale.y(target)
    parts.append(
        f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="#c00" '
        f'stroke-dasharray="6 4"/><text x="{WIDTH - RIGHT}" y="{y - 3}" text-anchor="end" '
        f'fill="#c00">{_x(label)}</text>'
    )


def _x_labels(parts: list[str], labels: Sequence[str], xs: Sequence[float]) -> None:
    every = max(1, math.ceil(len(labels) / 12))  # at most about twelve labels under the axis
    # As many characters as the room between two labels holds (a Chinese character is about
    # as wide as the 11-unit font is high), so that neighbours never run into each other.
    room = (WIDTH - LEFT - RIGHT) / max(len(labels), 1) * every - 4
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every == 0:
            shown = _x(_short(label, room))
            parts.append(f'<text x="{x}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{shown}</text>')


def _columns(n: int) -> tuple[float, list[float]]:
    """The width of each of ``n`` columns across the plot and the x of each one's middle."""
    width = (WIDTH - LEFT - RIGHT) / max(n, 1)
    return width, [round(LEFT + width * (i + 0.5), 1) for i in range(n)]


def _closed(
    parts: list[str],
    labels: Sequence[str],
    xs: Sequence[float],
    scale: Scale,
    target: float | None,
    label: str,
) -> Markup:
    """The chart's SVG finished: the labels under the axis and the target's dashed line."""
    _x_labels(parts, labels, xs)
    _target(parts, scale, target, label)
    parts.append("</svg>")
    return Markup("".join(parts))


def _empty(parts: list[str], empty: str) -> None:
    parts.append(f'<text x="{(LEFT + WIDTH) // 2}" y="{HEIGHT // 2}" text-anchor="middle">{_x(empty)}</text>')


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    unit: str = "",
    target: float | None = None,
    target_label: str = "",
    empty: str = "—",
) -> Markup:
    """One bar per label (the first ``MAX_POINTS``), with the target as a dashed line."""
    labels, values = list(labels)[:MAX_POINTS], list(values)[:MAX_POINTS]
    scale = Scale.of([*values, *([target] if target is not None else [])])
    parts = _frame(title, f"{title}: {len(values)}", scale, unit)
    if not values:
        _empty(parts, empty)
    width, xs = _columns(len(values))
    base = scale.y(0)
    for label, value, x in zip(labels, values, xs, strict=True):
        y = scale.y(value)
        top, height = min(y, base), round(abs(base - y), 1)
        parts.append(
            f'<rect x="{round(x - width * 0.35, 1)}" y="{top}" width="{round(width * 0.7, 1)}" '
            f'height="{height}" fill="{COLOURS[0]}">'
            f"<title>{_x(label)}: {_x(tick_label(value))}</title></rect>"
        )
    return _closed(parts, labels, xs, scale, target, target_label)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    target: float | None = None,
    target_label: str = "",
    empty: str = "—",
) -> Markup:
    """One line per series over the labels (the first ``MAX_POINTS``), a legend above."""
    labels = list(labels)[:MAX_POINTS]
    lines = [(name, list(values)[: len(labels)]) for name, values in series[: len(COLOURS)]]
    every = [v for _, values in lines for v in values]
    scale = Scale.of([*every, *([target] if target is not None else [])])
    parts = _frame(title, f"{title}: {', '.join(name for name, _ in lines)}", scale, unit)
    if not labels or not every:
        _empty(parts, empty)
    _, xs = _columns(len(labels))
    for n, (name, values) in enumerate(lines):
        colour = COLOURS[n]
        points = " ".join(f"{x},{scale.y(v)}" for x, v in zip(xs, values, strict=False))
        if len(values) > 1:
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, v in zip(xs, values, strict=False):
            parts.append(
                f'<circle cx="{x}" cy="{scale.y(v)}" r="3" fill="{colour}">'
                f"<title>{_x(name)}: {_x(tick_label(v))}</title></circle>"
            )
        parts.append(
            f'<rect x="{LEFT + 8 + n * 130}" y="{TOP - 12}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{LEFT + 22 + n * 130}" y="{TOP - 3}">{_x(_short(name, 104))}</text>'
        )
    return _closed(parts, labels, xs, scale, target, target_label)
