"""Small matplotlib charts embedded in Qt (QtAgg canvas; Qt Charts is GPL-only).

Every chart carries its numbers as text (bar labels, point labels) so that colour is never the
only signal, and an accessible name and description with the same figures for screen readers.
Colours follow the window palette so that a dark desktop gets a dark chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

DPI = 100


def _palette_colours() -> tuple[str, str, str, str]:
    """(background, text, bar, reference) from the application palette."""
    app = QApplication.instance()
    palette = app.palette() if app is not None else QPalette()  # type: ignore[attr-defined]
    background = palette.color(QPalette.ColorRole.Base).name()
    text = palette.color(QPalette.ColorRole.Text).name()
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    bar = "#7aa6d8" if dark else "#2f6497"
    reference = "#e0a040" if dark else "#a0522d"
    return background, text, bar, reference


class ChartCanvas(FigureCanvasQTAgg):
    """A figure in a widget; the figure's text and background follow the palette."""

    def __init__(self, width: float, height: float, parent: QWidget | None = None, *, layout: str | None = "constrained") -> None:
        background, text, _, _ = _palette_colours()
        self.figure = Figure(figsize=(width, height), dpi=DPI, facecolor=background, layout=layout)
        super().__init__(self.figure)
        self.setParent(parent)
        self.text_colour = text
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMinimumHeight(int(height * DPI))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def axes(self):  # type: ignore[no-untyped-def]
        background, text, _, _ = _palette_colours()
        ax = self.figure.add_subplot(111)
        ax.set_facecolor(background)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        for spine in ("left", "bottom"):
            ax.spines[spine].set_color(text)
        ax.tick_params(colors=text, labelsize=8)
        ax.title.set_color(text)
        return ax

    def wheelEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        """The charts do not zoom: the mouse wheel scrolls the panel they sit in."""
        event.ignore()

    def describe(self, name: str, description: str) -> None:
        self.setAccessibleName(name)
        self.setAccessibleDescription(description)
        self.setToolTip(description)


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"


def measure_chart(
    title: str,
    dates: Sequence[date],
    values: Sequence[object],
    *,
    unit: str = "",
    threshold: float | None = None,
    threshold_text: str = "",
    parent: QWidget | None = None,
) -> ChartCanvas:
    """One measure across snapshots: points joined by a line, each labelled with its value;
    x labels are the extract dates (dd/mm/yyyy); a dashed, labelled line marks the threshold."""
    # fixed margins: constrained layout costs a second draw, and the panel draws eight of these
    canvas = ChartCanvas(3.6, 1.75, parent, layout=None)
    # No y-axis numbers (each point carries its value, the threshold line its words), so that a
    # narrow chart never shows a clipped "0.0" for 10.0; a long title takes two lines.
    if len(title) > 20 and " " in title:
        cut = title.rfind(" ", 0, 21)
        title = title[:cut] + "\n" + title[cut + 1:] if cut > 0 else title
    two_lines = "\n" in title
    canvas.figure.subplots_adjust(left=0.05, right=0.96, top=0.68 if two_lines else 0.80, bottom=0.17)
    ax = canvas.axes()
    _, text, bar, reference = _palette_colours()
    labels = [d.strftime("%d/%m/%Y") for d in dates]
    numbers = [_number(v) for v in values]
    xs = [i for i, n in enumerate(numbers) if n is not None]
    ys = [n for n in numbers if n is not None]
    ax.set_title(title, fontsize=9, loc="left")
    if ys:
        ax.plot(xs, ys, marker="o", color=bar, linewidth=1.5, markersize=5)
        with_line = ys + ([threshold] if threshold is not None else [])
        span = (max(with_line) - min(with_line)) or max(abs(max(with_line)) * 0.1, 1.0)
        for x, y in zip(xs, ys, strict=True):
            ax.annotate(f"{_fmt(y)}{unit}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize=8, color=text)
        for x, n in enumerate(numbers):
            if n is None:  # a refresh without a figure (e.g. "did not participate") says so
                ax.text(x, 0.04, "no figure", transform=ax.get_xaxis_transform(), ha="center", va="bottom", fontsize=7, color=text)
        low = min(ys + ([threshold] if threshold is not None else []))
        high = max(ys + ([threshold] if threshold is not None else []))
        bottom = low - span * 0.25
        if low >= 0:  # days, percentages and levels are never negative: neither is the axis
            bottom = max(0.0, bottom)
        # room above the highest point for its value label, below the title
        ax.set_ylim(bottom, high + span * 0.6)
    else:
        ax.text(0.5, 0.5, "No figure recorded", transform=ax.transAxes, ha="center", va="center", fontsize=8, color=text)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    if threshold is not None and ys:
        ax.axhline(threshold, color=reference, linestyle="--", linewidth=1)
        # named in words just above the line, inside the plot (never cut off at the edge)
        ax.text(0.02, threshold, threshold_text or "threshold", transform=ax.get_yaxis_transform(),
                va="bottom", ha="left", fontsize=7, color=reference)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=7, rotation=30 if len(labels) > 3 else 0, ha="right" if len(labels) > 3 else "center")
    ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    ax.margins(x=0.15)
    title = title.replace("\n", " ")
    pairs = "; ".join(f"{lab}: {'no figure' if n is None else _fmt(n) + unit}" for lab, n in zip(labels, numbers, strict=True))
    canvas.describe(f"Chart: {title}", f"{title} at each extract: {pairs}." + (f" {threshold_text}." if threshold_text else ""))
    return canvas


