"""Pictures of strips: one strip (`pixlm.render.images`, re-exported here) and labelled panels."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from ..render.images import save_png, strip_image

__all__ = ["labelled_panels", "save_png", "strip_image"]


def labelled_panels(panels: list[tuple[str, object]], gap: int = 8):
    """PIL images stacked top to bottom, each under its label, on white."""
    font = ImageFont.load_default()
    label_h = 14
    width = max(img.width for _, img in panels)
    sheet = Image.new("RGB", (width, sum(img.height + label_h + gap for _, img in panels)), "white")
    draw = ImageDraw.Draw(sheet)
    y = 0
    for label, img in panels:
        draw.text((2, y), label, fill="black", font=font)
        sheet.paste(img, (0, y + label_h))
        y += img.height + label_h + gap
    return sheet
