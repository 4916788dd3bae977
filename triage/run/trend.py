"""The report's redness-trend plot of one patient: redness area (% of the skin) against the day
since treatment, each photo a point in its level's colour, the photo taken before the treatment
a square at the left labelled "before", undated photos left out. A small palette PNG (~2 KB)
that the report embeds as a data: URI, so the page stays one file.

matplotlib (Agg, no display, no network) is imported on the first plot only: a run without
patients never pays for it. One Figure per plot, never pyplot's global state, so plots made one
after another cannot leak into each other.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from . import config


@dataclass(frozen=True)
class Point:
    """One photo on the plot: day (None: before treatment), redness area (0-1), colour (#rrggbb)."""

    day: int | None
    redness: float
    colour: str


def png(points: list[Point]) -> bytes | None:
    """The plot as PNG bytes (see module docstring); None when fewer than two points can be drawn
    (a single point shows no trend)."""
    dated = [p for p in points if p.day is not None]
    before = [p for p in points if p.day is None]
    if len(dated) + len(before) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from PIL import Image

    days = sorted({p.day for p in dated})
    span = (days[-1] - days[0]) if days else 0
    x_before = (days[0] if days else 0) - max(1.0, 0.15 * span)  # left of the first day, never on it
    xs = [x_before] * len(before) + [p.day for p in dated]
    ys = [100 * p.redness for p in before + dated]
    fig = Figure(figsize=config.TREND_SIZE_IN, dpi=config.TREND_DPI)
    ax = fig.add_subplot()
    ax.plot(xs, ys, color="#9a9a9a", linewidth=1, zorder=1)
    if before:
        ax.scatter(xs[: len(before)], ys[: len(before)], c=[p.colour for p in before], marker="s", s=26, zorder=2)
    if dated:
        ax.scatter(xs[len(before) :], ys[len(before) :], c=[p.colour for p in dated], marker="o", s=26, zorder=2)
    ticks = days if len(days) <= config.TREND_MAX_DAY_TICKS else _spread(days, config.TREND_MAX_DAY_TICKS)
    ax.set_xticks(([x_before] if before else []) + ticks, (["before"] if before else []) + [str(d) for d in ticks])
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(0, max(max(ys) * 1.15, 5))
    ax.set_xlabel("day", fontsize=7, labelpad=1)
    ax.set_ylabel("redness, % of skin", fontsize=7)
    ax.tick_params(labelsize=7, length=2, pad=1)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.16, right=0.98, bottom=0.26, top=0.95)  # fixed: tight_layout would double the time
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    buf.seek(0)
    with Image.open(buf) as im:
        small = im.convert("RGB").quantize(palette=_palette({p.colour for p in points}), dither=Image.Dither.NONE)
    out = io.BytesIO()
    small.save(out, "PNG", optimize=True)
    return out.getvalue()


def _palette(colours: set[str]):
    """A palette image: greys (text, axes, the line) and each point colour with its blends
    towards white (anti-aliased marker edges), so that the levels' colours stay exact."""
    from PIL import Image

    n, k = config.TREND_PNG_GREYS, config.TREND_PNG_BLENDS
    entries = [(round(255 * i / (n - 1)),) * 3 for i in range(n)]
    for c in sorted(colours):
        rgb = [int(c[i : i + 2], 16) for i in (1, 3, 5)]
        entries += [tuple(round(v + (255 - v) * i / k) for v in rgb) for i in range(k)]
    pal = Image.new("P", (1, 1))
    pal.putpalette([v for e in entries[:256] for v in e])
    return pal


def _spread(days: list[int], n: int) -> list[int]:
    """At most n of the sorted days, evenly spread, first and last among them."""
    step = (len(days) - 1) / (n - 1)
    return sorted({days[round(i * step)] for i in range(n)})


def data_uri(data: bytes) -> str:
    """PNG bytes as a data: URI (base64: letters, digits, + / =, nothing to escape)."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