def bar_chart(
    title: str,
    labels: Sequence[str],
    counts: Sequence[int],
    total: int,
    *,
    references: dict[str, float] | None = None,
    parent: QWidget | None = None,
) -> ChartCanvas:
    """Horizontal bars, each labelled with its name, count and share of ``total``; a reference
    share (for example the 5 % priority rule of thumb) is a labelled tick on its bar."""
    height = 0.7 + 0.36 * max(len(labels), 1) + (0.15 * len(references or {}))
    canvas = ChartCanvas(5.2, height, parent)
    ax = canvas.axes()
    _, text, bar, reference = _palette_colours()
    ys = list(range(len(labels)))[::-1]
    shares = [100.0 * c / total if total else 0.0 for c in counts]
    ax.barh(ys, shares, color=bar, height=0.6)
    references = references or {}
    top = max([*shares, *references.values(), 10.0])
    for y, count, share in zip(ys, counts, shares, strict=True):
        ax.text(share + top * 0.01, y, f"{count:,} ({share:.1f} %)", va="center", ha="left", fontsize=8, color=text)
    tick_labels = []
    for y, label in zip(ys, labels, strict=True):
        ref = references.get(label)
        if ref is None:
            tick_labels.append(label)
            continue
        # a dashed mark across the bar at the reference share, and the reference named in words
        ax.plot([ref, ref], [y - 0.42, y + 0.42], color=reference, linestyle="--", linewidth=1.6)
        tick_labels.append(f"{label}\n(rule of thumb ≈{ref:g} %)")
    ax.set_yticks(ys)
    ax.set_yticklabels(tick_labels, fontsize=8)
    ax.set_xlim(0, top * 1.35)
    ax.set_xlabel("% of students", fontsize=8, color=text)
    # above the whole figure from its left edge, so that a narrow chart does not cut it off
    canvas.figure.suptitle(title, x=0.02, ha="left", fontsize=9, color=text)
    parts = "; ".join(f"{lab}: {c:,} ({s:.1f} %)" for lab, c, s in zip(labels, counts, shares, strict=True))
    canvas.describe(f"Chart: {title}", f"{title}, of {total:,} students: {parts}.")
    return canvas


def evaluation_chart(
    title: str,
    before: float | None,
    after: float | None,
    comparison_before: float | None,
    comparison_after: float | None,
    *,
    unit: str = "",
    participants_label: str = "Participants",
    comparison_label: str = "Similar students",
    parent: QWidget | None = None,
) -> ChartCanvas:
    """A programme's evaluation: before and after for its participants beside the same for their
    comparison students (similar students not in a programme). Every bar carries its figure and
    its name ("Before", "After") so that colour and hatching are never the only signal."""
    canvas = ChartCanvas(4.3, 2.5, parent)
    ax = canvas.axes()
    _, text, bar, reference = _palette_colours()
    groups = ((participants_label, before, after, bar), (comparison_label, comparison_before, comparison_after, reference))
    xs, heights, colours, hatches, names = [], [], [], [], []
    for g, (_label, b, a, colour) in enumerate(groups):
        for k, (value, name) in enumerate(((b, "Before"), (a, "After"))):
            number = _number(value)
            xs.append(g * 2.6 + k * 1.0)
            heights.append(number)
            colours.append(colour)
            hatches.append("" if k == 0 else "//")
            names.append(name)
    shown = [h for h in heights if h is not None]
    if not shown:
        ax.text(0.5, 0.5, "No figures to show", transform=ax.transAxes, ha="center", va="center", fontsize=9, color=text)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        top = max(shown)
        for x, h, colour, hatch in zip(xs, heights, colours, hatches, strict=True):
            if h is None:
                ax.text(x, 0.02, "no figure", transform=ax.get_xaxis_transform(), ha="center", fontsize=7, color=text)
                continue
            ax.bar(x, h, width=0.8, color=colour, alpha=0.55 if not hatch else 0.95, hatch=hatch, edgecolor=text, linewidth=0.5)
            ax.text(x, h + (abs(top) or 1) * 0.02, f"{_fmt(h)}{unit}", ha="center", va="bottom", fontsize=8, color=text)
        ax.set_xticks(xs)
        ax.set_xticklabels(names, fontsize=8)
        for g, (label, *_rest) in enumerate(groups):
            ax.text(g * 2.6 + 0.5, -0.2, label, transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=9,
                    color=text, fontweight="bold")
        low = min(0.0, min(shown))
        ax.set_ylim(low, max(top * 1.18, 1.0))
        ax.set_xlim(-0.7, 2.6 + 1.7)
    ax.set_title(title, fontsize=9, loc="left")

    def words(value: float | None) -> str:
        number = _number(value)
        return "no figure" if number is None else f"{_fmt(number)}{unit}"

    canvas.describe(
        f"Chart: {title}",
        f"{participants_label}: before {words(before)}, after {words(after)}. "
        f"{comparison_label}: before {words(comparison_before)}, after {words(comparison_after)}.",
    )
    return canvas
