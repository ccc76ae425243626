"""Loss curves as PNG, drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont


def loss_curve(series: dict[str, list[tuple[float, float]]], title: str = "loss", size=(720, 420), x_label: str = "step"):
    """A PIL image with one line per series of (x, value) points (x: steps unless `x_label` says
    otherwise), axes and a legend."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    points = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not points:
        draw.text((10, 10), f"{title}: no data", fill="black", font=font)
        return img
    left, top, right, bottom = 60, 30, size[0] - 20, size[1] - 40
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1 = x1 if x1 > x0 else x0 + 1
    pad = (y1 - y0) * 0.05 or 0.5
    y0, y1 = y0 - pad, y1 + pad

    def xy(step, value):
        return (left + (step - x0) / (x1 - x0) * (right - left), bottom - (value - y0) / (y1 - y0) * (bottom - top))

    draw.rectangle([left, top, right, bottom], outline="black")
    for value in nice_ticks(y0, y1):
        y = xy(x0, value)[1]
        draw.line([left - 4, y, left, y], fill="black")
        draw.text((4, y - 6), f"{value:g}", fill="black", font=font)
    for step in nice_ticks(x0, x1):
        x = xy(step, y0)[0]
        draw.line([x, bottom, x, bottom + 4], fill="black")
        draw.text((x - 12, bottom + 8), f"{step:g}", fill="black", font=font)
    draw.text((left, 8), title, fill="black", font=font)
    draw.text(((left + right) // 2 - 3 * len(x_label), size[1] - 16), x_label, fill="black", font=font)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    for k, (name, pts) in enumerate(series.items()):
        pts = [p for p in pts if math.isfinite(p[1])]
        colour = colours[k % len(colours)]
        if len(pts) > 1:
            draw.line([xy(*p) for p in pts], fill=colour, width=2)
        for p in pts if len(pts) < 40 else []:
            cx, cy = xy(*p)
            draw.ellipse([cx - 2, cy - 2, cx + 2, cy + 2], fill=colour)
        # The legend's line is drawn, not a dash character: the default font has no em dash.
        y = top + 14 + 14 * k
        draw.line([right - 150, y, right - 130, y], fill=colour, width=2)
        draw.text((right - 125, y - 6), name, fill=colour, font=font)
    return img


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) within [lo, hi], about `count`."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    ticks, k = [], 0
    while first + k * step <= hi + 1e-9 * step:
        ticks.append(round(first + k * step, 12))
        k += 1
    return ticks
