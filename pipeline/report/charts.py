"""Charts for the reports: accessible, vector, byte-identical on every run.

Every chart is drawn with matplotlib's Agg-free SVG backend and returned as SVG text (or PNG
bytes for the workbook). Charts only draw numbers they are given; they never compute a
statistic. Choices that make them readable by everyone:

* the Okabe–Ito palette, which stays distinguishable under the common colour-vision
  deficiencies, with a different marker per series so colour is never the only cue;
* labelled axes, type no smaller than 8 pt at the size printed, intervals drawn on
  every estimate;
* text kept as text (crisp, searchable, light; DejaVu Sans or the viewer's sans-serif)
  and fixed ids and no date in the file
  (``svg.hashsalt`` and ``metadata={"Date": None}``), so two runs give the same bytes.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches
import matplotlib.pyplot as plt

#: Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion, ...
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: The colour of the overall figure (all partnerships) where it is drawn beside the phases.
OVERALL_COLOUR = "#3E4C59"
#: Waves side by side (oldest lightest, newest the overall colour): never a phase's colour.
WAVE_COLOURS = ("#CBD2D9", "#9AA5B1", "#616E7C", OVERALL_COLOUR)
#: Series side by side that are not phases (e.g. participating and leading).
SERIES_COLOURS = (OVERALL_COLOUR, "#7B8794", "#9AA5B1")


def group_colour(position: int) -> str:
    """The colour of the group (phase) at ``position`` of the phase order.

    The one source of the phase colours: the funder charts, the trend charts and the
    workbooks' charts all colour a phase by its place in the phase order.
    """
    return PALETTE[position % len(PALETTE)]
_RC = {
    "svg.hashsalt": "pulsecheck",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#52606D",
    "axes.labelcolor": "#1F2933",
    "xtick.color": "#1F2933",
    "ytick.color": "#1F2933",
    "path.simplify": False,
}


@dataclass(frozen=True)
class Estimate:
    """One estimate to draw: a percentage and its interval (NaN when not shown)."""

    label: str
    value: float
    low: float
    high: float


def _wrap(label: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _finish(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buffer, format=fmt, metadata=metadata, bbox_inches="tight",
                dpi=150 if fmt == "png" else 72)
    plt.close(fig)
    return buffer.getvalue()


def _errors(estimates: Sequence[Estimate]) -> tuple[list[float], list[list[float]]]:
    values, lower, upper = [], [], []
    for e in estimates:
        shown = not math.isnan(e.value)
        values.append(e.value if shown else math.nan)
        lower.append(max(e.value - e.low, 0.0) if shown and not math.isnan(e.low) else 0.0)
        upper.append(max(e.high - e.value, 0.0) if shown and not math.isnan(e.high) else 0.0)
    return values, [lower, upper]


def _axes(height: float, width: float = 7.0):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, 100)
    ax.xaxis.grid(True, color="#D9E2EC", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


#: Widths (inches) the funder charts are drawn at: the printed page's text width, and the
#: narrow column a small chart takes beside its table. Drawn at the size they are printed,
#: so that their type keeps its size (no smaller than 8 pt) on paper.
PAGE_WIDTH, SIDE_WIDTH = 7.0, 3.5
#: Height (inches) of one row of a chart of labelled rows, and of its axes and title.
ROW_HEIGHT, FRAME_HEIGHT = 0.2, 0.75
#: Characters of a row's label per line (the labels take about two fifths of the width).
LABEL_WIDTH = 60
#: Shading of every other row, so that a row can be followed across the panels.
ROW_SHADE = "#F3F5F8"


def bar_chart(estimates: Sequence[Estimate], *, title: str, xlabel: str,
              fmt: str = "svg") -> bytes:
    """Horizontal bars with interval whiskers, one per estimate, in the order given.

    Drawn small (:data:`SIDE_WIDTH`), to sit beside the table of the same figures.
    """
    with plt.rc_context(_RC):
        fig, ax = _axes(0.28 * len(estimates) + FRAME_HEIGHT, SIDE_WIDTH)
        positions = list(range(len(estimates)))[::-1]
        values, errors = _errors(estimates)
        ax.barh(positions, [0 if math.isnan(v) else v for v in values], color=PALETTE[0],
                height=0.6, xerr=errors, error_kw={"ecolor": "#1F2933", "capsize": 3,
                                                   "elinewidth": 1.1})
        for position, value, low in zip(positions, values, errors[1], strict=True):
            if not math.isnan(value):
                # The value beyond its interval, where it is never on top of the bar's end.
                ax.text(value + low + 2, position, f"{value:.0f}%", va="center",
                        ha="left", color="#1F2933", fontsize=8.5)
        ax.set_yticks(positions, [_wrap(e.label, 18) for e in estimates])
        ax.set_xticks([0, 50, 100])
        ax.set_xlabel(xlabel, fontsize=8.5)
        ax.tick_params(labelsize=8.5)
        ax.set_title(title, loc="left", fontweight="bold", fontsize=10)
        return _finish(fig, fmt)


def _panels(labels: Sequence[str], panels: Sequence[tuple[str, Sequence[Estimate]]],
            colours: Sequence[str], *, bars: bool, title: str, xlabel: str,
            fmt: str) -> bytes:
    """Small multiples: one panel per series side by side, the rows' labels once at left.

    Each panel draws its series' estimates (a bar or a dot, with its interval) on the same
    0–100 scale, and is titled with the series' name in its colour, so a reader compares
    the phases row by row without a legend. A hidden estimate (NaN) is marked ``[c]``
    rather than drawn, so an empty place never reads as zero.
    """
    with plt.rc_context(_RC):
        count = max(len(panels), 1)
        wrapped = [_wrap(label, LABEL_WIDTH) for label in labels]
        # A row as tall as its label needs: one line, or a little more when one wraps.
        row = ROW_HEIGHT + 0.07 if any("\n" in label for label in wrapped) else ROW_HEIGHT
        height = row * len(labels) + FRAME_HEIGHT
        fig, axes = plt.subplots(1, count, figsize=(PAGE_WIDTH, height), sharey=True,
                                 squeeze=False)
        base = list(range(len(labels)))[::-1]
        for index, (ax, (name, estimates), colour) in enumerate(
                zip(axes[0], panels, colours, strict=True)):
            ax.set_xlim(0, 100)
            ax.set_ylim(-0.6, len(labels) - 0.4)
            for b in base[::2]:
                ax.axhspan(b - 0.5, b + 0.5, color=ROW_SHADE, zorder=0, linewidth=0)
            ax.set_xticks([0, 50, 100])
            ax.set_xticks([25, 75], minor=True)
            ax.xaxis.grid(True, which="both", color="#D9E2EC", linewidth=0.7)
            ax.set_axisbelow(True)
            values, errors = _errors(estimates)
            shown = [v for v in values if not math.isnan(v)]
            if bars:
                ax.barh(base, [0 if math.isnan(v) else v for v in values], height=0.62,
                        color=colour, xerr=errors,
                        error_kw={"ecolor": "#1F2933", "capsize": 2, "elinewidth": 0.9})
            elif shown:
                ax.errorbar(values, base, xerr=errors, fmt=MARKERS[index % len(MARKERS)],
                            color=colour, markersize=5, capsize=2, elinewidth=1,
                            markeredgecolor="white", markeredgewidth=0.5)
            for position, value in zip(base, values, strict=True):
                if math.isnan(value):
                    ax.text(2, position, "[c]", va="center", ha="left", fontsize=8,
                            color="#52606D")
            ax.set_title(name, loc="left", fontsize=9.5, fontweight="bold", color=colour)
            ax.tick_params(axis="x", labelsize=8.5)
            ax.tick_params(axis="y", length=0, labelsize=8.5)
        axes[0][0].set_yticks(base, wrapped)
        fig.tight_layout(w_pad=1.5)
        # The title above the panels and one axis label under them, placed once the panels
        # are laid out, so that no space is left between them.
        first, last = axes[0][0].get_position(), axes[0][-1].get_position()
        inch = 1 / height
        fig.text((first.x0 + last.x1) / 2, first.y0 - 0.3 * inch, xlabel, fontsize=8.5,
                 ha="center", va="top")
        fig.text(0.0, first.y1 + 0.3 * inch, title, fontsize=10.5, fontweight="bold",
                 ha="left", va="bottom")
        return _finish(fig, fmt)


def paired_bar_chart(labels: Sequence[str], series: Sequence[Sequence[Estimate]],
                     names: Sequence[str], *, title: str, xlabel: str,
                     fmt: str = "svg") -> bytes:
    """Bars for two or more series per label (e.g. participating and leading), one panel
    per series side by side (:func:`_panels`)."""
    # Not phases: shades of the overall colour, so that no series reads as a phase.
    colours = [SERIES_COLOURS[index % len(SERIES_COLOURS)] for index in range(len(series))]
    return _panels(labels, list(zip(names, series, strict=True)), colours, bars=True,
                   title=title, xlabel=xlabel, fmt=fmt)


def dots_by_group_chart(labels: Sequence[str], groups: Sequence[str],
                        estimates: Sequence[Sequence[Estimate]], *, title: str, xlabel: str,
                        fmt: str = "svg") -> bytes:
    """Small multiples by group (e.g. phase): one row per label, one panel per group with
    the group's dot and interval (:func:`_panels`).

    ``estimates[g][i]`` is group ``g``'s estimate for label ``i``; NaN values (suppressed
    cells) are marked ``[c]`` rather than drawn as zero. A single group (a wave without
    phases) is drawn in the overall colour.
    """
    colours = ([OVERALL_COLOUR] if len(groups) == 1
               else [group_colour(g) for g in range(len(groups))])
    return _panels(labels, list(zip(groups, estimates, strict=True)), colours, bars=False,
                   title=title, xlabel=xlabel, fmt=fmt)


def trend_chart(waves: Sequence[str],
                series: Sequence[tuple[str, Sequence[tuple[str, Estimate, str]]]], *,
                title: str, ylabel: str, fmt: str = "svg",
                colours: Sequence[str] | None = None) -> bytes:
    """A trend: one point per wave with its interval, a line only within a series.

    ``series`` is a list of (legend label, [(wave, estimate, mark)]). Points of different
    series are never joined (a measure is not comparable across a break, and two groups
    are two lines); each series gets its own marker and its colour from ``colours`` (by
    default the palette in order), and the legend names it in the caller's plain words.
    A ``mark`` (e.g. ``†``) is written above a point whose wave carries a caveat.
    """
    with plt.rc_context(_RC):
        several = len(series) > 1
        # Half the page wide, as printed two a row; the legend's lines below the axes.
        fig, ax = plt.subplots(figsize=(3.5, 2.15 + (0.12 * len(series) if several else 0)))
        position = {wave: i for i, wave in enumerate(waves)}
        ax.set_xlim(-0.4, len(waves) - 0.6)
        ax.set_ylim(0, 100)
        ax.yaxis.grid(True, color="#D9E2EC", linewidth=0.8)
        ax.set_axisbelow(True)
        for index, (name, points) in enumerate(series):
            xs = [position[w] for w, _, _ in points]
            values, errors = _errors([e for _, e, _ in points])
            colour = colours[index] if colours else PALETTE[index % len(PALETTE)]
            ax.errorbar(xs, values, yerr=errors, fmt="-" + MARKERS[index % len(MARKERS)],
                        color=colour, markersize=6, capsize=3,
                        elinewidth=1.1, linewidth=1.6, markeredgecolor="white",
                        markeredgewidth=0.6, label=name if several else None)
            # The first line's values above its intervals, the others' below theirs, so
            # that two close lines do not print their values on top of each other.
            above = index == 0
            for x, (_, estimate, mark) in zip(xs, points, strict=True):
                if not math.isnan(estimate.value):
                    if above:
                        top = estimate.high if not math.isnan(estimate.high) \
                            else estimate.value
                        ax.text(x, min(top + 3, 96), f"{estimate.value:.0f}%{mark}",
                                ha="center", va="bottom", fontsize=8.5, color="#1F2933")
                    else:
                        low = estimate.low if not math.isnan(estimate.low) else estimate.value
                        ax.text(x, max(low - 3, 1), f"{estimate.value:.0f}%{mark}",
                                ha="center", va="top", fontsize=8.5, color=colour)
        ax.set_xticks(range(len(waves)), list(waves))
        ax.set_ylabel(ylabel)
        ax.set_title(_wrap(title, 40), loc="left", fontweight="bold", fontsize=10)
        if several:
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False,
                      fontsize=8, ncols=2 if sum(len(name) for name, _ in series) <= 36
                      else 1)
        return _finish(fig, fmt)


#: Shades of the map's classes, light to dark (one hue, so order reads without colour names).
MAP_SHADES = ("#DEEBF7", "#9ECAE1", "#4292C6", "#08519C")
#: Tiles with no partnership, and hidden tiles (hatched, so they never read as a share).
MAP_NONE, MAP_HIDDEN = "#F5F7FA", "#FFFFFF"


def _map_class(value: float, bins: Sequence[float]) -> int:
    return next((i for i, edge in enumerate(bins) if value < edge), len(bins))


def tile_map(tiles: Sequence[dict], bins: Sequence[float], labels: dict[str, str], *,
             title: str, fmt: str = "svg") -> bytes:
    """A tile-grid map: one square per area at (``row``, ``col``), shaded by its share.

    ``tiles`` are dicts with ``code``, ``row``, ``col``, ``value`` (a percentage, NaN when
    not shown) and ``status`` (``shown``, ``hidden`` or ``none``). ``bins`` are the upper
    edges of the shading classes. Drawn locally (no map service); every tile carries its
    code, and hidden tiles are hatched, so shade is never the only cue.
    """
    with plt.rc_context(_RC):
        rows = max(t["row"] for t in tiles) + 1
        cols = max(t["col"] for t in tiles) + 1
        # Drawn at the size printed beside its table (about half the page), codes at 8 pt.
        fig, ax = plt.subplots(figsize=(0.27 * cols, 0.27 * rows + 0.8))
        for tile in tiles:
            x, y = tile["col"], rows - 1 - tile["row"]
            hatch, face, ink = None, MAP_NONE, "#52606D"
            if tile["status"] == "shown":
                shade = _map_class(tile["value"], bins)
                face = MAP_SHADES[min(shade, len(MAP_SHADES) - 1)]
                ink = "white" if shade >= 2 else "#1F2933"
            elif tile["status"] == "hidden":
                face, hatch = MAP_HIDDEN, "////"
            ax.add_patch(matplotlib.patches.Rectangle(
                (x + 0.04, y + 0.04), 0.92, 0.92, facecolor=face, edgecolor="#9AA5B1",
                linewidth=0.6, hatch=hatch))
            ax.text(x + 0.5, y + 0.5, tile["code"], ha="center", va="center", fontsize=8,
                    color=ink, fontweight="bold" if tile["status"] == "shown" else "normal")
        ax.set_xlim(0, cols)
        ax.set_ylim(0, rows)
        ax.set_aspect("equal")
        ax.axis("off")
        edges = [0.0, *bins]
        handles = [matplotlib.patches.Patch(
            facecolor=MAP_SHADES[i], edgecolor="#9AA5B1",
            label=(f"{edges[i]:g}–{edges[i + 1]:g}%" if i < len(bins)
                   else f"{edges[-1]:g}% or more")) for i in range(len(bins) + 1)]
        handles += [matplotlib.patches.Patch(facecolor=MAP_HIDDEN, edgecolor="#9AA5B1",
                                             hatch="////", label=labels["hidden"]),
                    matplotlib.patches.Patch(facecolor=MAP_NONE, edgecolor="#9AA5B1",
                                             label=labels["none"])]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncols=3, frameon=False, fontsize=8)
        ax.set_title(title, loc="left", fontweight="bold", fontsize=10)
        return _finish(fig, fmt)
